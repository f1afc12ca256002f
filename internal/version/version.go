// Package version holds the build information of the kansoku binary.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version; overridden at link time with
// -ldflags "-X github.com/kansoku/kansoku/internal/version.Version=...".
var Version = "0.1.0-dev"

// Revision returns the VCS revision the binary was built from, if known.
func Revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
			if len(rev) > 12 {
				rev = rev[:12]
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// String is the one-line version banner printed by `kansoku version`.
func String() string {
	return fmt.Sprintf("kansoku, version %s (revision: %s, go: %s, platform: %s/%s)",
		Version, Revision(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
