package bench

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SeqpacketThroughput is messages per second over an AF_UNIX
// SOCK_SEQPACKET socketpair, one writer and one reader.
func SeqpacketThroughput(size, n int) (float64, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("socketpair: %w", err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	msg := make([]byte, size)
	return timed(n, func() error {
		for i := 0; i < n; i++ {
			if _, err := unix.Write(fds[0], msg); err != nil {
				return err
			}
		}
		return nil
	}, func() error {
		buf := make([]byte, size+1)
		for i := 0; i < n; i++ {
			k, err := unix.Read(fds[1], buf)
			if err != nil || k != size {
				return fmt.Errorf("seqpacket read %d: %d bytes, %v", i, k, err)
			}
		}
		return nil
	})
}

// SeqpacketRoundTrips is ping-pongs per second over a socketpair.
func SeqpacketRoundTrips(n int) (float64, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	return timed(n, func() error {
		msg, buf := make([]byte, 64), make([]byte, 128)
		for i := 0; i < n; i++ {
			if _, err := unix.Write(fds[0], msg); err != nil {
				return err
			}
			if _, err := unix.Read(fds[0], buf); err != nil {
				return err
			}
		}
		return nil
	}, func() error {
		buf := make([]byte, 128)
		for i := 0; i < n; i++ {
			k, err := unix.Read(fds[1], buf)
			if err == nil {
				_, err = unix.Write(fds[1], buf[:k])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

type mqAttr struct {
	flags, maxmsg, msgsize, curmsgs int
	_                               [4]int
}

// MqueueThroughput is messages per second through a POSIX message queue.
func MqueueThroughput(size, n int) (float64, error) {
	name := []byte("kbusbench\x00")
	attr := mqAttr{maxmsg: 10, msgsize: 8192}
	r, _, e := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(&name[0])),
		uintptr(unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC), 0o600, uintptr(unsafe.Pointer(&attr)), 0, 0)
	if e != 0 {
		return 0, fmt.Errorf("mq_open: %w", e)
	}
	mq := int(r)
	defer unix.Close(mq)
	defer unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(&name[0])), 0, 0)

	msg := make([]byte, size)
	return timed(n, func() error {
		for i := 0; i < n; i++ {
			_, _, e := unix.Syscall6(unix.SYS_MQ_TIMEDSEND, uintptr(mq), uintptr(unsafe.Pointer(&msg[0])),
				uintptr(len(msg)), 0, 0, 0)
			if e != 0 {
				return fmt.Errorf("mq_timedsend: %w", e)
			}
		}
		return nil
	}, func() error {
		buf := make([]byte, 8192)
		for i := 0; i < n; i++ {
			_, _, e := unix.Syscall6(unix.SYS_MQ_TIMEDRECEIVE, uintptr(mq), uintptr(unsafe.Pointer(&buf[0])),
				uintptr(len(buf)), 0, 0, 0)
			if e != 0 {
				return fmt.Errorf("mq_timedreceive: %w", e)
			}
		}
		return nil
	})
}
