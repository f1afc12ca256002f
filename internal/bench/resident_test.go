package bench

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

// This process' own executable: its code is resident (it runs), no more
// of it than the kernel counts as file-backed RSS, and the pages are
// attributed to the standard library and to this package's module.
func TestBinaryResidencyOfThisProcess(t *testing.T) {
	r, err := BinaryResidency(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if fileRSS := statusBytes(status, "RssFile:"); r.Resident <= 0 || r.Resident > fileRSS {
		t.Fatalf("resident %d bytes of the executable, RssFile %d", r.Resident, fileRSS)
	}
	var text *ResidentBytes
	for i, s := range r.Sections {
		if s.Resident > s.Size {
			t.Errorf("section %s: %d resident of %d", s.Name, s.Resident, s.Size)
		}
		if s.Name == ".text" {
			text = &r.Sections[i]
		}
	}
	if text == nil || text.Resident == 0 {
		t.Fatalf(".text: %+v in %+v", text, r.Sections)
	}
	modules := map[string]ResidentBytes{}
	for _, m := range r.Modules {
		modules[m.Name] = m
	}
	// This test's own functions are in the main module's share.
	for _, name := range []string{"std", "github.com/kansoku/kansoku"} {
		if m := modules[name]; m.Resident == 0 || m.Resident > m.Size {
			t.Errorf("module %q: %+v", name, m)
		}
	}
	var out strings.Builder
	ReportResidency(&out, r, 3)
	if !strings.Contains(out.String(), ".text") || strings.Count(out.String(), "\n") < 6 {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestBinaryResidencyOfNoProcess(t *testing.T) {
	if _, err := BinaryResidency(-1); err == nil {
		t.Fatal("pid -1: no error")
	}
}

// Only the mappings of the executable's inode are read, and only the
// bytes of a symbol that lie in present pages count.
func TestResidentPagesOfASymbol(t *testing.T) {
	maps := strings.Join([]string{
		"00400000-00403000 r-xp 00000000 fd:01 42   /opt/kansoku",
		"00403000-00404000 r--p 00003000 fd:01 42   /opt/kansoku (deleted)",
		"00404000-00405000 rw-p 00000000 00:00 0 ",
		"7f0000000000-7f0000001000 r--p 00000000 fd:01 43   /usr/lib/other.so",
	}, "\n")
	ranges, err := executableRanges(strings.NewReader(maps), 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 2 || ranges[0] != (addrRange{0x400000, 0x403000}) || ranges[1] != (addrRange{0x403000, 0x404000}) {
		t.Fatalf("ranges %+v", ranges)
	}
	// Pages 0x400 and 0x402 present, 0x401 and 0x403 not; page 0x404
	// (not the executable's) present but never read.
	pagemap := make([]byte, 0x405*8)
	for _, pg := range []int{0x400, 0x402, 0x404} {
		binary.LittleEndian.PutUint64(pagemap[pg*8:], 1<<63|12345)
	}
	binary.LittleEndian.PutUint64(pagemap[0x401*8:], 1<<62) // swapped, not present
	const pageSize = 4096
	present, err := presentPages(bytes.NewReader(pagemap), ranges, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	if len(present.pages) != 2 {
		t.Fatalf("present pages %v", present)
	}
	for _, c := range []struct {
		addr, size uint64
		want       int64
	}{
		{0x400000, pageSize, pageSize},
		{0x400ff0, 0x20, 0x10},                     // the last 16 bytes of page 0x400
		{0x400800, 3 * pageSize, 0x800 + pageSize}, // half of 0x400, none of 0x401, all of 0x402, none of 0x403
		{0x401000, pageSize, 0},
		{0x403000, 2 * pageSize, 0},
	} {
		if got := present.bytes(c.addr, c.size); got != c.want {
			t.Errorf("bytes(%#x, %#x) = %#x, want %#x", c.addr, c.size, got, c.want)
		}
	}
}

func TestSymbolPackage(t *testing.T) {
	for name, want := range map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/s3.(*Client).PutObject":  "github.com/aws/aws-sdk-go-v2/service/s3",
		"k8s.io/api/core/v1.init.0":                                    "k8s.io/api/core/v1",
		"type:.eq.github.com/prometheus/prometheus/model/labels.Label": "github.com/prometheus/prometheus/model/labels",
		"go:itab.*github.com/a/b.T,io.Reader":                          "github.com/a/b",
		"slices.Clone[go.shape.[]int,go.shape.int]":                    "slices",
		"github.com/a/b.F[go.shape.string]":                            "github.com/a/b",
		"gopkg.in/telebot%2ev3.(*Bot).Send":                            "gopkg.in/telebot.v3",
		"runtime.text":                                                 "runtime",
		"main.main":                                                    "main",
		"go:func.*":                                                    "go:func.*",
		"*[4]github.com/a/b/types.T":                                   "github.com/a/b/types",
		"[]*k8s.io/api/core/v1.Pod":                                    "k8s.io/api/core/v1",
	} {
		if got := symbolPackage(name); got != want {
			t.Errorf("symbolPackage(%q) = %q, want %q", name, got, want)
		}
	}
	idx := moduleIndex{paths: []string{"github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws-sdk-go-v2"}}
	for pkg, want := range map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/s3/internal/arn": "github.com/aws/aws-sdk-go-v2/service/s3",
		"github.com/aws/aws-sdk-go-v2/aws":                     "github.com/aws/aws-sdk-go-v2",
		"github.com/aws/aws-sdk-go-v2x/foo":                    "github.com/aws/aws-sdk-go-v2x/foo",
		"net/http":                                             "std",
		"main":                                                 "main",
		"go:func.*":                                            "go:func.*",
	} {
		if got := idx.of(pkg); got != want {
			t.Errorf("of(%q) = %q, want %q", pkg, got, want)
		}
	}
}
