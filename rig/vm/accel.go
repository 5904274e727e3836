package vm

import (
	"os"
	"runtime"
	"strings"

	"github.com/kbus-project/kbus/rig/target"
)

// Accel returns the accelerator arguments for t: KVM when the host can run
// the guest natively, TCG otherwise.
func Accel(t target.Target) []string {
	if t.Name == target.X86_64 && runtime.GOARCH == t.Go.GOARCH && kvmUsable() {
		return []string{"-enable-kvm", "-cpu", "host"}
	}
	return []string{"-accel", "tcg"}
}

// kvmUsable reports whether KVM can really run guests here: /dev/kvm opens
// and the CPU has hardware virtualisation. Some virtual machines expose a
// /dev/kvm without vmx/svm whose guests abort or hang; TCG is used there.
func kvmUsable() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, flag := range strings.Fields(string(cpuinfo)) {
		if flag == "vmx" || flag == "svm" {
			return true
		}
	}
	return false
}
