package flash

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultMaxSize is the largest disk written without --force: SD cards
// and USB sticks are smaller, the machine's own disks usually larger.
const DefaultMaxSize = 128 << 30

// ErrRefused means the target failed a safety check; nothing was written.
var ErrRefused = errors.New("refused")

// System is where the checks read the machine's state; tests point it at
// fake trees.
type System struct {
	Sys  string // sysfs, "/sys"
	Proc string // procfs, "/proc"
}

// Host is the real machine.
var Host = System{Sys: "/sys", Proc: "/proc"}

// Disk is what the checks learnt about the target.
type Disk struct {
	Path      string // as given
	Name      string // the kernel's name, e.g. sdb, mmcblk0, loop3
	Dev       string // MAJOR:MINOR
	Size      int64  // bytes
	Removable bool   // removable medium, or on a USB or MMC bus
	Loop      bool   // a loop device: a file, not hardware
	Bus       string // the sysfs device path, for messages
}

func refuse(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, a...))
}

// Inspect checks that path is a whole block device that nothing uses:
// no partition of it is mounted, none is swap, none is held by the
// device mapper or RAID, and it does not hold / or /boot.
func (s System) Inspect(path string) (*Disk, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, refuse("%s: %v", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return nil, refuse("%s is not a block device (give the whole card, e.g. /dev/sdX or /dev/mmcblkN)", path)
	}
	d := &Disk{Path: path, Dev: fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))}
	link, err := filepath.EvalSymlinks(filepath.Join(s.Sys, "dev", "block", d.Dev))
	if err != nil {
		return nil, refuse("%s (%s): not in sysfs: %v", path, d.Dev, err)
	}
	d.Name, d.Bus = filepath.Base(link), strings.TrimPrefix(link, s.Sys)
	if _, err := os.Stat(filepath.Join(link, "partition")); err == nil {
		return nil, refuse("%s is a partition (%s); give the whole disk", path, d.Name)
	}
	sectors, err := readInt(filepath.Join(link, "size"))
	if err != nil {
		return nil, refuse("%s: its size: %v", path, err)
	}
	d.Size = sectors * 512
	rem, _ := readInt(filepath.Join(link, "removable"))
	d.Loop = strings.Contains(d.Bus, "/devices/virtual/block/loop")
	d.Removable = rem == 1 || strings.Contains(d.Bus, "/usb") || strings.Contains(d.Bus, "/mmc_host/")

	// The disk and its partitions, by MAJOR:MINOR and by name.
	devs := map[string]string{d.Dev: d.Name}
	entries, _ := os.ReadDir(link)
	for _, e := range entries {
		if dev, err := os.ReadFile(filepath.Join(link, e.Name(), "dev")); err == nil {
			devs[strings.TrimSpace(string(dev))] = e.Name()
		}
	}
	for dev, name := range devs {
		holders, _ := os.ReadDir(filepath.Join(s.Sys, "dev", "block", dev, "holders"))
		if len(holders) > 0 {
			return nil, refuse("%s is in use: %s is held by %s (device mapper, LVM or RAID)", path, name, holders[0].Name())
		}
	}
	if err := s.checkMounts(path, devs); err != nil {
		return nil, err
	}
	if err := s.checkSwap(path, devs); err != nil {
		return nil, err
	}
	return d, nil
}

// Writable applies the policy for a disk that passed Inspect: a fixed
// disk, or one larger than maxSize, needs force; an image larger than the
// disk never fits.
func (d *Disk) Writable(imageSize, maxSize int64, force bool) error {
	if imageSize > d.Size {
		return refuse("the image (%s) is larger than %s (%s)", human(imageSize), d.Path, human(d.Size))
	}
	if force {
		return nil
	}
	if !d.Removable && !d.Loop {
		return refuse("%s (%s) is not a removable disk (not marked removable, not on USB or MMC); "+
			"use --force if it really is the card", d.Path, d.Bus)
	}
	if d.Size > maxSize {
		return refuse("%s is %s, larger than %s: an SD card or USB stick usually is not; use --force if it really is the card",
			d.Path, human(d.Size), human(maxSize))
	}
	return nil
}

func (s System) checkMounts(path string, devs map[string]string) error {
	f, err := os.Open(filepath.Join(s.Proc, "self", "mountinfo"))
	if err != nil {
		return refuse("cannot tell what is mounted: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent MAJOR:MINOR root mountpoint ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		name, ok := devs[fields[2]]
		if !ok {
			continue
		}
		switch mp := unescape(fields[4]); mp {
		case "/", "/boot", "/boot/efi":
			return refuse("%s holds %s (%s is mounted there): it is this machine's own disk", path, mp, name)
		default:
			return refuse("%s is in use: %s is mounted on %s (unmount it first)", path, name, mp)
		}
	}
	return sc.Err()
}

func (s System) checkSwap(path string, devs map[string]string) error {
	b, err := os.ReadFile(filepath.Join(s.Proc, "swaps"))
	if err != nil {
		return nil // no swap support
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(fields[0], &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
			continue
		}
		dev := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
		if name, ok := devs[dev]; ok {
			return refuse("%s holds swap (%s is in use as swap)", path, name)
		}
	}
	return nil
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
