package usermem

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// userfaultfd(2)'s ioctls (linux/userfaultfd.h): _IOWR(0xAA, nr, size).
const (
	uffdAPI        = 0xAA
	uffdioAPI      = 0xC018AA3F // struct uffdio_api, 24 bytes
	uffdioRegister = 0xC020AA00 // struct uffdio_register, 32 bytes
	uffdioCopy     = 0xC028AA03 // struct uffdio_copy, 40 bytes
	uffdioZeropage = 0xC020AA04 // struct uffdio_zeropage, 32 bytes
	uffdRegMissing = 1
)

type uffdioAPIArg struct{ API, Features, Ioctls uint64 }

type uffdioRange struct{ Start, Len uint64 }

type uffdioRegisterArg struct {
	Range       uffdioRange
	Mode, Ioctl uint64
}

type uffdioCopyArg struct {
	Dst, Src, Len, Mode uint64
	Copy                int64
}

type uffdioZeropageArg struct {
	Range    uffdioRange
	Mode     uint64
	Zeropage int64
}

// Userfault is anonymous memory whose pages are missing until its owner
// fills them (userfaultfd): a copy the kernel makes to or from it waits,
// as a copy to a page on its way from a slow disk would, for as long as
// the owner likes. An unprivileged process may make one where the
// sysctl vm.unprivileged_userfaultfd is 1.
type Userfault struct {
	fd  int
	mem []byte
}

// NewUserfault maps n pages registered with a new userfaultfd.
func NewUserfault(n int) (*Userfault, error) {
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if e != 0 {
		return nil, fmt.Errorf("userfaultfd (CONFIG_USERFAULTFD; vm.unprivileged_userfaultfd unless root): %w", e)
	}
	u := &Userfault{fd: int(fd)}
	api := uffdioAPIArg{API: uffdAPI}
	if err := u.ioctl(uffdioAPI, unsafe.Pointer(&api)); err != nil {
		unix.Close(u.fd)
		return nil, fmt.Errorf("UFFDIO_API: %w", err)
	}
	mem, err := unix.Mmap(-1, 0, n*unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		unix.Close(u.fd)
		return nil, fmt.Errorf("mapping %d pages: %w", n, err)
	}
	u.mem = mem
	reg := uffdioRegisterArg{Range: u.whole(), Mode: uffdRegMissing}
	if err := u.ioctl(uffdioRegister, unsafe.Pointer(&reg)); err != nil {
		unix.Close(u.fd)
		return nil, fmt.Errorf("UFFDIO_REGISTER: %w", err)
	}
	return u, nil
}

func (u *Userfault) ioctl(req uintptr, arg unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(u.fd), req, uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

func (u *Userfault) whole() uffdioRange {
	return uffdioRange{Start: uint64(uintptr(unsafe.Pointer(&u.mem[0]))), Len: uint64(len(u.mem))}
}

// Mem is the registered memory. Touching it from Go waits too.
func (u *Userfault) Mem() []byte { return u.mem }

// Faulted says whether something is waiting for a page: the kernel has
// queued a page-fault message on the userfaultfd.
func (u *Userfault) Faulted() bool {
	fds := []unix.PollFd{{Fd: int32(u.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n == 1
}

// WaitFaulted waits up to d for Faulted.
func (u *Userfault) WaitFaulted(d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if u.Faulted() {
			return true
		}
	}
	return false
}

// Resolve fills every missing page with zeros, waking whatever waits.
func (u *Userfault) Resolve() {
	z := uffdioZeropageArg{Range: u.whole()}
	// EEXIST for pages already filled is expected; other pages are filled.
	_ = u.ioctl(uffdioZeropage, unsafe.Pointer(&z))
}

// ResolveWith fills the first page, if it is still missing, with b (at
// most a page of it, the rest zeros), waking whatever waits for it.
func (u *Userfault) ResolveWith(b []byte) error {
	page := make([]byte, unix.Getpagesize())
	copy(page, b)
	c := uffdioCopyArg{Dst: uint64(uintptr(unsafe.Pointer(&u.mem[0]))), Src: uint64(uintptr(unsafe.Pointer(&page[0]))),
		Len: uint64(len(page))}
	err := u.ioctl(uffdioCopy, unsafe.Pointer(&c))
	if err == unix.EEXIST {
		return nil // already there: nothing waited for it
	}
	return err
}

// Drop makes every page missing again (MADV_DONTNEED), so that the next
// touch waits once more.
func (u *Userfault) Drop() error {
	return unix.Madvise(u.mem, unix.MADV_DONTNEED)
}

// Close resolves every page and closes the userfaultfd. The memory stays
// mapped: a copy that was waiting may still be finishing on another
// thread.
func (u *Userfault) Close() error {
	u.Resolve()
	return unix.Close(u.fd)
}
