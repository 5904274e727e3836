package target

import (
	"strings"
	"testing"
)

func TestEveryBoardIsComplete(t *testing.T) {
	for _, name := range BoardNames() {
		b, err := LookupBoard(name)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := Lookup(b.Arch)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if b.Console == "" || b.Baud == 0 || b.Summary == "" || b.Loader.Package == "" {
			t.Errorf("%s is missing a fact: %+v", name, b)
		}
		switch b.Loader.Kind {
		case Extlinux:
			if (b.Loader.Firmware == "") == (b.Loader.Raw == "") {
				t.Errorf("%s: U-Boot either stands for the flash (-bios) or sits on the card, not both or neither", name)
			}
		case SystemdBoot:
			if b.Loader.EFI == "" || b.QEMU.Firmware == "" {
				t.Errorf("%s: a UEFI board needs its loader and QEMU's UEFI firmware", name)
			}
		default:
			t.Errorf("%s: loader %q", name, b.Loader.Kind)
		}
		if b.DTB != "" && tg.Kernel.DTSDir == "" {
			t.Errorf("%s: a device tree on %s, which has no DTSDir", name, b.Arch)
		}
		if !b.QEMU.SD && tg.QEMU.Block == "" {
			t.Errorf("%s: a virtio disk on %s, which names no block device", name, b.Arch)
		}
	}
	if _, err := LookupBoard("beaglebone"); err == nil || !strings.Contains(err.Error(), "qemu-arm64") {
		t.Errorf("unknown board: %v", err)
	}
}

// A board's device tree is built with its architecture's kernel.
func TestBoardDeviceTreesAreBuiltWithTheKernel(t *testing.T) {
	def, _ := LookupFlavour(DefaultFlavour)
	v, _ := LookupVersion(DefaultVersion)
	if got := MustLookup(ARM).KernelVars(def, v)["KBUS_DTBS"]; got != "sun8i-h3-orangepi-pc.dtb" {
		t.Errorf("arm KBUS_DTBS = %q", got)
	}
	if got := MustLookup(X86_64).KernelVars(def, v)["KBUS_DTBS"]; got != "" {
		t.Errorf("x86_64 KBUS_DTBS = %q", got)
	}
}
