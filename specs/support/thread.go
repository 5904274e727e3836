package support

import (
	"runtime"
	"unsafe"

	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// QuietThread locks the calling goroutine to its OS thread for good and
// blocks every signal on that thread except the ones named. A wait with a
// time limit in the module ends with EINTR when any signal reaches the
// waiting thread (docs/kbus.md §7.1), and a Go program's threads get
// signals the spec did not send: the runtime's own preemption signal
// (SIGURG), which can reach a thread that has just entered a system call,
// and a finished child's SIGCHLD. A spec whose thread must wait undisturbed
// calls this first, in the goroutine that will wait. The thread ends with
// the goroutine (it is never unlocked), so the mask reaches no other
// goroutine.
func QuietThread(let ...unix.Signal) {
	runtime.LockOSThread()
	var set unix.Sigset_t
	word := 8 * uint(unsafe.Sizeof(set.Val[0])) // 32 or 64 bits, by architecture
	for i := range set.Val {
		set.Val[i]-- // all ones
	}
	for _, s := range let {
		n := uint(s) - 1
		set.Val[n/word] &^= 1 << (n % word)
	}
	Expect(unix.PthreadSigmask(unix.SIG_SETMASK, &set, nil)).To(Succeed())
}
