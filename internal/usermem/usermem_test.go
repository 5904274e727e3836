package usermem

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestReadOnlyHoldsTheBytesAndRefusesWrites(t *testing.T) {
	mem, err := ReadOnly([]byte("kbus"))
	if err != nil {
		t.Fatal(err)
	}
	defer Unmap(mem)
	if !bytes.HasPrefix(mem, []byte("kbus")) || len(mem) != unix.Getpagesize() {
		t.Fatalf("mapping holds %q..., %d bytes", mem[:4], len(mem))
	}
	// The kernel may read it but not write it: a pipe's read into it
	// fails with EFAULT, a write from it works.
	p := make([]int, 2)
	if err := unix.Pipe(p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if _, err := unix.Write(p[1], mem[:4]); err != nil {
		t.Fatalf("writing from the mapping: %v", err)
	}
	_, _, e := unix.Syscall(unix.SYS_READ, uintptr(p[0]), uintptr(unsafe.Pointer(&mem[0])), 4)
	if !errors.Is(e, unix.EFAULT) {
		t.Fatalf("reading into the mapping: %v, want EFAULT", e)
	}
}

func TestIoctlReadOnlyGivesTheKernelAnArgumentItCannotWrite(t *testing.T) {
	p := make([]int, 2)
	if err := unix.Pipe(p); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	// FIONREAD (TIOCINQ) writes the bytes waiting into its argument.
	if err := IoctlReadOnly(p[0], unix.TIOCINQ, make([]byte, 4)); !errors.Is(err, unix.EFAULT) {
		t.Fatalf("FIONREAD into read-only memory: %v, want EFAULT", err)
	}
}
