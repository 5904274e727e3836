package kbus

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fifo opens a Ksock on a FIFO: a file that never becomes readable unless
// written, standing in for a device nobody sends to.
func fifo(t *testing.T) *Ksock {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kbus0")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := OpenPath(path, ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	// A FIFO knows no NEXTMSG: its queue is always empty.
	ks.nextMsg = func(uintptr) (uint32, error) { return 0, nil }
	return ks
}

func TestCloseEndsAWaitWithErrClosed(t *testing.T) {
	ks := fifo(t)
	done := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func() {
			_, err := ks.Receive(context.Background())
			done <- err
		}()
	}
	time.Sleep(50 * time.Millisecond) // the waiters are in poll
	start := time.Now()
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) || !errors.Is(err, fs.ErrClosed) {
				t.Errorf("Receive returned %v, want ErrClosed", err)
			}
		case <-time.After(time.Second):
			t.Fatalf("waiter %d still waiting a second after Close", i)
		}
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("the waiters took %v to return", d)
	}
}

func TestEveryCallOnAClosedKsockIsErrClosed(t *testing.T) {
	ks := fifo(t)
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ks.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	calls := map[string]error{}
	_, calls["ID"] = ks.ID()
	calls["BindListener"] = ks.BindListener("$.A")
	_, calls["Send"] = ks.Send(NewAnnouncement("$.A", nil))
	_, calls["SendWait"] = ks.SendWait(context.Background(), NewAnnouncement("$.A", nil))
	_, calls["Request"] = ks.Request(context.Background(), NewRequest("$.A", nil))
	_, calls["Syscalls.Write"] = ks.Syscalls().Write([]byte("x"))
	_, calls["Syscalls.Read"] = ks.Syscalls().Read(make([]byte, 4))
	_, calls["Readable"] = ks.Readable()
	_, calls["Receive"] = ks.Receive(context.Background())
	_, calls["TryReceive"] = ks.TryReceive()
	calls["Serve"] = ks.Serve(context.Background(), func(context.Context, *Message) ([]byte, error) { return nil, nil })
	calls["WaitWritable"] = ks.WaitWritable(context.Background())
	_, calls["Syscalls.Ioctl"] = ks.Syscalls().Ioctl(0, nil)
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if s := ks.String(); s != "Ksock device -1 (closed)" {
		t.Errorf("String() = %q", s)
	}
}

// The descriptors a closed Ksock held are reused by the next open; a
// waiter the Close ended must not touch them.
func TestAClosedKsockLeavesReusedDescriptorsAlone(t *testing.T) {
	ks := fifo(t)
	waited := make(chan error, 1)
	go func() {
		_, err := ks.Receive(context.Background())
		waited <- err
	}()
	time.Sleep(50 * time.Millisecond)
	fd := ks.fd
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	<-waited
	// Pipes reuse the freed number; fill them and check nothing is read.
	var pipes [][2]int
	for i := 0; i < 3; i++ {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
			t.Fatal(err)
		}
		pipes = append(pipes, p)
		if _, err := unix.Write(p[1], []byte("keep")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	for _, p := range pipes {
		buf := make([]byte, 8)
		if n, err := unix.Read(p[0], buf); err != nil || string(buf[:n]) != "keep" {
			t.Errorf("pipe on %v (the Ksock had %d): read %q, %v", p, fd, buf[:n], err)
		}
		unix.Close(p[0])
		unix.Close(p[1])
	}
}

// Close while many goroutines use the Ksock: every call either works or
// fails with ErrClosed, and Close returns.
func TestCloseRacingCalls(t *testing.T) {
	ks := fifo(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				_, err := ks.Receive(ctx)
				cancel()
				if err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Receive: %v", err)
					return
				}
				if errors.Is(err, ErrClosed) {
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- ks.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return")
	}
	close(stop)
	wg.Wait()
	if _, err := os.Stat(ks.path); err != nil {
		t.Error(err)
	}
}
