package pipeline

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
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
	got, err := modulePaths(dir, []string{"9p", "9pnet_virtio"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/drivers/virtio/virtio_ring.ko", "kernel/fs/9p/9p.ko", "kernel/fs/fscache/fscache.ko",
		"kernel/fs/netfs/netfs.ko", "kernel/net/9p/9pnet.ko", "kernel/net/9p/9pnet_virtio.ko"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if _, err := modulePaths(dir, []string{"virtio_blk"}); err == nil {
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
