package pipeline

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kbus-project/kbus/rig/target"
)

// The C programs build with warnings as errors for every target, as the
// guest images carry them, and for the machine the target table says.
func TestCProgramsBuildForEveryTarget(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	machines := map[string]elf.Machine{"x86_64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM}
	for _, name := range target.Names() {
		t.Run(name, func(t *testing.T) {
			tg := target.MustLookup(name)
			cc := tg.Kernel.CrossCompile + "gcc"
			if _, err := exec.LookPath(cc); err != nil {
				if os.Getenv("KBUS_TEST_REQUIRE_TOOLS") != "" {
					t.Fatalf("%s is needed to build the C client: %v", cc, err)
				}
				t.Skipf("%s not installed (scripts/deps.sh installs it)", cc)
			}
			for _, p := range cPrograms {
				out := filepath.Join(t.TempDir(), p.name)
				if b, err := cCommand(context.Background(), root, tg, p.src, out).CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", p.src, err, b)
				}
				f, err := elf.Open(out)
				if err != nil {
					t.Fatal(err)
				}
				if f.Machine != machines[name] {
					t.Errorf("%s built for %v", p.name, f.Machine)
				}
				if f.Section(".interp") != nil {
					t.Errorf("%s dynamically linked: the guest has no C library", p.name)
				}
				f.Close()
			}
		})
	}
}
