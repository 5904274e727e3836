// Package serial reads a board's serial console (a USB-serial adapter, or
// QEMU's -serial pty standing in for one): raw mode at the board's baud,
// with the reads in the Go runtime's poller so that they have deadlines.
package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"golang.org/x/sys/unix"
)

var bauds = map[int]uint32{
	9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600,
	115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800, 921600: unix.B921600,
	1500000: unix.B1500000,
}

// Open opens a terminal device in raw mode at baud, 8N1, no flow control.
func Open(path string, baud int) (*os.File, error) {
	speed, ok := bauds[baud]
	if !ok {
		return nil, fmt.Errorf("serial %s: unsupported baud %d", path, baud)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("serial %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("serial %s is not a terminal: %w", path, err)
	}
	// cfmakeraw, then the speed and 8N1 with the receiver on.
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
	t.Ispeed, t.Ospeed = speed, speed
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("serial %s: setting %d baud raw: %w", path, baud, err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ErrSilent means the board said nothing on its console in time.
var ErrSilent = errors.New("the board never spoke on its console")

// ErrTimeout means the board did not finish in time.
var ErrTimeout = errors.New("the board did not finish in time")

// Watch copies the console to w until a line holds end (then it returns
// nil after grace, to catch what follows), the console closes (io.EOF,
// or EIO when a pty's other side goes away: returned as nil if end was
// seen, else as an error), or a limit passes: nothing at all within
// silent, or no end within total.
func Watch(ctx context.Context, con *os.File, w io.Writer, end string, silent, total, grace time.Duration) error {
	start := time.Now()
	var seen time.Time
	spoke := false
	buf := make([]byte, 4096)
	find := guestproto.MarkerFinder{Marker: end}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now()
		switch {
		case !seen.IsZero() && now.Sub(seen) >= grace:
			return nil
		case !spoke && now.Sub(start) >= silent:
			return fmt.Errorf("%w: nothing on %s in %v (check the cable, the baud, the power and the card)",
				ErrSilent, con.Name(), silent)
		case now.Sub(start) >= total:
			return fmt.Errorf("%w: no end of run on %s after %v", ErrTimeout, con.Name(), total)
		}
		_ = con.SetReadDeadline(now.Add(250 * time.Millisecond))
		n, err := con.Read(buf)
		if n > 0 {
			spoke = true
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if seen.IsZero() && find.Found(buf[:n]) {
				seen = time.Now()
			}
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case errors.Is(err, io.EOF), errors.Is(err, unix.EIO):
			if !seen.IsZero() {
				return nil
			}
			if !spoke {
				// A pty whose other side is not open yet reads EIO.
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return fmt.Errorf("%w: the console %s closed before the end of the run", ErrTimeout, con.Name())
		default:
			return fmt.Errorf("reading %s: %w", con.Name(), err)
		}
	}
}
