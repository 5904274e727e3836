// Package usermem maps memory with the protections tests need to hand the
// kernel an argument it can read but not write.
package usermem

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadOnly returns a private anonymous mapping holding a copy of b, as
// many whole pages as b needs (at least one), that nobody may write.
// Release it with Unmap.
func ReadOnly(b []byte) ([]byte, error) {
	page := unix.Getpagesize()
	n := max(page, (len(b)+page-1)/page*page)
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("usermem: mapping %d bytes: %w", n, err)
	}
	copy(mem, b)
	if err := unix.Mprotect(mem, unix.PROT_READ); err != nil {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("usermem: making %d bytes read-only: %w", n, err)
	}
	return mem, nil
}

// IoctlReadOnly is ioctl req on fd with its argument, a copy of arg, in a
// read-only mapping: the kernel may read the argument but not write to it.
// The ioctl's error is a unix.Errno; what arg points to is the caller's
// to keep alive.
func IoctlReadOnly(fd int, req uint32, arg []byte) error {
	mem, err := ReadOnly(arg)
	if err != nil {
		return err
	}
	defer Unmap(mem)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&mem[0]))); e != 0 {
		return e
	}
	return nil
}

// Unmap releases a mapping ReadOnly returned.
func Unmap(mem []byte) error {
	if err := unix.Munmap(mem); err != nil {
		return fmt.Errorf("usermem: unmapping: %w", err)
	}
	return nil
}
