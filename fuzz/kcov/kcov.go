// Package kcov reads the kernel's code coverage for one thread through
// KCOV (/sys/kernel/debug/kcov, CONFIG_KCOV): the addresses of the basic
// blocks the kernel ran for the thread's system calls, in order. The rig's
// debug kernel instruments only kbus.ko (module/Kbuild), so every address
// is one of the module's blocks.
//
// A Cover belongs to the OS thread that enabled it: lock the goroutine to
// its thread (runtime.LockOSThread) before Enable and until Disable.
package kcov

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Path is KCOV's debugfs file.
const Path = "/sys/kernel/debug/kcov"

const wordSize = unsafe.Sizeof(uintptr(0))

// KCOV's ioctls (linux/kcov.h): INIT_TRACE is _IOR('c', 1, unsigned long),
// so its number depends on the word size; ENABLE and DISABLE are _IO.
var (
	ioctlInitTrace = uintptr(2<<30 | wordSize<<16 | 'c'<<8 | 1)
	ioctlEnable    = uintptr('c'<<8 | 100)
	ioctlDisable   = uintptr('c'<<8 | 101)
)

const tracePC = 0 // KCOV_TRACE_PC

// ErrUnavailable means the kernel has no KCOV (or debugfs is not mounted).
var ErrUnavailable = errors.New("kcov: not available (CONFIG_KCOV, debugfs)")

// Cover is one thread's coverage buffer.
type Cover struct {
	fd    int
	mem   []byte
	words []uintptr // words[0] is the count, then the addresses
}

// Open sets up a buffer for up to size addresses.
func Open(size int) (*Cover, error) {
	fd, err := unix.Open(Path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, ErrUnavailable
		}
		return nil, fmt.Errorf("kcov: open: %w", err)
	}
	c := &Cover{fd: fd}
	if err := c.ioctl(ioctlInitTrace, uintptr(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("kcov: init trace: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, size*int(wordSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("kcov: mmap: %w", err)
	}
	c.mem = mem
	c.words = unsafe.Slice((*uintptr)(unsafe.Pointer(&mem[0])), size)
	return c, nil
}

func (c *Cover) ioctl(req, arg uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(c.fd), req, arg); e != 0 {
		return e
	}
	return nil
}

// Enable starts collecting for the calling thread.
func (c *Cover) Enable() error {
	if err := c.ioctl(ioctlEnable, tracePC); err != nil {
		return fmt.Errorf("kcov: enable: %w", err)
	}
	return nil
}

// Disable stops collecting; only the thread that enabled it may.
func (c *Cover) Disable() error {
	if err := c.ioctl(ioctlDisable, 0); err != nil {
		return fmt.Errorf("kcov: disable: %w", err)
	}
	return nil
}

func (c *Cover) count() *uintptr { return &c.words[0] }

// Reset empties the buffer.
func (c *Cover) Reset() {
	atomic.StoreUintptr(c.count(), 0)
}

// PCs are the addresses collected since Reset, in the order run (the
// slice aliases the buffer: use it before the next Reset).
func (c *Cover) PCs() []uintptr {
	n := atomic.LoadUintptr(c.count())
	if max := uintptr(len(c.words) - 1); n > max {
		n = max
	}
	return c.words[1 : 1+n]
}

// Close releases the buffer.
func (c *Cover) Close() error {
	err := unix.Munmap(c.mem)
	if cerr := unix.Close(c.fd); err == nil {
		err = cerr
	}
	return err
}
