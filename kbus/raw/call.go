package raw

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Call makes ioctl nr, in this program's own layout, on descriptor fd
// with arg as its argument: the value the ioctl returns, or its errno as
// a unix.Errno (so errors.Is(err, unix.EAGAIN) and the like work). The
// caller keeps what arg points to alive across the call.
func Call(fd uintptr, nr int, arg unsafe.Pointer) (int, error) {
	return CallCmd(fd, Native.Ioctl(nr), arg)
}

// CallCmd is Call with the command number as it is: one from another
// layout, or none of KBUS's, for a caller that tests how the module
// answers it.
func CallCmd(fd uintptr, cmd uint32, arg unsafe.Pointer) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_IOCTL, fd, uintptr(cmd), uintptr(arg))
	if e != 0 {
		return int(r), e
	}
	return int(r), nil
}
