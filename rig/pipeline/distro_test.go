package pipeline

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ulikunitz/xz"
)

func TestDistroModulesComeWithWhatTheyNeed(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "lib", "modules", "6.1.0-57-amd64")
	if err := os.MkdirAll(filepath.Join(root, "boot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dep := "kernel/fs/9p/9p.ko: kernel/fs/netfs/netfs.ko kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko\n" +
		"kernel/net/9p/9pnet.ko:\n" +
		"kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko\n" +
		"kernel/fs/netfs/netfs.ko: kernel/fs/fscache/fscache.ko\n" +
		"kernel/fs/fscache/fscache.ko:\n" +
		"kernel/drivers/virtio/virtio_ring.ko:\n" +
		"kernel/drivers/unrelated.ko:\n"
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, err := modulePaths(dir, []string{"9p", "9pnet_virtio"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/drivers/virtio/virtio_ring.ko", "kernel/fs/9p/9p.ko", "kernel/fs/fscache/fscache.ko",
		"kernel/fs/netfs/netfs.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if _, _, err := modulePaths(dir, []string{"virtio_blk"}); err == nil {
		t.Error("a module not in modules.dep was found")
	}
	d := Distro{Root: root, Load: []string{"9p"}}
	rel, err := d.Release()
	if err != nil || rel != "6.1.0-57-amd64" {
		t.Fatalf("release %q, %v", rel, err)
	}
	files, err := d.files(rel, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(files); n != 1+4+1 { // modules.dep, 9p and its three, the load list
		t.Errorf("%d files: %v", n, files)
	}
}

// Debian's 6.12 keeps its modules xz-compressed: modules.dep names them
// so, and DKMS leaves kbus.ko.xz, which the guest gets unpacked.
func TestDistroModulesMayBeCompressed(t *testing.T) {
	dir := t.TempDir()
	dep := "kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz\nkernel/net/9p/9pnet.ko.xz:\n"
	if err := os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	// virtio_pci is built into Debian's 6.12: nothing to carry or load.
	if err := os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/drivers/virtio/virtio_pci.ko\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, load, err := modulePaths(dir, []string{"virtio_pci", "9pnet_virtio"})
	if want := []string{"kernel/net/9p/9pnet.ko.xz", "kernel/net/9p/9pnet_virtio.ko.xz"}; err != nil ||
		!reflect.DeepEqual(got, want) || !reflect.DeepEqual(load, []string{"9pnet_virtio"}) {
		t.Errorf("got %v, load %v, %v; want %v, load [9pnet_virtio]", got, load, err, want)
	}

	elf := []byte("\x7fELF a module's bytes")
	var packed bytes.Buffer
	w, err := xz.NewWriter(&packed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(elf); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	ko := filepath.Join(dir, "kbus.ko.xz")
	if err := os.WriteFile(ko, packed.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	build := t.TempDir()
	m, _, err := Distro{Module: ko}.module(build)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(m.path); err != nil || !bytes.Equal(b, elf) || filepath.Dir(m.path) != build {
		t.Errorf("unpacked module %s: %q, %v", m.path, b, err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(elf); err != nil || zw.Close() != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kbus.ko.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, _, err := (Distro{Module: filepath.Join(dir, "kbus.ko.gz")}).module(t.TempDir()); err != nil {
		t.Error(err)
	} else if b, _ := os.ReadFile(m.path); !bytes.Equal(b, elf) {
		t.Errorf("gzip: unpacked %q", b)
	}
	if _, _, err := (Distro{Module: filepath.Join(dir, "modules.dep.xz")}).module(build); err == nil {
		t.Error("a missing module was accepted")
	}
}

func TestParseLddKeepsTheLibrariesAndTheLoader(t *testing.T) {
	out := []byte(`	linux-vdso.so.1 (0x00007ffd)
	libsystemd-shared-252.so => /lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so (0x00007f)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
	/lib64/ld-linux-x86-64.so.2 (0x00007f)
`)
	got := parseLdd(out)
	want := []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so",
		"/lib64/ld-linux-x86-64.so.2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestGroupRuleFindsTheGroupAUdevRuleGives(t *testing.T) {
	rule := `SUBSYSTEM=="kbus", KERNEL=="kbus[0-9]*", GROUP="kbus", MODE="0660"`
	if m := groupRule.FindStringSubmatch(rule); m == nil || m[1] != "kbus" {
		t.Errorf("found %q", m)
	}
}
