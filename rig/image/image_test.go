package image

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/internal/rigtest"
	"github.com/kbus-project/kbus/rig/target"
	"golang.org/x/sys/unix"
)

func needTools(t *testing.T) {
	t.Helper()
	rigtest.RequireTools(t, "genimage", "mkdosfs", "mcopy", "bmaptool")
}

// fakeInputs are stand-ins for a kernel, an initramfs, a device tree and
// the firmware, enough for genimage.
func fakeInputs(t *testing.T, b target.Board) Inputs {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		rigtest.WriteFile(t, p, string(data))
		return p
	}
	in := Inputs{Board: b, FirmwareRoot: dir,
		Kernel:    write("kernel", bytes.Repeat([]byte("kernel"), 100000)),
		Initramfs: write("initramfs.cpio", bytes.Repeat([]byte("070701"), 200000)),
		Cmdline:   Cmdline(b, []string{"rig.mode=test"}),
	}
	if b.DTB != "" {
		in.DTB = write("board.dtb", []byte("dtb"))
	}
	for _, f := range []string{b.Loader.Raw, b.Loader.EFI, b.Loader.Firmware} {
		if f != "" {
			write(f, bytes.Repeat([]byte{0xea}, 4096))
		}
	}
	return in
}

func TestBuildIsReproducibleForEveryBoard(t *testing.T) {
	needTools(t)
	for _, name := range target.BoardNames() {
		b, _ := target.LookupBoard(name)
		t.Run(name, func(t *testing.T) {
			in := fakeInputs(t, b)
			var sums []string
			for i := 0; i < 2; i++ {
				res, err := Build(context.Background(), in, t.TempDir(), t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				sums = append(sums, res.Sum)
				f, _ := os.Open(res.Image)
				parts, err := ReadMBR(f)
				fi, _ := f.Stat()
				f.Close()
				if err != nil || len(parts) != 2 || !parts[0].Bootable || parts[0].Offset != BootOffset ||
					parts[1].Offset+parts[1].Size != fi.Size() || fi.Size()&(fi.Size()-1) != 0 {
					t.Fatalf("partitions %+v (image %d bytes, err %v): want a bootable boot partition at 1 MiB "+
						"and results to the end of a power-of-two image", parts, fi.Size(), err)
				}
				if b.Loader.Kind == target.SystemdBoot && parts[0].Type != 0xef {
					t.Errorf("the ESP has type %#x", parts[0].Type)
				}
				for _, p := range []string{res.Bmap, res.SHA256, res.Manifest} {
					if _, err := os.Stat(p); err != nil {
						t.Error(err)
					}
				}
				if b.Loader.Raw != "" {
					raw := make([]byte, 4)
					f, _ := os.Open(res.Image)
					f.ReadAt(raw, b.Loader.RawOffset)
					f.Close()
					if !bytes.Equal(raw, []byte{0xea, 0xea, 0xea, 0xea}) {
						t.Errorf("no firmware at %d", b.Loader.RawOffset)
					}
				}
			}
			if sums[0] != sums[1] {
				t.Errorf("two builds from the same inputs: %s, %s", sums[0], sums[1])
			}
		})
	}
}

func TestExtlinuxEntry(t *testing.T) {
	b, _ := target.LookupBoard("orangepi")
	got := extlinux(b, "zImage", "dtbs/"+b.DTB, strings.Join(Cmdline(b, []string{"rig.mode=test"}), " "))
	for _, want := range []string{"DEFAULT kbus", "KERNEL /zImage", "INITRD /" + InitramfsFile,
		"FDT /dtbs/sun8i-h3-orangepi-pc.dtb", "APPEND console=ttyS0,115200 loglevel=5 panic=-1 rig.results=KBUSRESULTS rig.mode=test"} {
		if !strings.Contains(got, want) {
			t.Errorf("extlinux.conf lacks %q:\n%s", want, got)
		}
	}
}

func TestReadResultsCopiesThePartition(t *testing.T) {
	needTools(t)
	b, _ := target.LookupBoard("qemu-arm64")
	res, err := Build(context.Background(), fakeInputs(t, b), t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(res.Image)
	parts, _ := ReadMBR(f)
	f.Close()
	// What a guest would leave: a file on the results partition.
	src := filepath.Join(t.TempDir(), "status.json")
	os.WriteFile(src, []byte(`{"phase":"done"}`), 0o644)
	cmd := exec.Command("mcopy", "-i", res.Image+"@@"+strconv.FormatInt(parts[1].Offset, 10), src, "::/status.json")
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	dir := t.TempDir()
	if err := ReadResults(context.Background(), res.Image, dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "status.json")); err != nil || string(b) != `{"phase":"done"}` {
		t.Errorf("read back %q, %v", b, err)
	}
}

func TestCopyKeepsTheBytesAndTheHoles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "sparse.img")
	f, _ := os.Create(src)
	f.Truncate(64 << 20)
	f.WriteAt([]byte("MBR"), 0)
	f.WriteAt(bytes.Repeat([]byte("x"), 100000), 32<<20)
	f.Close()
	dst := filepath.Join(dir, "copy.img")
	if err := Copy(src, dst); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(dst)
	if !bytes.Equal(a, b) {
		t.Fatal("the copy's bytes differ")
	}
	var st unix.Stat_t
	if err := unix.Stat(dst, &st); err != nil {
		t.Fatal(err)
	}
	if st.Blocks*512 > 8<<20 {
		t.Errorf("the copy allocates %d bytes for ~100 KB of data", st.Blocks*512)
	}
}
