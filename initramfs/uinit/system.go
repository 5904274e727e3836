package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
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

// useCgroup2 puts cgroup v2 on /sys/fs/cgroup, for the specs that run a
// process under a memory limit. u-root's init mounts cgroup v1
// hierarchies there (memory among them, which a controller cannot be in
// v1 and v2 at once): they are unmounted first, deepest first.
func useCgroup2() {
	const root = "/sys/fs/cgroup"
	if _, err := os.Stat(root); err != nil {
		return // a kernel without cgroups
	}
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		log.Printf("cgroup2: %v", err)
		return
	}
	var below []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 2 && (f[1] == root || strings.HasPrefix(f[1], root+"/")) {
			below = append(below, f[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(below)))
	for _, m := range below {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			log.Printf("cgroup2: unmounting %s: %v", m, err)
		}
	}
	if err := unix.Mount("cgroup2", root, "cgroup2", 0, ""); err != nil && !errors.Is(err, unix.ENODEV) {
		log.Printf("mount cgroup2 on %s: %v", root, err)
	}
}

// mountResults mounts where the results go: the host's folder over 9P,
// or, on a board image, the FAT partition labelled label.
func mountResults(label string) error {
	if err := os.MkdirAll(guestproto.ResultsMount, 0o755); err != nil {
		return err
	}
	if label != "" {
		return mountPartition(label)
	}
	opts := "trans=virtio,version=9p2000.L,cache=none,msize=262144"
	if err := unix.Mount(guestproto.MountTag, guestproto.ResultsMount, "9p", 0, opts); err != nil {
		return fmt.Errorf("mounting the 9P results share %q: %w", guestproto.MountTag, err)
	}
	return nil
}

// partitionWait bounds the wait for the boot disk: SD/MMC controllers
// probe their cards asynchronously.
const partitionWait = 30 * time.Second

// mountPartition mounts the FAT partition whose volume label is label,
// waiting for the disks to appear.
func mountPartition(label string) error {
	deadline := time.Now().Add(partitionWait)
	for {
		dev, err := findFATLabel(label)
		if err == nil {
			log.Printf("results partition %s is %s", label, dev)
			if err := unix.Mount(dev, guestproto.ResultsMount, "vfat", 0, "utf8=0,shortname=mixed"); err != nil {
				return fmt.Errorf("mounting the results partition %s (%s): %w", label, dev, err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no results partition labelled %s after %v: %w", label, partitionWait, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

var errNoLabel = errors.New("no FAT partition with that label")

// findFATLabel returns the partition device whose FAT boot sector carries
// label: FAT12/16 keep it at byte 43, FAT32 at byte 71.
func findFATLabel(label string) (string, error) {
	parts, err := filepath.Glob("/sys/class/block/*/partition")
	if err != nil {
		return "", err
	}
	for _, p := range parts {
		dev := "/dev/" + filepath.Base(filepath.Dir(p))
		f, err := os.Open(dev)
		if err != nil {
			continue
		}
		sector := make([]byte, 512)
		_, err = io.ReadFull(f, sector)
		f.Close()
		if err != nil || sector[510] != 0x55 || sector[511] != 0xaa {
			continue
		}
		for _, at := range []struct{ fs, label int }{{54, 43}, {82, 71}} {
			if string(sector[at.fs:at.fs+3]) == "FAT" &&
				strings.TrimRight(string(sector[at.label:at.label+11]), " ") == label {
				return dev, nil
			}
		}
	}
	return "", errNoLabel
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
	// kmemleak reports an object that two scans in a row found
	// unreferenced and unchanged, if it is older than its minimum age
	// (5 s) when the second one starts. So the first scan starts now, and
	// the second once the last object the caller could have leaked is
	// old enough: a scan takes seconds itself under TCG, and the wait
	// that used to come before both is mostly gone.
	start := time.Now()
	oldEnough := start.Add(6 * time.Second)
	if err := os.WriteFile(ctl, []byte("scan"), 0); err != nil {
		return fmt.Errorf("kmemleak scan: %w", err)
	}
	first := time.Since(start)
	time.Sleep(time.Until(oldEnough))
	if err := os.WriteFile(ctl, []byte("scan"), 0); err != nil {
		return fmt.Errorf("kmemleak scan: %w", err)
	}
	log.Printf("kmemleak: two scans in %v (the first %v)", time.Since(start).Round(time.Millisecond),
		first.Round(time.Millisecond))
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
