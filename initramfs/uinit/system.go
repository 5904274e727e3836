package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/u-root/u-root/pkg/kmodule"
	"golang.org/x/sys/unix"
)

// mountBasics mounts what the guest needs. u-root's init mounts most of it
// already; a mount point that is already in use is fine.
func mountBasics() {
	mounts := []struct{ src, dst, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
		{"debugfs", "/sys/kernel/debug", "debugfs"},
	}
	for _, m := range mounts {
		if m.fstype == "debugfs" {
			if _, err := os.Stat(m.dst); err != nil {
				continue // a kernel without debugfs (only the debug flavour has it)
			}
		}
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			log.Printf("mkdir %s: %v", m.dst, err)
			continue
		}
		err := unix.Mount(m.src, m.dst, m.fstype, 0, "")
		if err != nil && !errors.Is(err, unix.EBUSY) && !(m.fstype == "debugfs" && errors.Is(err, unix.ENODEV)) {
			log.Printf("mount %s on %s: %v", m.fstype, m.dst, err)
		}
	}
}

// mountResults mounts the host's results folder over 9P.
func mountResults() error {
	if err := os.MkdirAll(guestproto.ResultsMount, 0o755); err != nil {
		return err
	}
	opts := "trans=virtio,version=9p2000.L,cache=none,msize=262144"
	if err := unix.Mount(guestproto.MountTag, guestproto.ResultsMount, "9p", 0, opts); err != nil {
		return fmt.Errorf("mounting the 9P results share %q: %w", guestproto.MountTag, err)
	}
	return nil
}

// loadModule loads kbus.ko from the image with the given parameters.
func loadModule(params []string) error {
	const path = guestproto.ModulePath
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	opts := strings.Join(params, " ")
	log.Printf("insmod %s %s", path, opts)
	if err := kmodule.FileInit(f, opts, 0); err != nil {
		return fmt.Errorf("loading kbus.ko (%s): %w", opts, err)
	}
	return nil
}

func saveDmesg(path string) error {
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, nil)
	if err != nil {
		return fmt.Errorf("klogctl size: %w", err)
	}
	buf := make([]byte, n)
	m, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, buf)
	if err != nil {
		return fmt.Errorf("klogctl read: %w", err)
	}
	return os.WriteFile(path, buf[:m], 0o644)
}

// kmemleakScan asks kmemleak (debug kernels only) for a scan and saves what
// it reports. Kernels without kmemleak are skipped silently.
func kmemleakScan(name string) error {
	const ctl = "/sys/kernel/debug/kmemleak"
	if _, err := os.Stat(ctl); err != nil {
		return nil
	}
	// Objects must be older than kmemleak's minimum age to be reported,
	// and a second scan confirms what the first suspected.
	time.Sleep(6 * time.Second)
	for i := 0; i < 2; i++ {
		if err := os.WriteFile(ctl, []byte("scan"), 0); err != nil {
			return fmt.Errorf("kmemleak scan: %w", err)
		}
	}
	report, err := os.ReadFile(ctl)
	if err != nil {
		return fmt.Errorf("reading kmemleak: %w", err)
	}
	dir := filepath.Join(guestproto.ResultsMount, guestproto.KmemleakDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".txt"), report, 0o644)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
}

// uptime is how long the kernel has been up: the boot time up to the init.
func uptime() time.Duration {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	s, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}
