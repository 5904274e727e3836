package support

import (
	"errors"
	"unsafe"

	"github.com/kbus-project/kbus/internal/usermem"
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// RawKsock is a Ksock's bare descriptor, outside the Go runtime's poller.
// KBUS retries a pending ALL_OR_WAIT send whenever the Ksock is polled
// (docs/kbus.md §8.4), and a kbus.Ksock is polled by the runtime whenever
// KBUS wakes it; a spec that must decide when the retry happens (SEND
// again, or poll) sends from a RawKsock, which nothing polls but the spec.
type RawKsock struct{ Fd int }

// OpenRaw opens a read/write descriptor on the spec device, closed when
// the spec ends.
func OpenRaw() *RawKsock {
	GinkgoHelper()
	fd, err := unix.Open(kbus.DevicePath(Device), unix.O_RDWR|unix.O_CLOEXEC, 0)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(unix.Close, fd)
	return &RawKsock{Fd: fd}
}

func errnoOf(err error) error {
	var n unix.Errno
	if errors.As(err, &n) {
		return kbus.Errno(n)
	}
	return err
}

func (r *RawKsock) ioctl(nr int, arg unsafe.Pointer) error {
	_, err := raw.Call(uintptr(r.Fd), nr, arg)
	return errnoOf(err)
}

// Ioctl issues ioctl nr with arg as it is, for specs that build their own
// argument (a name in memory that waits for its page, say).
func (r *RawKsock) Ioctl(nr int, arg unsafe.Pointer) error { return r.ioctl(nr, arg) }

// U32 issues an ioctl whose argument is one uint32, and returns it.
func (r *RawKsock) U32(nr int, v uint32) uint32 {
	GinkgoHelper()
	Expect(r.ioctl(nr, unsafe.Pointer(&v))).To(Succeed())
	return v
}

// ID is the Ksock's id.
func (r *RawKsock) ID() uint32 { return r.U32(raw.NrKsockID, 0) }

func (r *RawKsock) bind(name string, replier uint32) {
	GinkgoHelper()
	b := append([]byte(name), 0)
	req := raw.BindRequest{First: replier, NameLen: uint32(len(name)), Name: &b[0]}
	Expect(r.ioctl(raw.NrBind, unsafe.Pointer(&req))).To(Succeed())
}

// BindListener binds as a listener.
func (r *RawKsock) BindListener(name string) { r.bind(name, 0) }

// BindReplier binds as the replier.
func (r *RawKsock) BindReplier(name string) { r.bind(name, 1) }

// Send writes the message's entire form and SENDs it.
func (r *RawKsock) Send(m *kbus.Message) (kbus.MessageID, error) {
	GinkgoHelper()
	_, err := unix.Write(r.Fd, m.Bytes())
	Expect(err).NotTo(HaveOccurred())
	return r.SendAgain()
}

// SendAgain is SEND alone: after a pending send's EAGAIN, the retry.
func (r *RawKsock) SendAgain() (kbus.MessageID, error) {
	var id kbus.MessageID
	err := r.ioctl(raw.NrSend, unsafe.Pointer(&id))
	return id, errnoOf(err)
}

// Writable polls once, without waiting: a pending send is retried.
func (r *RawKsock) Writable() bool {
	GinkgoHelper()
	fds := []unix.PollFd{{Fd: int32(r.Fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(fds, 0)
	Expect(err).NotTo(HaveOccurred())
	return n > 0 && fds[0].Revents&unix.POLLOUT != 0
}

// Ready polls once for reading and writing, without waiting: a pending
// send is retried.
func (r *RawKsock) Ready() (readable, writable bool) {
	GinkgoHelper()
	fds := []unix.PollFd{{Fd: int32(r.Fd), Events: unix.POLLIN | unix.POLLOUT}}
	_, err := unix.Poll(fds, 0)
	Expect(err).NotTo(HaveOccurred())
	return fds[0].Revents&unix.POLLIN != 0, fds[0].Revents&unix.POLLOUT != 0
}

// Next reads the next message, failing the spec if there is none.
func (r *RawKsock) Next() *kbus.Message {
	GinkgoHelper()
	n := r.U32(raw.NrNextMsg, 0)
	Expect(n).NotTo(BeZero(), "a message queued")
	b := make([]byte, n)
	got, err := unix.Read(r.Fd, b)
	Expect(err).NotTo(HaveOccurred())
	Expect(got).To(Equal(int(n)))
	m, err := kbus.FromBytes(b)
	Expect(err).NotTo(HaveOccurred())
	return m
}

// RecvMsg is one RECVMSG into a buffer of bufLen bytes (at least one),
// waiting up to timeoutMS: the bytes received, the length the module put
// in len, and the error.
func RecvMsg(fd int, bufLen, timeoutMS uint32) ([]byte, uint32, error) {
	buf := make([]byte, max(bufLen, 1))
	arg := raw.Receive{Len: bufLen, TimeoutMS: timeoutMS, Buf: &buf[0]}
	n, err := raw.Call(uintptr(fd), raw.NrRecvMsg, unsafe.Pointer(&arg))
	if err != nil {
		return nil, arg.Len, errnoOf(err)
	}
	return buf[:n], arg.Len, nil
}

// RecvMany is one RECVMANY into a buffer of bufLen bytes (at least one),
// taking at most most messages (0: as many as fit), waiting up to
// timeoutMS: the messages, the len and count the module put back, and the
// error.
func RecvMany(fd int, bufLen, most, timeoutMS uint32) ([]*kbus.Message, uint32, uint32, error) {
	GinkgoHelper()
	buf := make([]byte, max(bufLen, 1))
	arg := raw.ReceiveMany{Len: bufLen, TimeoutMS: timeoutMS, Max: most, Buf: &buf[0]}
	n, err := raw.Call(uintptr(fd), raw.NrRecvMany, unsafe.Pointer(&arg))
	if err != nil {
		return nil, arg.Len, arg.Count, errnoOf(err)
	}
	Expect(arg.Count).To(BeEquivalentTo(n), "RECVMANY returns the count it puts in count")
	bs, rest, err := raw.Native.SplitEntire(buf[:arg.Len], n)
	Expect(err).NotTo(HaveOccurred(), "the %d messages within len", n)
	Expect(rest).To(BeEmpty(), "len is the bytes of the messages taken")
	ms := make([]*kbus.Message, 0, n)
	for _, b := range bs {
		m, err := kbus.FromBytes(b)
		Expect(err).NotTo(HaveOccurred())
		ms = append(ms, m)
	}
	return ms, arg.Len, arg.Count, nil
}

// SendMsg is one SENDMSG of the message at b (pointy or entire); the id
// the module wrote into it, and the error.
func SendMsg(fd int, b []byte) (kbus.MessageID, error) {
	_, err := raw.Call(uintptr(fd), raw.NrSendMsg, unsafe.Pointer(&b[0]))
	id := kbus.MessageID{Network: raw.Order.Uint32(b[4:]), Serial: raw.Order.Uint32(b[8:])}
	return id, errnoOf(err)
}

// ReadOnlyIoctl is ioctl nr on fd with its argument, a copy of arg, in a
// page the module may read but not write. What arg points to is the
// caller's to keep alive.
func ReadOnlyIoctl(fd, nr int, arg []byte) error {
	GinkgoHelper()
	err := usermem.IoctlReadOnly(fd, raw.Native.Ioctl(nr), arg)
	var e unix.Errno
	if errors.As(err, &e) {
		return kbus.Errno(e)
	}
	Expect(err).NotTo(HaveOccurred(), "mapping the argument")
	return nil
}
