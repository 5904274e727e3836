// Package version is the project's version as the Go tools report it: the
// one scripts/version.sh derives from git describe, which the Makefile and
// the rig give the linker (-X .../internal/version.Version=...). A binary
// built without it derives the same form from the VCS revision Go records.
package version

import (
	"runtime/debug"
	"strings"
)

// Version is set at link time; see the package documentation.
var Version string

// String returns the version, e.g. 0.0.0+g1234567890ab or
// 0.2.0+5.g1234567890ab.dirty.
func String() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "0.0.0+unknown"
	}
	// go install MODULE/cmd/kbus@VERSION records the module's version.
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ".dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "0.0.0+unknown"
	}
	return "0.0.0+g" + rev + dirty
}

// LinkFlag is the go build flag that sets Version to v.
func LinkFlag(v string) string {
	return "-ldflags=-X github.com/kbus-project/kbus/internal/version.Version=" + v
}
