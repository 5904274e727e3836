package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// LimpetPair joins device dev to a new device with two limpet processes
// over a Unix socket and returns the far device; stop ends them.
func LimpetPair(ctx context.Context, dev int) (far int, stop func(), err error) {
	ks, err := kbus.Open(dev, kbus.ReadOnly)
	if err != nil {
		return 0, nil, err
	}
	n, err := ks.NewDevice()
	ks.Close()
	if err != nil {
		return 0, nil, err
	}
	far = int(n)
	for start := time.Now(); ; {
		if _, err := os.Stat(kbus.DevicePath(far)); err == nil {
			break
		}
		if time.Since(start) > 5*time.Second {
			return 0, nil, fmt.Errorf("%s did not appear", kbus.DevicePath(far))
		}
		time.Sleep(10 * time.Millisecond)
	}
	dir, err := os.MkdirTemp("", "limpetbench")
	if err != nil {
		return 0, nil, err
	}
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("bench"), 0o600); err != nil {
		return 0, nil, err
	}
	sock := "unix:" + filepath.Join(dir, "sock")
	server := exec.CommandContext(ctx, "limpet", "--device", strconv.Itoa(dev), "--id", "101", "--listen", sock, "--key-file", key)
	client := exec.CommandContext(ctx, "limpet", "--device", strconv.Itoa(far), "--id", "102", "--connect", sock, "--key-file", key)
	server.Stderr, client.Stderr = os.Stderr, os.Stderr
	if err := server.Start(); err != nil {
		return 0, nil, fmt.Errorf("starting limpet: %w", err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := client.Start(); err != nil {
		server.Process.Kill()
		return 0, nil, fmt.Errorf("starting limpet: %w", err)
	}
	stop = func() {
		for _, c := range []*exec.Cmd{client, server} {
			c.Process.Kill()
			c.Wait()
		}
		os.RemoveAll(dir)
	}
	return far, stop, nil
}

// LimpetThroughput is announcements per second from a sender on dev to a
// listener on far, through the Limpet pair: the listener counts all n.
func LimpetThroughput(ctx context.Context, dev, far, size, n int) (float64, error) {
	listener, err := open(far)
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	if err := listener.BindListener("$.Bench.Remote"); err != nil {
		return 0, err
	}
	if _, err := listener.SetMaxMessages(uint32(n)); err != nil {
		return 0, err
	}
	sender, err := open(dev)
	if err != nil {
		return 0, err
	}
	defer sender.Close()
	// The far Limpet binds "$.*" once the link is up; wait for a probe.
	probe := kbus.NewAnnouncement("$.Bench.Remote", nil)
	deadline := time.Now().Add(30 * time.Second)
	for got := false; !got; {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("nothing crossed the limpet pair from kbus%d to kbus%d in 30 s", dev, far)
		}
		if _, err := sender.Send(probe); err != nil {
			return 0, err
		}
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		m, _ := listener.Receive(wctx)
		cancel()
		got = m != nil
	}
	for m, _ := listener.TryReceive(); m != nil; m, _ = listener.TryReceive() {
	}
	return timed(n,
		func() error { return sendAll(ctx, sender, "$.Bench.Remote", size, n) },
		func() error { return readAll(ctx, listener, n) })
}
