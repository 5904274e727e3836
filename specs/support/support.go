// Package support holds helpers shared by the spec suites that run in the
// guest: opening Ksocks that close themselves after a spec, reading with a
// deadline, and raw writes for ABI specs.
package support

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// Device is the device every suite's specs use: the one the guest gives
// the suite in $KBUS_DEVICE, so that suites run side by side each on a
// device of its own (docs/testing.md, "Suites side by side"), else 0.
var Device = deviceFromEnv()

func deviceFromEnv() int {
	dev, err := kbus.DefaultDevice()
	if err != nil {
		panic(err)
	}
	return dev
}

// Open opens a Ksock on dev that is closed when the current spec ends.
func Open(dev int, mode kbus.Mode) *kbus.Ksock {
	GinkgoHelper()
	ks, err := kbus.Open(dev, mode)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ks.Close)
	return ks
}

// RW opens a read/write Ksock on the core device.
func RW() *kbus.Ksock {
	GinkgoHelper()
	return Open(Device, kbus.ReadWrite)
}

// ID returns a Ksock's id.
func ID(ks *kbus.Ksock) uint32 {
	GinkgoHelper()
	id, err := ks.ID()
	Expect(err).NotTo(HaveOccurred())
	return id
}

// ReplierOf waits until name has a replier on device dev and returns its
// Ksock id, failing the spec if none appears within the given time.
func ReplierOf(dev int, name string, within time.Duration) uint32 {
	GinkgoHelper()
	ks, err := kbus.Open(dev, kbus.ReadOnly)
	Expect(err).NotTo(HaveOccurred())
	defer ks.Close()
	var id uint32
	Eventually(func() bool {
		var found bool
		id, found, _ = ks.FindReplier(name)
		return found
	}).WithTimeout(within).WithPolling(20*time.Millisecond).Should(BeTrue(), "no replier for %s on kbus%d", name, dev)
	return id
}

// Epoll adds ks to a new epoll instance (closed when the spec ends) for
// events, and returns a function that waits up to d for them and returns
// the events that came, 0 for none. epoll registers with the Ksock once,
// here, which is what the specs that use it check.
func Epoll(ks *kbus.Ksock, events uint32) func(d time.Duration) uint32 {
	GinkgoHelper()
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(unix.Close, ep)
	Expect(unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, ks.Fd(), &unix.EpollEvent{Events: events, Fd: int32(ks.Fd())})).To(Succeed())
	return func(d time.Duration) uint32 {
		GinkgoHelper()
		evs := make([]unix.EpollEvent, 1)
		for {
			n, err := unix.EpollWait(ep, evs, int(d/time.Millisecond))
			if err == unix.EINTR {
				continue
			}
			Expect(err).NotTo(HaveOccurred())
			if n == 0 {
				return 0
			}
			return evs[0].Events
		}
	}
}

// BindListener binds as a listener or fails the spec.
func BindListener(ks *kbus.Ksock, name string) {
	GinkgoHelper()
	Expect(ks.BindListener(name)).To(Succeed())
}

// BindReplier binds as the replier or fails the spec.
func BindReplier(ks *kbus.Ksock, name string) {
	GinkgoHelper()
	Expect(ks.BindReplier(name)).To(Succeed())
}

// Send sends or fails the spec.
func Send(ks *kbus.Ksock, m *kbus.Message) kbus.MessageID {
	GinkgoHelper()
	id, err := ks.Send(m)
	Expect(err).NotTo(HaveOccurred())
	return id
}

// Next reads the next message, failing the spec if there is none.
func Next(ks *kbus.Ksock) *kbus.Message {
	GinkgoHelper()
	m, err := ks.TryReceive()
	Expect(err).NotTo(HaveOccurred())
	Expect(m).NotTo(BeNil(), "expected a message on %v", ks)
	return m
}

// CtxFor returns a context that ends after d, or with the spec.
func CtxFor(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	DeferCleanup(cancel)
	return ctx
}

// WaitNext waits up to d for the next message.
func WaitNext(ks *kbus.Ksock, d time.Duration) *kbus.Message {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	m, err := ks.Receive(ctx)
	Expect(err).NotTo(HaveOccurred())
	return m
}

// Empty expects the Ksock's queue to be empty.
func Empty(ks *kbus.Ksock) {
	GinkgoHelper()
	n, err := ks.NumMessages()
	Expect(err).NotTo(HaveOccurred())
	Expect(n).To(BeZero(), "queue of %v", ks)
	m, err := ks.TryReceive()
	Expect(err).NotTo(HaveOccurred())
	Expect(m).To(BeNil())
}

// Names reads every queued message and returns their names.
func Names(ks *kbus.Ksock) []string {
	GinkgoHelper()
	var names []string
	for {
		m, err := ks.TryReceive()
		Expect(err).NotTo(HaveOccurred())
		if m == nil {
			return names
		}
		names = append(names, m.Name)
	}
}

// Ptr returns the address of b's first byte, for pointy messages and raw
// bind structures, and pins b there until the spec ends. KBUS reads a
// pointy message's name and data at SEND, a call after the write that
// gave it the address: without the pin, b could live on the goroutine's
// stack, which Go moves when it grows, and KBUS would read the old copy.
func Ptr(b []byte) uint64 {
	var pin runtime.Pinner
	pin.Pin(&b[0])
	DeferCleanup(pin.Unpin)
	return uint64(uintptr(unsafe.Pointer(&b[0])))
}

// ProcFile returns the contents of /proc/kbus/NAME.
func ProcFile(name string) string {
	GinkgoHelper()
	b, err := os.ReadFile("/proc/kbus/" + name)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// ChownNode gives the node path to uid and gid until the spec (or the
// suite, in a BeforeSuite) ends, and then gives it back to whoever had it:
// a distribution run's udev gives the nodes to the kbus group
// (docs/kbus.md §18.5), and other suites, run as members of it, open
// them after this one.
func ChownNode(path string, uid, gid int) {
	GinkgoHelper()
	var st unix.Stat_t
	Expect(unix.Stat(path, &st)).To(Succeed())
	Expect(os.Chown(path, uid, gid)).To(Succeed())
	DeferCleanup(os.Chown, path, int(st.Uid), int(st.Gid))
}

// DeviceBindings returns Device's lines of /proc/kbus/bindings. The file
// lists every device, and suites run side by side each on a device of its
// own (docs/testing.md): a spec that read the whole file would see
// another suite's bindings, which may carry the same names.
func DeviceBindings() string {
	GinkgoHelper()
	head := fmt.Sprintf("%3d:", Device)
	var part []string
	for _, line := range strings.SplitAfter(ProcFile("bindings"), "\n") {
		if strings.HasPrefix(line, head) {
			part = append(part, line)
		}
	}
	return strings.Join(part, "")
}

// DeviceStats returns Device's part of /proc/kbus/stats: its "dev N:"
// line and the Ksock lines under it.
func DeviceStats() string {
	GinkgoHelper()
	head := fmt.Sprintf("dev %2d:", Device)
	var part []string
	for _, line := range strings.SplitAfter(ProcFile("stats"), "\n") {
		switch {
		case strings.HasPrefix(line, head):
			part = append(part, line)
		case strings.HasPrefix(line, "dev "):
			if len(part) > 0 {
				return strings.Join(part, "")
			}
		case len(part) > 0:
			part = append(part, line)
		}
	}
	return strings.Join(part, "")
}

// Param reads NAME=N (e.g. fuzz.seconds=60) from the guest's kernel
// command line, where the rig puts a run's -kernel-arg settings.
func Param(name string) (int64, bool) {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// Seed is the seed NAME=N on the kernel command line gives (fixed), or a
// fresh one from the clock, small enough to type back in.
func Seed(name string) (seed int64, fixed bool) {
	if seed, fixed = Param(name); fixed {
		return seed, true
	}
	return time.Now().UnixNano() % 1_000_000_000, false
}
