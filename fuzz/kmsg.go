package fuzz

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
)

// problem matches what the kernel logs when something is wrong: the debug
// kernel's checkers (KASAN, lockdep, the list and atomic-sleep checks),
// WARN and BUG, oopses and hung tasks.
var problem = regexp.MustCompile(`BUG:|WARNING:|KASAN|UBSAN|lockdep|possible recursive locking|` +
	`circular locking|inconsistent lock state|INFO: task .* blocked|general protection|Oops|` +
	`kernel BUG|list_add corruption|list_del corruption|sleeping function called`)

// kernelLog follows the kernel's log (/dev/kmsg) from the moment it is
// opened.
type kernelLog struct{ fd int }

func openKernelLog() (*kernelLog, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fuzz: /dev/kmsg: %w", err)
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fuzz: /dev/kmsg: %w", err)
	}
	return &kernelLog{fd: fd}, nil
}

// Problem reads what the kernel logged since the last call and returns
// the first line that reports a problem, or "".
func (k *kernelLog) Problem() string {
	buf := make([]byte, 8192)
	found := ""
	for {
		n, err := unix.Read(k.fd, buf)
		if errors.Is(err, unix.EPIPE) {
			continue // records were overwritten before we read them
		}
		if err != nil || n <= 0 {
			return found
		}
		// "prio,seq,time,flags;message\n continuation lines"
		rec := string(buf[:n])
		if _, msg, ok := strings.Cut(rec, ";"); ok {
			rec = msg
		}
		if found == "" && problem.MatchString(rec) {
			found = strings.TrimSpace(strings.SplitN(rec, "\n", 2)[0])
		}
	}
}

func (k *kernelLog) Close() error { return unix.Close(k.fd) }
