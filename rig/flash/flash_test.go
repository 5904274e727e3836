package flash

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/internal/rigtest"
	"golang.org/x/sys/unix"
)

// needRoot is what the loop-device tests need: make test runs them (as
// root, as CI does) and fails, not skips, without it.
func needRoot(t *testing.T) {
	t.Helper()
	rigtest.RequireTools(t, "root", "losetup", "bmaptool", "mkfs.ext2")
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// testImage writes a sparse image of size bytes with data in a few places
// (an MBR with one partition among them), its block map and checksum.
func testImage(t *testing.T, dir string, size int64) string {
	t.Helper()
	img := filepath.Join(dir, "board.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	mbr := make([]byte, 512)
	copy(mbr[446:], []byte{0x80, 0, 0, 0, 0x0c, 0, 0, 0})
	putLE32(mbr[446+8:], 2048)                   // first sector: 1 MiB
	putLE32(mbr[446+12:], uint32(size/512)-4096) // to near the end
	mbr[510], mbr[511] = 0x55, 0xaa
	for _, chunk := range []struct {
		off  int64
		data []byte
	}{{0, mbr}, {1 << 20, bytes.Repeat([]byte("KBUS"), 50000)}, {size - 8192 - 4096, []byte("tail")}} {
		if _, err := f.WriteAt(chunk.data, chunk.off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	sh(t, "bmaptool", "-q", "create", "-o", img+".bmap", img)
	sum := fileSum(t, img)
	if err := os.WriteFile(img+".sha256", []byte(sum+"  board.img\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return img
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// loopDevice attaches a zeroed backing file of size bytes, with its
// partitions scanned.
func loopDevice(t *testing.T, dir, name string, size int64) (dev, backing string) {
	t.Helper()
	backing = filepath.Join(dir, name)
	if err := os.WriteFile(backing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(backing, size); err != nil {
		t.Fatal(err)
	}
	dev = sh(t, "losetup", "-f", "--show", "-P", backing)
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev, backing
}

const imgSize = 32 << 20

func TestFlashWritesVerifiesAndMatchesBmaptool(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := testImage(t, dir, imgSize)
	dev, backing := loopDevice(t, dir, "card", 2*imgSize)
	var progress bytes.Buffer
	rep, err := Flash(context.Background(), Options{Image: img, Device: dev, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	bm, _ := ReadBmap(img + ".bmap")
	if !rep.Verified || rep.Written != bm.MappedBytes() || !rep.Disk.Loop {
		t.Errorf("report %+v, want verified, %d bytes written, a loop device", rep, bm.MappedBytes())
	}
	if !strings.Contains(progress.String(), "writing") || !strings.Contains(progress.String(), "verifying") ||
		!strings.Contains(progress.String(), "ETA") {
		t.Errorf("progress: %q", progress.String())
	}
	// The card holds the image, byte for byte, where the image is.
	want, _ := os.ReadFile(img)
	got, _ := os.ReadFile(backing)
	if !bytes.Equal(got[:imgSize], want) {
		t.Error("the card's first image-size bytes differ from the image")
	}
	// bmaptool copy of the same image onto another card: the same bytes.
	dev2, backing2 := loopDevice(t, dir, "card2", 2*imgSize)
	sh(t, "bmaptool", "-q", "copy", "--bmap", img+".bmap", img, dev2)
	_ = dev2
	if fileSum(t, backing) != fileSum(t, backing2) {
		t.Error("rig flash and bmaptool copy left different bytes")
	}
}

func TestFlashFailsWhenTheCardReadsBackWrong(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := testImage(t, dir, imgSize)
	dev, _ := loopDevice(t, dir, "card", imgSize)
	_, err := Flash(context.Background(), Options{Image: img, Device: dev,
		BeforeVerify: func(device string) error {
			f, err := os.OpenFile(device, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("bad block"), 1<<20+4096); err != nil {
				return err
			}
			return f.Sync()
		}})
	if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "differ from the image") {
		t.Fatalf("err = %v, want ErrVerify", err)
	}
}

// untouched checks that a refused flash wrote nothing.
func untouched(t *testing.T, backing string) {
	t.Helper()
	b, err := os.ReadFile(backing)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexFunc(b, func(r rune) bool { return r != 0 }); i >= 0 && !bytes.HasPrefix(b, []byte{0xeb}) {
		t.Errorf("the card was written at %d", i)
	}
}

func refused(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want a refusal saying %q", err, want)
	}
}

func TestFlashRefusesABadChecksumBeforeWriting(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := testImage(t, dir, imgSize)
	os.WriteFile(img+".sha256", []byte(strings.Repeat("0", 64)+"  board.img\n"), 0o644)
	dev, backing := loopDevice(t, dir, "card", imgSize)
	_, err := Flash(context.Background(), Options{Image: img, Device: dev})
	refused(t, err, "board.img.sha256 says")
	if !errors.Is(err, ErrChecksum) {
		t.Errorf("not ErrChecksum: %v", err)
	}
	untouched(t, backing)
	os.Remove(img + ".sha256")
	_, err = Flash(context.Background(), Options{Image: img, Device: dev})
	refused(t, err, "no checksum for the image")
}

func TestFlashRefusesWhatIsNotAWholeDisk(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := testImage(t, dir, imgSize)
	_, err := Flash(context.Background(), Options{Image: img, Device: img})
	refused(t, err, "is not a block device")

	dev, backing := loopDevice(t, dir, "card", imgSize)
	part := fakeSystem(t, dev, usb+"/sdb1", imgSize, true, "", "", nil)
	os.WriteFile(filepath.Join(part.Sys, usb, "sdb1", "partition"), []byte("1"), 0o644)
	_, err = Flash(context.Background(), Options{Image: img, Device: dev, System: part})
	refused(t, err, "is a partition (sdb1)")
	untouched(t, backing)
}

func devNumber(t *testing.T, dev string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
}

func TestFlashRefusesACardWithAMountedPartition(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := testImage(t, dir, imgSize)
	dev, backing := loopDevice(t, dir, "card", imgSize)
	// A file system on a second loop device, mounted for real, which the
	// fake sysfs shows as the card's first partition (this machine's
	// kernel may not scan loop partitions).
	fs, _ := loopDevice(t, dir, "part", 8<<20)
	sh(t, "mkfs.ext2", "-q", "-F", fs)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	if err := unix.Mount(fs, mnt, "ext2", 0, ""); err != nil {
		t.Fatalf("mounting the card's partition: %v", err)
	}
	defer unix.Unmount(mnt, 0)
	sys := fakeSystem(t, dev, usb, imgSize, true, "", "", map[string]string{"sdb1": devNumber(t, fs)})
	sys.Proc = "/proc"
	_, err := Flash(context.Background(), Options{Image: img, Device: dev, System: sys})
	refused(t, err, "sdb1 is mounted on "+mnt)

	// The card itself mounted, with the machine's real sysfs.
	if err := unix.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	sh(t, "mkfs.ext2", "-q", "-F", dev)
	if err := unix.Mount(dev, mnt, "ext2", 0, ""); err != nil {
		t.Fatal(err)
	}
	_, err = Flash(context.Background(), Options{Image: img, Device: dev})
	refused(t, err, "is mounted on "+mnt)
	_ = backing
}

// fakeSystem is a sysfs in which dev appears as another kind of disk, and
// a procfs whose mounts and swaps can be given.
func fakeSystem(t *testing.T, dev, busPath string, sizeBytes int64, removable bool, mountinfo, swaps string,
	parts map[string]string) System {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	devDir := filepath.Join(root, "sys", busPath)
	os.MkdirAll(devDir, 0o755)
	rem := "0"
	if removable {
		rem = "1"
	}
	os.WriteFile(filepath.Join(devDir, "size"), []byte(fmt.Sprint(sizeBytes/512)), 0o644)
	os.WriteFile(filepath.Join(devDir, "removable"), []byte(rem), 0o644)
	os.MkdirAll(filepath.Join(root, "sys", "dev", "block"), 0o755)
	majmin := fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	if err := os.Symlink(devDir, filepath.Join(root, "sys", "dev", "block", majmin)); err != nil {
		t.Fatal(err)
	}
	for name, num := range parts {
		os.MkdirAll(filepath.Join(devDir, name), 0o755)
		os.WriteFile(filepath.Join(devDir, name, "dev"), []byte(num+"\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(root, "proc", "self"), 0o755)
	os.WriteFile(filepath.Join(root, "proc", "self", "mountinfo"),
		[]byte(strings.ReplaceAll(mountinfo, "DEV", majmin)), 0o644)
	os.WriteFile(filepath.Join(root, "proc", "swaps"), []byte("Filename Type Size Used Priority\n"+swaps), 0o644)
	return System{Sys: filepath.Join(root, "sys"), Proc: filepath.Join(root, "proc")}
}

const sata = "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda"
const usb = "/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb"

func TestFlashRefusesFixedLargeAndSystemDisks(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := testImage(t, dir, imgSize)
	dev, backing := loopDevice(t, dir, "card", imgSize)
	flash := func(sys System, force bool) error {
		_, err := Flash(context.Background(), Options{Image: img, Device: dev, System: sys, Force: force})
		return err
	}
	fixed := fakeSystem(t, dev, sata, 500<<30, false, "", "", nil)
	refused(t, flash(fixed, false), "is not a removable disk")
	huge := fakeSystem(t, dev, usb, 256<<30, false, "", "", nil)
	refused(t, flash(huge, false), "larger than 128.0 GiB")
	small := fakeSystem(t, dev, usb, 16<<20, true, "", "", nil)
	refused(t, flash(small, true), "is larger than") // --force does not make it fit
	root := fakeSystem(t, dev, usb, imgSize, true, "25 1 DEV / / rw - ext4 /dev/sdb rw\n", "", nil)
	refused(t, flash(root, true), "holds / ")
	swap := fakeSystem(t, dev, usb, imgSize, true, "", dev+" partition 1000 0 -2\n", nil)
	refused(t, flash(swap, true), "holds swap")
	untouched(t, backing)
	// --force writes a fixed or large disk that passes every other check.
	if err := flash(fixed, true); err != nil {
		t.Fatalf("--force on a fixed disk: %v", err)
	}
}

func TestParseBmapRejectsDamage(t *testing.T) {
	rigtest.RequireTools(t, "bmaptool")
	dir := t.TempDir()
	img := filepath.Join(dir, "x.img")
	os.WriteFile(img, bytes.Repeat([]byte{1}, 3*4096+100), 0o644)
	sh(t, "bmaptool", "-q", "create", "-o", img+".bmap", img)
	data, _ := os.ReadFile(img + ".bmap")
	bm, err := ParseBmap(data)
	if err != nil {
		t.Fatal(err)
	}
	if bm.BlocksCount != 4 || bm.MappedBytes() != 3*4096+100 || len(bm.Ranges) != 1 {
		t.Errorf("parsed %+v", bm)
	}
	edited := bytes.Replace(data, []byte("<BlocksCount> 4 </BlocksCount>"), []byte("<BlocksCount> 5 </BlocksCount>"), 1)
	if _, err := ParseBmap(edited); !errors.Is(err, ErrBadBmap) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("edited map: %v", err)
	}
}
