package console

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestModuleImportsResolve checks that every named import of the console's
// ES modules is exported by the module it names: a browser refuses the
// whole page otherwise (as it did when `every` moved from rules.js to
// ui.js and two pages still imported it from rules.js).
func TestModuleImportsResolve(t *testing.T) {
	root := filepath.Join("static", "js")
	exportRE := regexp.MustCompile(`(?m)^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)`)
	exportListRE := regexp.MustCompile(`(?m)^export\s*\{([^}]*)\}`)
	importRE := regexp.MustCompile(`(?m)^import\s*\{([^}]*)\}\s*from\s*'([^']+)'`)
	exports := map[string]map[string]bool{}
	sources := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(p)
		sources[rel] = string(b)
		names := map[string]bool{}
		for _, m := range exportRE.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		for _, m := range exportListRE.FindAllStringSubmatch(string(b), -1) {
			for _, n := range strings.Split(m[1], ",") {
				f := strings.Fields(n)
				if len(f) > 0 {
					names[f[len(f)-1]] = true
				}
			}
		}
		exports[rel] = names
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) < 5 {
		t.Fatalf("found only %d modules under %s", len(sources), root)
	}
	for file, src := range sources {
		for _, m := range importRE.FindAllStringSubmatch(src, -1) {
			target := path.Clean(path.Join(path.Dir(file), m[2]))
			names, ok := exports[target]
			if !ok {
				if strings.Contains(target, "/vendor/") || strings.HasPrefix(m[2], "../vendor") {
					continue
				}
				t.Errorf("%s imports %s, which is not a console module", file, m[2])
				continue
			}
			for _, n := range strings.Split(m[1], ",") {
				f := strings.Fields(n)
				if len(f) == 0 {
					continue
				}
				if !names[f[0]] {
					t.Errorf("%s imports %q from %s, which does not export it", file, f[0], m[2])
				}
			}
		}
	}
}
