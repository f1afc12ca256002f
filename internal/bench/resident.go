package bench

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
)

// Residency is which parts of a running process' own executable are in
// its resident set: the clean file pages RSS counts besides the anonymous
// memory (RssFile in /proc/PID/status). A Go binary's are the code, type
// data and function tables its start and its work have touched: each
// package initialiser, and the type descriptors the runtime reads when it
// builds its itab table.
type Residency struct {
	Binary   string
	Resident int64           // bytes of the executable's pages resident
	Sections []ResidentBytes // by ELF section, in address order
	Modules  []ResidentBytes // by Go module (symbols' packages), most resident first
}

// ResidentBytes is how much of one part of the executable is resident, of
// its size.
type ResidentBytes struct {
	Name     string
	Resident int64
	Size     int64
}

// BinaryResidency reads /proc/PID/maps and /proc/PID/pagemap (the present
// bit, readable without privileges) for the mappings of the process'
// executable and attributes each resident page to the ELF section and
// the symbols it holds. Symbols (functions, and data when the binary has
// its ELF symbol table) are grouped by the Go module of their package
// (the executable's build information lists the modules); the standard
// library is "std". Bytes of a page that no symbol covers (function
// tables, string data) are counted by section only.
func BinaryResidency(pid int) (*Residency, error) {
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	st, err := os.Stat(exe)
	if err != nil {
		return nil, fmt.Errorf("binary residency of pid %d: %w", pid, err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, errors.New("binary residency: no inode for the executable")
	}
	path, _ := os.Readlink(exe)
	maps, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, fmt.Errorf("binary residency: %w", err)
	}
	defer maps.Close()
	ranges, err := executableRanges(maps, sys.Ino)
	if err != nil {
		return nil, fmt.Errorf("binary residency: /proc/%d/maps: %w", pid, err)
	}
	pagemap, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return nil, fmt.Errorf("binary residency: %w", err)
	}
	defer pagemap.Close()
	present, err := presentPages(pagemap, ranges, uint64(os.Getpagesize()))
	if err != nil {
		return nil, fmt.Errorf("binary residency: /proc/%d/pagemap: %w", pid, err)
	}

	f, err := elf.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("binary residency: %s: %w", path, err)
	}
	defer f.Close()
	r := &Residency{Binary: path, Resident: int64(len(present.pages)) * int64(present.size)}
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Type == elf.SHT_NOBITS || s.Size == 0 {
			continue
		}
		r.Sections = append(r.Sections, ResidentBytes{Name: s.Name, Size: int64(s.Size), Resident: present.bytes(s.Addr, s.Size)})
	}
	syms, err := goSymbols(f)
	if err != nil {
		return nil, fmt.Errorf("binary residency: %s: %w", path, err)
	}
	modules := newModuleIndex(exe)
	byModule := map[string]*ResidentBytes{}
	for _, s := range syms {
		m := modules.of(symbolPackage(s.name))
		rb := byModule[m]
		if rb == nil {
			rb = &ResidentBytes{Name: m}
			byModule[m] = rb
		}
		rb.Size += int64(s.size)
		rb.Resident += present.bytes(s.addr, s.size)
	}
	for _, rb := range byModule {
		r.Modules = append(r.Modules, *rb)
	}
	sort.Slice(r.Modules, func(i, j int) bool {
		if r.Modules[i].Resident != r.Modules[j].Resident {
			return r.Modules[i].Resident > r.Modules[j].Resident
		}
		return r.Modules[i].Name < r.Modules[j].Name
	})
	return r, nil
}

// symbol is a named address range of the executable.
type symbol struct {
	name       string
	addr, size uint64
}

// goSymbols lists the executable's functions from its Go function table
// (.gopclntab, kept in a binary built with -s as go test and go run
// build theirs) and its data symbols from the ELF symbol table when it
// has one (type descriptors, itabs, package variables).
func goSymbols(f *elf.File) ([]symbol, error) {
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, errors.New("no Go function table (.gopclntab)")
	}
	data, err := pcln.Data()
	if err != nil {
		return nil, err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, err
	}
	out := make([]symbol, 0, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		if fn.End > fn.Entry {
			out = append(out, symbol{fn.Name, fn.Entry, fn.End - fn.Entry})
		}
	}
	elfSyms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, err
	}
	for _, s := range elfSyms {
		// Not the zeroed data (.bss, .noptrbss): no file pages hold it.
		if s.Size == 0 || elf.ST_TYPE(s.Info) != elf.STT_OBJECT || int(s.Section) >= len(f.Sections) || f.Sections[s.Section].Type == elf.SHT_NOBITS {
			continue
		}
		out = append(out, symbol{s.Name, s.Value, s.Size})
	}
	return out, nil
}

// addrRange is a mapping's virtual address range, [start, end).
type addrRange struct{ start, end uint64 }

// executableRanges reads the address ranges that map the file of inode
// ino from /proc/PID/maps ("start-end perms offset dev inode path").
func executableRanges(maps io.Reader, ino uint64) ([]addrRange, error) {
	var out []addrRange
	sc := bufio.NewScanner(maps)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		if n, err := strconv.ParseUint(f[4], 10, 64); err != nil || n != ino {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			return nil, fmt.Errorf("malformed range %q", f[0])
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end < start {
			return nil, fmt.Errorf("malformed range %q", f[0])
		}
		out = append(out, addrRange{start, end})
	}
	return out, sc.Err()
}

// pageSet is a set of resident virtual page numbers, of pages of size
// bytes (the system's: 4 KiB on x86-64, up to 64 KiB on arm64).
type pageSet struct {
	size  uint64
	pages map[uint64]struct{}
}

// presentPages reads the present bit (63) of each page of ranges from a
// /proc/PID/pagemap (8 bytes per virtual page of pageSize bytes).
func presentPages(pagemap io.ReaderAt, ranges []addrRange, pageSize uint64) (pageSet, error) {
	present := pageSet{size: pageSize, pages: map[uint64]struct{}{}}
	for _, r := range ranges {
		first, n := r.start/pageSize, (r.end-r.start)/pageSize
		buf := make([]byte, n*8)
		if _, err := pagemap.ReadAt(buf, int64(first*8)); err != nil && !errors.Is(err, io.EOF) {
			return pageSet{}, err
		}
		for i := range n {
			if binary.LittleEndian.Uint64(buf[i*8:])>>63 == 1 {
				present.pages[first+i] = struct{}{}
			}
		}
	}
	return present, nil
}

// bytes is how many bytes of [addr, addr+size) lie in resident pages.
func (p pageSet) bytes(addr, size uint64) int64 {
	var n int64
	end := addr + size
	for pg := addr / p.size; pg*p.size < end; pg++ {
		if _, ok := p.pages[pg]; ok {
			n += int64(min(end, (pg+1)*p.size) - max(addr, pg*p.size))
		}
	}
	return n
}

// symbolPackage is the import path of the package a Go symbol belongs to:
// "github.com/a/b.(*T).M" and "type:.eq.github.com/a/b.T" are in
// "github.com/a/b", "slices.Clone[go.shape.int]" in "slices", an itab
// ("go:itab.*a/b.T,io.Reader") in its concrete type's package. The
// linker's own "go:" symbols come out whole ("go:func.*").
func symbolPackage(name string) string {
	if strings.HasPrefix(name, "go:") && !strings.HasPrefix(name, "go:itab.") {
		return name // the linker's: go:func.* (function metadata), go:buildinfo
	}
	for _, p := range []string{"go:itab.", "type:.eq.", "type:.hash.", "type:.namedata.", "type:"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			name = rest
			break
		}
	}
	for { // pointer, array and slice prefixes: "*[4]a/b.T"
		name = strings.TrimLeft(name, "*()")
		if !strings.HasPrefix(name, "[") {
			break
		}
		i := strings.IndexByte(name, ']')
		if i < 0 {
			break
		}
		name = name[i+1:]
	}
	if i := strings.IndexAny(name, "[,"); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot >= 0 {
		name = name[:slash+1+dot]
	}
	return strings.ReplaceAll(name, "%2e", ".")
}

// moduleIndex maps package paths to the module that holds them.
type moduleIndex struct{ paths []string } // longest first

func newModuleIndex(exe string) moduleIndex {
	var idx moduleIndex
	if bi, err := buildinfo.ReadFile(exe); err == nil {
		if bi.Main.Path != "" {
			idx.paths = append(idx.paths, bi.Main.Path)
		}
		for _, d := range bi.Deps {
			idx.paths = append(idx.paths, d.Path)
		}
	}
	sort.Slice(idx.paths, func(i, j int) bool { return len(idx.paths[i]) > len(idx.paths[j]) })
	return idx
}

// of is the module of package pkg: the longest module path it lies in;
// "std" for a package whose first element has no dot (the standard
// library and the linker's own symbols); else the package's path.
func (m moduleIndex) of(pkg string) string {
	for _, p := range m.paths {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return p
		}
	}
	if pkg == "main" || strings.HasPrefix(pkg, "go:") {
		return pkg
	}
	if first, _, _ := strings.Cut(pkg, "/"); !strings.Contains(first, ".") {
		return "std"
	}
	return pkg
}

// ReportResidency prints the resident bytes of the executable by section
// and by module (the top most resident; all when top <= 0).
func ReportResidency(w io.Writer, r *Residency, top int) {
	fmt.Fprintf(w, "%s: %.1f MiB of the executable resident\n\n", r.Binary, mibf(r.Resident))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "section\tresident MiB\tsize MiB\t")
	for _, s := range r.Sections {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t\n", s.Name, mibf(s.Resident), mibf(s.Size))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "module (functions, named data)\tresident MiB\tsize MiB\t")
	for i, m := range r.Modules {
		if top > 0 && i == top {
			break
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t\n", m.Name, mibf(m.Resident), mibf(m.Size))
	}
	_ = tw.Flush()
}

func mibf(b int64) float64 { return float64(b) / (1 << 20) }
