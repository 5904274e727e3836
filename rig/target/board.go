package target

import (
	"path/filepath"
)

// Board is a dev board profile: a disk image the board's own firmware
// boots (docs/boards.md). A board runs an architecture's kernel, module
// and programs; its SoC drivers are in that architecture's fragment and
// its device tree is built from the same kernel tree, so boards never
// cost a kernel build of their own.
type Board struct {
	Name    string
	Arch    string // the target row whose kernel and programs it runs
	Summary string
	// Console is the kernel's console= value; Baud the serial line's speed
	// that a person or rig board-test reads it at.
	Console string
	Baud    int
	// DTB is the device tree, a make target of the kernel tree; empty when
	// the firmware passes its own (QEMU's virt machines).
	DTB    string
	Loader Loader
	// QEMU is how the rig boots the image here, through the firmware;
	// Emulated is false for a board QEMU cannot stand in for.
	QEMU BoardQEMU
	// Hardware is true for a board people own, false for a QEMU machine
	// that only stands in for boards of its architecture.
	Hardware bool
	// Note says what a person should know, e.g. what QEMU does not prove.
	Note string
}

// LoaderKind is how a board's firmware finds the kernel on the image.
type LoaderKind string

// The loaders the rig writes entries for.
const (
	// Extlinux is U-Boot's distro boot: /extlinux/extlinux.conf on the
	// bootable partition.
	Extlinux LoaderKind = "extlinux"
	// SystemdBoot is UEFI: systemd-boot as the removable-media loader of
	// the EFI system partition, with one entry under /loader/entries.
	SystemdBoot LoaderKind = "systemd-boot"
)

// Loader is a board's firmware and boot loader, all from Debian packages.
type Loader struct {
	Kind LoaderKind
	// Package is the Debian package that holds the files below, with
	// ":ARCH" when it is a foreign architecture's (scripts/board-firmware.sh
	// unpacks those without installing them).
	Package string
	// Raw is written into the image at RawOffset bytes, outside the
	// partitions: the boot ROM reads it from there (Allwinner: SPL + U-Boot
	// at 8 KiB).
	Raw       string
	RawOffset int64
	// Firmware is what stands for the board's flash in QEMU (-bios).
	Firmware string
	// EFI is the UEFI program installed as the ESP's default loader.
	EFI string
}

// BoardQEMU is how the rig boots a board's image in QEMU.
type BoardQEMU struct {
	Emulated bool
	// Machine replaces the architecture's machine arguments; nil keeps them.
	Machine []string
	// SD puts the image on the machine's SD card; otherwise it is a virtio
	// disk (the architecture's Block device).
	SD bool
	// Firmware is the -bios file when it is not the loader's (UEFI).
	Firmware string
}

var boards = []Board{
	{
		Name: "qemu-arm64", Arch: ARM64,
		Summary: "QEMU arm64 virt with U-Boot's qemu_arm64 build, distro boot from a virtio disk",
		Console: "ttyAMA0", Baud: 115200,
		Loader: Loader{Kind: Extlinux, Package: "u-boot-qemu",
			Firmware: "/usr/lib/u-boot/qemu_arm64/u-boot.bin"},
		QEMU: BoardQEMU{Emulated: true},
	},
	{
		Name: "qemu-arm", Arch: ARM,
		Summary: "QEMU 32-bit arm virt with U-Boot's qemu_arm build, distro boot from a virtio disk",
		Console: "ttyAMA0", Baud: 115200,
		Loader: Loader{Kind: Extlinux, Package: "u-boot-qemu",
			Firmware: "/usr/lib/u-boot/qemu_arm/u-boot.bin"},
		QEMU: BoardQEMU{Emulated: true},
	},
	{
		Name: "orangepi", Arch: ARM, Hardware: true,
		Summary: "Orange Pi PC (Allwinner H3, Cortex-A7): SPL and U-Boot at 8 KiB on the SD card, distro boot",
		Console: "ttyS0,115200", Baud: 115200,
		DTB: "sun8i-h3-orangepi-pc.dtb",
		Loader: Loader{Kind: Extlinux, Package: "u-boot-sunxi:armhf",
			// Debian builds no orangepi_pc U-Boot; the Plus is the same H3
			// SoC, and the extlinux entry names the PC's device tree.
			Raw: "/usr/lib/u-boot/orangepi_plus/u-boot-sunxi-with-spl.bin", RawOffset: 8 << 10},
		QEMU: BoardQEMU{Emulated: true, SD: true, Machine: []string{"-machine", "orangepi-pc", "-m", "1G"}},
		Note: "QEMU's orangepi-pc machine runs the H3 boot ROM path from the SD image; " +
			"on a real Orange Pi PC, U-Boot's orangepi_pc build is the exact match (Debian ships the Plus's)",
	},
	{
		Name: "pc-x86_64", Arch: X86_64, Hardware: true,
		Summary: "a UEFI PC: the EFI system partition with systemd-boot starting the kernel's EFI stub",
		Console: "ttyS0,115200", Baud: 115200,
		Loader: Loader{Kind: SystemdBoot, Package: "systemd-boot-efi",
			EFI: "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"},
		QEMU: BoardQEMU{Emulated: true, Firmware: "/usr/share/ovmf/OVMF.fd"},
	},
}

// LookupBoard returns the named board profile.
func LookupBoard(name string) (Board, error) { return lookup(boards, "board", name) }

// BoardNames lists the board profiles in the table's order.
func BoardNames() []string { return names(boards) }

// Target is the architecture row the board runs.
func (b Board) Target() Target { return MustLookup(b.Arch) }

// QEMUFirmware is the -bios file that stands for the board's flash in
// QEMU, with the loader's package unpacked at root; empty for a board
// whose boot ROM reads its loader from the image.
func (b Board) QEMUFirmware(root string) string {
	switch {
	case b.QEMU.Firmware != "":
		return b.QEMU.Firmware
	case b.Loader.Firmware != "":
		return filepath.Join(root, b.Loader.Firmware)
	}
	return ""
}

// dtbs lists the device trees t's kernel build makes for its boards.
func (t Target) dtbs() []string {
	var out []string
	for _, b := range boards {
		if b.Arch == t.Name && b.DTB != "" {
			out = append(out, b.DTB)
		}
	}
	return out
}
