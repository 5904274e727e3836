package peers

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// The closure of a program is what the machine's own loader maps for it:
// compared with ldd on this machine's dbus-daemon, with / as the sysroot.
func TestClosureIsWhatTheLoaderMaps(t *testing.T) {
	const daemon = "/usr/bin/dbus-daemon"
	if runtime.GOARCH != "amd64" {
		t.Skip("compares with ldd on an amd64 Debian machine")
	}
	if _, err := os.Stat(daemon); err != nil {
		t.Skip("no dbus-daemon on this machine")
	}
	out, err := exec.Command("ldd", daemon).Output()
	if err != nil {
		t.Skipf("ldd: %v", err)
	}
	var want []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>":
			want = append(want, f[0])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			want = append(want, f[0]) // the loader, by its path
		}
	}
	dirs := []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"}
	libs, err := closure("/", dirs, []string{daemon})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range libs {
		got = append(got, l.name)
		if fi, err := os.Lstat(l.src); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %s is not a file (%v)", l.name, l.src, err)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("closure %v\nldd     %v", got, want)
	}
}

// An absolute link in the sysroot points into the sysroot, not at this
// machine's file of that name.
func TestResolveStaysInTheSysroot(t *testing.T) {
	root := t.TempDir()
	lib := filepath.Join(root, "lib", "x")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lib, "libreal.so.1.2"), []byte("elf"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"libreal.so.1": "libreal.so.1.2", "libabs.so": "/lib/x/libreal.so.1"} {
		if err := os.Symlink(to, filepath.Join(lib, link)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := find(root, []string{filepath.Join(root, "usr"), lib}, "libabs.so")
	if err != nil || got != filepath.Join(lib, "libreal.so.1.2") {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := find(root, []string{lib}, "libnone.so"); err == nil {
		t.Error("found a library that is not there")
	}
}
