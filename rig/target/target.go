// Package target is the rig's table of targets: for each guest
// architecture, how its kernel is built (the kernel's ARCH, cross compiler,
// image and fragments), how Go programs are built for it (GOARCH, GOARM),
// how QEMU boots it (binary, machine, console, NIC) and how long it may
// take. It is the only place these facts are written: the pipeline reads
// the table directly and kernel/build.sh reads it through "rig target env".
//
// A new architecture is a new row here; a board a row of board.go.
package target

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hugelgupf/vmtest/qemu"

	"github.com/kbus-project/kbus/rig/internal/shell"
)

// The rig's architecture names, as ARCH= and -arch take them.
const (
	X86_64 = "x86_64"
	ARM64  = "arm64"
	ARM    = "arm"
)

// Default is the architecture "make qemu-test" boots.
const Default = X86_64

// Version is a kernel version the rig builds, from the tarball of a
// Debian source package (/usr/src/<Source>.tar.xz), with the same
// fragments for every version.
type Version struct {
	Name   string
	Source string
}

var versions = []Version{
	{Name: "6.1", Source: "linux-source-6.1"},
	{Name: "6.12", Source: "linux-source-6.12"},
}

// DefaultVersion is the kernel version when none is named.
const DefaultVersion = "6.1"

// LookupVersion returns the named kernel version.
func LookupVersion(name string) (Version, error) { return lookup(versions, "kernel version", name) }

// VersionNames lists the kernel versions, the default first.
func VersionNames() []string { return names(versions) }

// Go is a Go build target for programs that run in the guest.
type Go struct {
	GOARCH string // amd64, arm64, arm
	GOARM  string // "7" for 32-bit ARM, empty otherwise
}

// Env returns the environment for building Go binaries for the guest: no
// cgo, Linux, and the baseline CPU level that QEMU's CPU models run.
func (g Go) Env() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + g.GOARCH}
	switch {
	case g.GOARCH == "amd64":
		env = append(env, "GOAMD64=v1")
	case g.GOARM != "":
		env = append(env, "GOARM="+g.GOARM)
	}
	return env
}

// String names the target as GOARCH, or GOARCH/vGOARM.
func (g Go) String() string {
	if g.GOARM != "" {
		return g.GOARCH + "/v" + g.GOARM
	}
	return g.GOARCH
}

// Kernel is how the kernel for a target is built.
type Kernel struct {
	Arch         string // the kernel's ARCH=
	CrossCompile string // the kernel's CROSS_COMPILE= prefix, empty for the host
	MakeTarget   string // the image's make target
	Image        string // the image's path in the build tree
	Fragment     string // the target's own fragment in kernel/config/
	// DTSDir is where the build tree's device trees are made; the board
	// rows on this architecture name which ones.
	DTSDir string
}

// QEMU is how a target is booted.
type QEMU struct {
	Arch    qemu.Arch // vmtest's name for the architecture
	Binary  string    // the system emulator
	Machine []string  // machine, CPU, memory and SMP arguments
	Console string    // the kernel's console device
	// KernelArgs are kernel arguments every guest of this machine gets.
	KernelArgs []string
	NIC        string // the virtio network device for this machine
	Block      string // the virtio disk device, for the boards' images
}

// Target is one row of the table.
type Target struct {
	Name   string
	Kernel Kernel
	Go     Go
	// Compat is the 32-bit Go target whose programs this target's kernel
	// also runs when built with CONFIG_COMPAT; nil when there is none.
	Compat *Go
	QEMU   QEMU
	// Timeout is the budget for one guest run of the default spec set
	// under TCG; emulated ARM is several times slower than x86_64 here.
	Timeout time.Duration
}

var armv7 = Go{GOARCH: "arm", GOARM: "7"}

var table = []Target{
	{
		Name: X86_64,
		Kernel: Kernel{Arch: "x86_64", MakeTarget: "bzImage", Image: "arch/x86/boot/bzImage",
			Fragment: "x86_64.config"},
		Go: Go{GOARCH: "amd64"},
		QEMU: QEMU{Arch: qemu.ArchAMD64, Binary: "qemu-system-x86_64",
			Machine: []string{"-m", "1G", "-smp", "2"},
			Console: "ttyS0", NIC: "virtio-net-pci", Block: "virtio-blk-pci",
			// No PCI interrupt routing through ACPI: the guest's virtio
			// devices use MSI-X, and evaluating the pc's _PRT method ran
			// into ACPI's 30 s loop timeout under the debug kernel, a
			// boot to init of 40 s against 9 s without it (default
			// kernel: no difference; docs/testing.md, "What a run costs").
			// tsc=reliable: no clocksource watchdog on the TSC. Under TCG
			// on a loaded host it once found the TSC skewed against the
			// HPET and switched sched_clock at run time; the int3 of that
			// live code patch then hit the other vCPU, which died in an
			// "Oops: int3" (Debian's 6.12, 2026-12-07). The TSC QEMU
			// emulates follows the host's clock.
			KernelArgs: []string{"acpi=noirq", "tsc=reliable"}},
		Timeout: 10 * time.Minute,
	},
	{
		Name: ARM64,
		Kernel: Kernel{Arch: "arm64", CrossCompile: "aarch64-linux-gnu-", MakeTarget: "Image",
			Image: "arch/arm64/boot/Image", Fragment: "arm64.config", DTSDir: "arch/arm64/boot/dts"},
		Go:     Go{GOARCH: "arm64"},
		Compat: &armv7,
		QEMU: QEMU{Arch: qemu.ArchArm64, Binary: "qemu-system-aarch64",
			// Pointer authentication with QEMU's own cheap algorithm instead
			// of emulating QARMA: the guest sees the same feature, and TCG
			// runs it 5-7 % faster (docs/testing.md, "Where the time goes").
			Machine: []string{"-machine", "virt", "-cpu", "max,pauth-impdef=on", "-m", "1G", "-smp", "2"},
			Console: "ttyAMA0", NIC: "virtio-net-pci", Block: "virtio-blk-pci"},
		Timeout: 20 * time.Minute,
	},
	{
		Name: ARM,
		Kernel: Kernel{Arch: "arm", CrossCompile: "arm-linux-gnueabihf-", MakeTarget: "zImage",
			Image: "arch/arm/boot/zImage", Fragment: "arm.config", DTSDir: "arch/arm/boot/dts"},
		Go: armv7,
		QEMU: QEMU{Arch: qemu.ArchArm, Binary: "qemu-system-arm",
			Machine: []string{"-machine", "virt,highmem=off", "-cpu", "cortex-a15", "-m", "1G", "-smp", "2"},
			// The armv7 kernel has virtio over MMIO, no PCI.
			Console: "ttyAMA0", NIC: "virtio-net-device", Block: "virtio-blk-device"},
		Timeout: 20 * time.Minute,
	},
}

// Lookup returns the named target.
func Lookup(name string) (Target, error) { return lookup(table, "architecture", name) }

// MustLookup is Lookup for names that are constants of this package.
func MustLookup(name string) Target {
	t, err := Lookup(name)
	if err != nil {
		panic(err)
	}
	return t
}

// Names lists the targets in the rig's order.
func Names() []string { return names(table) }

// Flavour is a kernel configuration built for every target.
type Flavour struct {
	Name string
	// Fragments are the files of kernel/config/ on top of tinyconfig, in
	// order; ArchFragment stands for the target's own.
	Fragments []string
	// TimeoutFactor stretches a target's budget: the debug kernel's KASAN,
	// lockdep and kmemleak cost several times the run time under TCG.
	TimeoutFactor int
}

// ArchFragment in a flavour's fragment list is the target's own fragment.
const ArchFragment = "${arch}"

var flavours = []Flavour{
	{Name: "default", Fragments: []string{"common.config", ArchFragment}, TimeoutFactor: 1},
	{Name: "debug", Fragments: []string{"common.config", ArchFragment, "debug.config"}, TimeoutFactor: 2},
}

// DefaultFlavour is the kernel flavour when none is named.
const DefaultFlavour = "default"

// LookupFlavour returns the named kernel flavour.
func LookupFlavour(name string) (Flavour, error) { return lookup(flavours, "kernel flavour", name) }

// FlavourNames lists the kernel flavours, the default first.
func FlavourNames() []string { return names(flavours) }

// Fragments returns the fragment files for t in flavour f, in order.
func (t Target) Fragments(f Flavour) []string {
	out := make([]string, len(f.Fragments))
	for i, frag := range f.Fragments {
		if frag == ArchFragment {
			frag = t.Kernel.Fragment
		}
		out[i] = frag
	}
	return out
}

// TimeoutFor returns the guest's budget for t on flavour f.
func (t Target) TimeoutFor(f Flavour) time.Duration {
	return t.Timeout * time.Duration(max(f.TimeoutFactor, 1))
}

// KernelVars returns the facts kernel/build.sh needs to build t's kernel
// in flavour f of version v, as the environment variables it reads.
func (t Target) KernelVars(f Flavour, v Version) map[string]string {
	return map[string]string{
		"KBUS_KERNEL_SOURCE": v.Source,
		"KBUS_KARCH":         t.Kernel.Arch,
		"KBUS_CROSS_COMPILE": t.Kernel.CrossCompile,
		"KBUS_KTARGET":       t.Kernel.MakeTarget,
		"KBUS_KIMAGE":        t.Kernel.Image,
		"KBUS_FRAGMENTS":     strings.Join(t.Fragments(f), " "),
		"KBUS_DTBS":          strings.Join(t.dtbs(), " "),
	}
}

// ShellEnv returns KernelVars as shell assignments, one per line, sorted,
// values quoted for eval: what "rig target env ARCH FLAVOUR KVER" prints.
func (t Target) ShellEnv(f Flavour, v Version) string {
	vars := t.KernelVars(f, v)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, shell.Quote(vars[k]))
	}
	return b.String()
}
