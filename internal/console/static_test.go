package console

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

var (
	exportDecl  = regexp.MustCompile(`export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)`)
	exportList  = regexp.MustCompile(`export\s*\{([^}]*)\}`)
	namedImport = regexp.MustCompile(`import\s*\{([^}]*)\}\s*from\s*['"](\.[^'"]+)['"]`)
)

// Every name a console module imports from another is exported there. A
// browser refuses the whole page otherwise, which only the Chromium
// end-to-end tests would notice.
func TestStaticImportsResolve(t *testing.T) {
	exports := map[string]map[string]bool{}
	sources := map[string]string{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		sources[p] = src
		names := map[string]bool{}
		for _, m := range exportDecl.FindAllStringSubmatch(src, -1) {
			names[m[1]] = true
		}
		for _, m := range exportList.FindAllStringSubmatch(src, -1) {
			for _, n := range strings.Split(m[1], ",") {
				f := strings.Fields(n)
				if len(f) > 0 {
					names[f[len(f)-1]] = true
				}
			}
		}
		exports[p] = names
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) < 5 {
		t.Fatalf("found only %d modules", len(sources))
	}
	for p, src := range sources {
		for _, m := range namedImport.FindAllStringSubmatch(src, -1) {
			target := path.Join(path.Dir(p), m[2])
			names, ok := exports[target]
			if !ok {
				t.Errorf("%s imports from %s, which is not a console module", p, m[2])
				continue
			}
			for _, n := range strings.Split(m[1], ",") {
				f := strings.Fields(n)
				if len(f) > 0 && !names[f[0]] {
					t.Errorf("%s imports %s from %s, which does not export it", p, f[0], m[2])
				}
			}
		}
	}
}
