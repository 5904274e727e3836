package vm

import (
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/target"
)

// A guest on the instruction counter runs TCG on one thread with the
// counter, never KVM: the counter is TCG's.
func TestIcountReplacesTheAccelerator(t *testing.T) {
	c := Config{Target: target.MustLookup(target.X86_64), Kernel: "/k", Initramfs: "/i", Icount: true}
	o, err := c.options()
	if err != nil {
		t.Fatal(err)
	}
	args, err := o.Cmdline()
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(args, " ")
	if !strings.Contains(line, "-accel tcg,thread=single -icount shift=0,sleep=off") || strings.Contains(line, "kvm") ||
		!strings.Contains(line, "-smp 2 -smp 1") {
		t.Errorf("%s", line)
	}
}
