package serial

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pty returns a pseudo-terminal: the side a board would write (master)
// and the path the rig opens as the console.
func pty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, "/dev/pts/" + strconv.Itoa(n)
}

func TestWatchReadsUntilTheEndMarker(t *testing.T) {
	board, path := pty(t)
	con, err := Open(path, 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	go func() {
		board.Write([]byte("U-Boot 2023.01\r\nStarting kernel ...\r\n<KBUS_"))
		time.Sleep(50 * time.Millisecond)
		board.Write([]byte("RIG_END>\r\nreboot: Power down\r\n"))
	}()
	var log bytes.Buffer
	if err := Watch(context.Background(), con, &log, "<KBUS_RIG_END>", 5*time.Second, 10*time.Second, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "Starting kernel") || !strings.Contains(log.String(), "Power down") {
		t.Errorf("console log %q", log.String())
	}
}

func TestWatchSaysWhenTheBoardNeverSpeaks(t *testing.T) {
	_, path := pty(t)
	con, err := Open(path, 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	start := time.Now()
	err = Watch(context.Background(), con, &bytes.Buffer{}, "<KBUS_RIG_END>", 500*time.Millisecond, time.Minute, time.Second)
	if !errors.Is(err, ErrSilent) || !strings.Contains(err.Error(), "check the cable, the baud") {
		t.Fatalf("err = %v, want ErrSilent", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to notice", d)
	}
}

func TestOpenRefusesWhatIsNotATerminal(t *testing.T) {
	if _, err := Open("/dev/null", 115200); err == nil || !strings.Contains(err.Error(), "not a terminal") {
		t.Errorf("err = %v", err)
	}
	_, path := pty(t)
	if _, err := Open(path, 12345); err == nil || !strings.Contains(err.Error(), "unsupported baud") {
		t.Errorf("err = %v", err)
	}
}
