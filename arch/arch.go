// Package arch describes the guest architectures the rig builds and boots:
// the kernel's ARCH and cross compiler, Go's GOARCH, and QEMU's machine.
package arch

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/hugelgupf/vmtest/qemu"
)

// Arch describes how to build for and boot one guest architecture.
type Arch struct {
	Name         string    // the rig's name: x86_64, arm64, arm
	KernelArch   string    // the kernel's ARCH
	CrossCompile string    // the kernel's CROSS_COMPILE prefix
	QEMU         qemu.Arch // vmtest's name
	GOARCH       string
	GOARM        string
	Binary       string   // QEMU system emulator
	Machine      []string // machine, CPU and memory arguments
	Console      string   // kernel console device
	NIC          string   // QEMU's virtio network device for this machine
	// Timeout is the default budget for the whole guest run under TCG;
	// emulated ARM is several times slower than x86_64 here.
	Timeout time.Duration
}

var arches = map[string]Arch{
	"x86_64": {
		Name: "x86_64", KernelArch: "x86_64", QEMU: qemu.ArchAMD64, GOARCH: "amd64",
		Binary:  "qemu-system-x86_64",
		Machine: []string{"-m", "1G", "-smp", "2"},
		Console: "ttyS0",
		NIC:     "virtio-net-pci",
		Timeout: 10 * time.Minute,
	},
	"arm64": {
		Name: "arm64", KernelArch: "arm64", CrossCompile: "aarch64-linux-gnu-",
		QEMU: qemu.ArchArm64, GOARCH: "arm64",
		Binary:  "qemu-system-aarch64",
		Machine: []string{"-machine", "virt", "-cpu", "max", "-m", "1G", "-smp", "2"},
		Console: "ttyAMA0",
		NIC:     "virtio-net-pci",
		Timeout: 20 * time.Minute,
	},
	"arm": {
		Name: "arm", KernelArch: "arm", CrossCompile: "arm-linux-gnueabihf-",
		QEMU: qemu.ArchArm, GOARCH: "arm", GOARM: "7",
		Binary:  "qemu-system-arm",
		Machine: []string{"-machine", "virt,highmem=off", "-cpu", "cortex-a15", "-m", "1G", "-smp", "2"},
		Console: "ttyAMA0",
		NIC:     "virtio-net-device", // the armv7 kernel has virtio-mmio, no PCI
		Timeout: 20 * time.Minute,
	},
}

// Lookup returns the settings of the named architecture.
func Lookup(name string) (Arch, error) {
	a, ok := arches[name]
	if !ok {
		return Arch{}, fmt.Errorf("unknown architecture %q (x86_64, arm64, arm)", name)
	}
	return a, nil
}

// Names lists the supported architectures in the rig's order.
func Names() []string { return []string{"x86_64", "arm64", "arm"} }

// Accel returns the accelerator arguments: KVM when the host can run this
// guest natively, TCG otherwise.
func (a Arch) Accel() []string {
	if a.Name == "x86_64" && runtime.GOARCH == "amd64" && kvmUsable() {
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
