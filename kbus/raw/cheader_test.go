package raw

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A C program written for the original KBUS must compile against the
// header: clients/c/header_check.c uses every macro and helper it gives
// user space, and builds in each language and standard a user may pick,
// with each compiler the rig has, warnings as errors.
func TestHeaderBuildsForCUsers(t *testing.T) {
	root := filepath.Join("..", "..")
	src := filepath.Join(root, "clients", "c", "header_check.c")
	for _, h := range []string{src, filepath.Join(root, "module", "include", "uapi", "linux", "kbus_defns.h")} {
		if _, err := os.ReadFile(h); err != nil { // so that go test's cache notices a change
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ cc, lang, std string }{
		{"gcc", "c", "c89"}, {"gcc", "c", "c99"}, {"gcc", "c", "c11"}, {"gcc", "c", "gnu11"},
		{"g++", "c++", "c++98"}, {"g++", "c++", "c++11"}, {"g++", "c++", "c++17"},
		{"aarch64-linux-gnu-gcc", "c", "c99"},
		{"arm-linux-gnueabihf-gcc", "c", "c89"}, {"arm-linux-gnueabihf-gcc", "c", "c99"},
	} {
		t.Run(c.cc+"-"+c.std, func(t *testing.T) {
			if _, err := exec.LookPath(c.cc); err != nil {
				if os.Getenv("KBUS_TEST_REQUIRE_TOOLS") != "" {
					t.Fatalf("%s is needed: %v", c.cc, err)
				}
				t.Skipf("%s not installed (scripts/deps.sh installs it)", c.cc)
			}
			out, err := exec.Command(c.cc, "-x", c.lang, "-std="+c.std, "-Wall", "-Wextra", "-Werror",
				"-I", filepath.Join(root, "module", "include", "uapi"), "-c", "-o", filepath.Join(t.TempDir(), "h.o"),
				src).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}
