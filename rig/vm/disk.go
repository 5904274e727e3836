package vm

import (
	"context"
	"sync"
	"time"

	"github.com/hugelgupf/vmtest/qemu"
	"github.com/kbus-project/kbus/rig/guestproto"
)

// Disk is a board image booted through the board's firmware, instead of
// QEMU loading a kernel (docs/boards.md): the firmware finds the kernel on
// the image exactly as on the board.
type Disk struct {
	// Image is the disk image; the guest writes to it.
	Image string
	// SD puts it on the machine's SD card, otherwise it is a virtio disk.
	SD bool
	// Block is the virtio disk device when not SD.
	Block string
	// Firmware is QEMU's -bios, if any (U-Boot, OVMF); a machine with a
	// boot ROM (orangepi-pc) reads its boot loader from the image itself.
	Firmware string
	// Machine replaces the target's machine arguments when set.
	Machine []string
	// EndMarker is the guest's last console line; once it has gone by,
	// QEMU is given EndGrace to exit on its own and is then stopped, for
	// boards that cannot power off. A run that printed it ended normally.
	EndMarker string
	EndGrace  time.Duration
}

func (d *Disk) qemuArgs() []string {
	args := []string{"-no-reboot"}
	if d.Firmware != "" {
		args = append(args, "-bios", d.Firmware)
	}
	if d.SD {
		return append(args, "-drive", "file="+d.Image+",format=raw,if=sd")
	}
	return append(args, "-drive", "file="+d.Image+",format=raw,if=none,id=disk0",
		"-device", d.Block+",drive=disk0")
}

func (d *Disk) fns() []qemu.Fn { return []qemu.Fn{qemu.WithQEMUArgs(d.qemuArgs()...)} }

// endWatcher passes the console on and notices the end marker.
type endWatcher struct {
	grace time.Duration
	stop  context.CancelFunc

	mu   sync.Mutex
	find guestproto.MarkerFinder
	seen bool
}

func (e *endWatcher) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.seen && e.find.Found(p) {
		e.seen = true
		time.AfterFunc(e.grace, e.stop)
	}
	return len(p), nil
}

func (e *endWatcher) Close() error { return nil }

func (e *endWatcher) ended() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seen
}
