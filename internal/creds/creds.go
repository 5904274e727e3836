// Package creds runs a function as another user on one thread of an
// otherwise unchanged process: how the specs and the model comparison act
// as an unprivileged holder of a Ksock (docs/kbus.md §18.5).
package creds

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// Nobody is the unprivileged user (and group) id the project acts as
// wherever it needs another user: the specs, the model comparison, the
// fuzzer's second process, the guest's member suites.
const Nobody = 65534

// Do runs f on an operating-system thread of its own whose user and group
// ids are uid and gid, with no supplementary groups and so no
// capabilities, and waits for it. The ids are changed with the raw system
// calls, which act on the calling thread only (the C library and Go's
// syscall package change every thread), and the thread is never given
// back to the Go runtime: it ends with f. Descriptors are the process's,
// so f may use one opened before. A panic in f is raised again in the
// caller; an error is returned when the ids could not be changed, and f
// did not run.
func Do(uid, gid int, f func()) error {
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		var r result
		defer func() {
			r.panic = recover()
			done <- r
		}()
		for _, c := range []struct {
			name string
			nr   uintptr
			args [3]uintptr
		}{
			{"setgroups", sysSetgroups, [3]uintptr{0, 0, 0}},
			{"setresgid", sysSetresgid, [3]uintptr{uintptr(gid), uintptr(gid), uintptr(gid)}},
			{"setresuid", sysSetresuid, [3]uintptr{uintptr(uid), uintptr(uid), uintptr(uid)}},
		} {
			if _, _, e := unix.RawSyscall(c.nr, c.args[0], c.args[1], c.args[2]); e != 0 {
				r.err = fmt.Errorf("changing this thread's ids: %s: %w", c.name, e)
				return
			}
		}
		f()
	}()
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}
