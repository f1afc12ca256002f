// Package repo locates the module's root directory, where the test
// helpers find what the project's scripts build under .cache/ and the
// deployment files they start peers with.
package repo

import (
	"path/filepath"
	"runtime"
)

// Root is the module's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}
