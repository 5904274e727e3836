package support

import (
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	"golang.org/x/sys/unix"
)

// Nobody is the unprivileged user and group the specs act as.
const Nobody = 65534

// AsUser runs f on an operating-system thread of its own whose user and
// group ids are uid and gid, with no supplementary groups and so no
// capabilities, and waits for it. The rest of the spec process stays
// root: the ids are changed with the raw system calls, which act on the
// calling thread only (the C library and Go's syscall package change
// every thread), and the thread is never given back to the Go runtime:
// it ends with f. Descriptors are shared, so f may use a Ksock the spec
// opened as root and see what an unprivileged holder of it would
// (docs/kbus.md §18.5). A failed assertion in f fails the spec.
func AsUser(uid, gid int, f func()) {
	GinkgoHelper()
	done := make(chan any, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		defer func() { done <- recover() }()
		for _, c := range []struct {
			nr   uintptr
			args [3]uintptr
		}{
			{sysSetgroups, [3]uintptr{0, 0, 0}},
			{sysSetresgid, [3]uintptr{uintptr(gid), uintptr(gid), uintptr(gid)}},
			{sysSetresuid, [3]uintptr{uintptr(uid), uintptr(uid), uintptr(uid)}},
		} {
			if _, _, e := unix.RawSyscall(c.nr, c.args[0], c.args[1], c.args[2]); e != 0 {
				Fail("changing this thread's ids: " + e.Error())
			}
		}
		f()
	}()
	if r := <-done; r != nil {
		panic(r)
	}
}
