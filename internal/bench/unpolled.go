package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// FanOutUnpolled is FanOut with listeners that are not in the Go
// runtime's poller: plain blocking descriptors, bound and read through
// the raw ABI. Every listener kbus.Open opens sits in the runtime's epoll,
// and each message queued for it runs epoll's wake-up callback in the
// sender's send; the two figures side by side say what that costs
// (docs/benchmark.md).
func FanOutUnpolled(ctx context.Context, dev, l, n int) (perSend float64, err error) {
	sender, err := open(dev)
	if err != nil {
		return 0, err
	}
	defer sender.Close()
	fds := make([]int, 0, l)
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	name := []byte("$.Bench.Fan")
	for range l {
		fd, err := unix.Open(kbus.DevicePath(dev), unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, fmt.Errorf("open: %w", err)
		}
		fds = append(fds, fd)
		req := raw.BindRequest{NameLen: uint32(len(name)), Name: &name[0]}
		if _, err := raw.Call(uintptr(fd), raw.NrBind, unsafe.Pointer(&req)); err != nil {
			return 0, fmt.Errorf("BIND: %w", err)
		}
		maxMsgs := uint32(n)
		if _, err := raw.Call(uintptr(fd), raw.NrMaxMsgs, unsafe.Pointer(&maxMsgs)); err != nil {
			return 0, fmt.Errorf("MAXMSGS: %w", err)
		}
	}
	runtime.KeepAlive(name)
	start := time.Now()
	if err := sendAll(ctx, sender, "$.Bench.Fan", 64, n); err != nil {
		return 0, err
	}
	sent := time.Since(start)
	buf := make([]byte, 4096)
	for _, fd := range fds {
		for got := 0; got < n; got++ {
			rq := raw.Receive{Len: uint32(len(buf)), Buf: &buf[0]}
			_, err := raw.Call(uintptr(fd), raw.NrRecvMsg, unsafe.Pointer(&rq))
			for errors.Is(err, unix.EINTR) {
				_, err = raw.Call(uintptr(fd), raw.NrRecvMsg, unsafe.Pointer(&rq))
			}
			if err != nil {
				return 0, fmt.Errorf("RECVMSG after %d of %d messages: %w", got, n, err)
			}
		}
	}
	runtime.KeepAlive(buf)
	return perOp(sent, n), nil
}
