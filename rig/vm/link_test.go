package vm

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/target"
)

func TestClientWaitsForTheServersSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "link.sock")
	l := &Link{Socket: sock, Wait: 10 * time.Second}
	go func() {
		time.Sleep(200 * time.Millisecond)
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { ln.Close() })
	}()
	if err := l.awaitServer(context.Background()); err != nil {
		t.Fatalf("awaitServer: %v", err)
	}
}

func TestClientGivesUpWhenThePeerNeverOpensTheLink(t *testing.T) {
	l := &Link{Socket: filepath.Join(t.TempDir(), "never.sock"), Wait: 100 * time.Millisecond}
	err := l.awaitServer(context.Background())
	if !errors.Is(err, ErrNoLink) {
		t.Fatalf("awaitServer = %v, want ErrNoLink", err)
	}
}

func TestServerAndNoLinkDoNotWait(t *testing.T) {
	var none *Link
	server := &Link{Socket: "/nonexistent/sock", Server: true}
	for _, l := range []*Link{none, server} {
		if err := l.awaitServer(context.Background()); err != nil {
			t.Errorf("awaitServer(%+v) = %v", l, err)
		}
	}
}

func TestLinkIsAVirtioNICOnAStreamNetdev(t *testing.T) {
	for _, name := range target.Names() {
		a := target.MustLookup(name)
		mac := net.HardwareAddr{0x52, 0x54, 0, 0x4b, 0x42, 1}
		c := Config{Target: a, Kernel: "kernel", Initramfs: "initramfs",
			Link: &Link{Socket: "/tmp/x/link.sock", Server: true, MAC: mac}}
		opts, err := c.options()
		if err != nil {
			t.Fatal(err)
		}
		args, err := opts.Cmdline()
		if err != nil {
			t.Fatal(err)
		}
		line := strings.Join(args, " ")
		for _, want := range []string{
			"-device " + a.QEMU.NIC + ",netdev=",
			"mac=52:54:00:4b:42:01",
			"-netdev stream,",
			"server=true,addr.type=unix,addr.path=/tmp/x/link.sock",
		} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: %q missing from %s", name, want, line)
			}
		}
	}
}
