package core_test

import (
	"encoding/binary"
	"io"
	"strings"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§8 Writing, reading and polling", func() {
	var sender, listener *kbus.Ksock
	l := raw.Native
	le := binary.LittleEndian

	BeforeEach(func() {
		sender, listener = RW(), RW()
		BindListener(listener, "$.RW.*")
	})

	header := func(mutate func(b []byte)) []byte {
		b := l.EncodeEntire(raw.Header{}, "$.RW.x", []byte("data"))[:l.HeaderSize()]
		mutate(b)
		return b
	}

	Describe("§8.1 writing", func() {
		It("accepts a message written one byte at a time", func() {
			msg := kbus.NewAnnouncement("$.RW.Bytes", []byte("one at a time")).Bytes()
			for i := range msg {
				n, err := sender.Syscalls().Write(msg[i : i+1])
				Expect(err).NotTo(HaveOccurred())
				Expect(n).To(Equal(1))
			}
			_, err := sender.Syscalls().Send()
			Expect(err).NotTo(HaveOccurred())
			Expect(Next(listener).Data).To(Equal([]byte("one at a time")))
		})

		It("accepts a message written in uneven pieces across every part", func() {
			msg := kbus.NewAnnouncement("$.RW.Pieces", []byte("abcdefghijk")).Bytes()
			for _, cut := range [][2]int{{0, 3}, {3, 50}, {50, l.HeaderSize() + 2}, {l.HeaderSize() + 2, len(msg) - 5}, {len(msg) - 5, len(msg)}} {
				_, err := sender.Syscalls().Write(msg[cut[0]:cut[1]])
				Expect(err).NotTo(HaveOccurred())
			}
			_, err := sender.Syscalls().Send()
			Expect(err).NotTo(HaveOccurred())
			Expect(Next(listener).Data).To(Equal([]byte("abcdefghijk")))
		})

		DescribeTable("refuses a bad header as soon as it is complete, and forgets the message",
			func(mutate func(b []byte), want error) {
				_, err := sender.Syscalls().Write(header(mutate))
				Expect(err).To(MatchError(want))
				_, err = sender.Syscalls().Send()
				Expect(err).To(MatchError(kbus.ErrNoMessage))
			},
			Entry("bad start guard → EINVAL", func(b []byte) { b[0]++ }, kbus.ErrInvalid),
			Entry("bad header end guard → EINVAL", func(b []byte) { b[l.EndGuardOffset()]++ }, kbus.ErrInvalid),
			Entry("name_len 0 → EINVAL", func(b []byte) { le.PutUint32(b[52:], 0) }, kbus.ErrInvalid),
			Entry("name_len 1001 → ENAMETOOLONG", func(b []byte) { le.PutUint32(b[52:], 1001) }, kbus.ErrNameTooLong),
			Entry("data pointer without name pointer → EINVAL", func(b []byte) { putPtr(b, l.DataOffset(), 0x1000) }, kbus.ErrInvalid),
			Entry("name pointer, no data pointer, data_len > 0 → EINVAL", func(b []byte) { putPtr(b, l.NameOffset(), 0x1000) }, kbus.ErrInvalid),
			Entry("data pointer with data_len 0 → EINVAL", func(b []byte) {
				putPtr(b, l.NameOffset(), 0x1000)
				putPtr(b, l.DataOffset(), 0x1000)
				le.PutUint32(b[56:], 0)
			}, kbus.ErrInvalid),
			Entry("ALL_OR_WAIT with ALL_OR_FAIL → EINVAL", func(b []byte) {
				le.PutUint32(b[48:], kbus.FlagAllOrWait|kbus.FlagAllOrFail)
			}, kbus.ErrInvalid),
			Entry("larger than the device maximum → EMSGSIZE", func(b []byte) { le.PutUint32(b[56:], 409600) }, kbus.ErrTooBig),
		)

		It("checks the header in the documented order", func() {
			// A bad start guard wins over everything else that is wrong.
			_, err := sender.Syscalls().Write(header(func(b []byte) {
				b[0]++
				le.PutUint32(b[52:], 5000)
			}))
			Expect(err).To(MatchError(kbus.ErrInvalid))
			// name_len > 1000 wins over an oversized message.
			_, err = sender.Syscalls().Write(header(func(b []byte) {
				le.PutUint32(b[52:], 5000)
				le.PutUint32(b[56:], 500000)
			}))
			Expect(err).To(MatchError(kbus.ErrNameTooLong))
		})

		It("refuses an invalid name in an entire message with EBADMSG when its last byte arrives", func() {
			b := kbus.NewAnnouncement("$.RW.ok", nil).Bytes()
			copy(b[l.HeaderSize():], "$.RW.o-")
			_, err := sender.Syscalls().Write(b[:l.HeaderSize()+6])
			Expect(err).NotTo(HaveOccurred())
			_, err = sender.Syscalls().Write(b[l.HeaderSize()+6 : l.HeaderSize()+7])
			Expect(err).To(MatchError(kbus.ErrBadName))
		})

		It("refuses a bad final end guard with EINVAL", func() {
			b := kbus.NewAnnouncement("$.RW.x", []byte("d")).Bytes()
			b[len(b)-1]++
			_, err := sender.Syscalls().Write(b)
			Expect(err).To(MatchError(kbus.ErrInvalid))
		})

		It("refuses bytes after a complete message with EMSGSIZE and throws the message away", func() {
			b := kbus.NewAnnouncement("$.RW.x", nil).Bytes()
			_, err := sender.Syscalls().Write(append(b, 0))
			Expect(err).To(MatchError(kbus.ErrTooBig))
			_, err = sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrNoMessage))
		})

		It("refuses SEND of an incomplete message with EINVAL and discards it", func() {
			b := kbus.NewAnnouncement("$.RW.x", nil).Bytes()
			_, err := sender.Syscalls().Write(b[:len(b)-1])
			Expect(err).NotTo(HaveOccurred())
			_, err = sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrInvalid))
			_, err = sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrNoMessage))
		})

		It("says ENOMSG for SEND with nothing written, or after DISCARD", func() {
			_, err := sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrNoMessage))
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.RW.x", nil))).To(Succeed())
			Expect(sender.Discard()).To(Succeed())
			_, err = sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrNoMessage))
			Empty(listener)
		})

		It("refuses write() on a read-only Ksock with EBADF", func() {
			ro := Open(Device, kbus.ReadOnly)
			Expect(ro.Syscalls().WriteMsg(kbus.NewAnnouncement("$.RW.x", nil))).To(MatchError(kbus.ErrReadOnly))
		})

		It("honours the device's maximum message size, including a 1000-byte name at the default", func() {
			long := "$.RW." + strings.Repeat("n", 995)
			BindListener(listener, long)
			Send(sender, kbus.NewAnnouncement(long, nil))
			Expect(Next(listener).Name).To(Equal(long))
			_, err := sender.SetMaxMessageSize(200)
			Expect(err).NotTo(HaveOccurred())
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.RW.x", make([]byte, 200)))).To(MatchError(kbus.ErrTooBig))
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.RW.x", make([]byte, 50)))).To(Succeed())
		})
	})

	Describe("§8.3 reading", func() {
		BeforeEach(func() {
			Send(sender, kbus.NewAnnouncement("$.RW.Read", []byte("0123456789")))
		})

		It("reads nothing (EOF) until NEXTMSG selects a message", func() {
			buf := make([]byte, 10)
			_, err := listener.Syscalls().Read(buf)
			Expect(err).To(Equal(io.EOF))
		})

		It("reads a message in pieces, LENLEFT counting down exactly", func() {
			n, err := listener.Syscalls().NextMsg()
			Expect(err).NotTo(HaveOccurred())
			var all []byte
			for _, size := range []int{1, 5, l.HeaderSize(), 3, 100000} {
				left, err := listener.Syscalls().LenLeft()
				Expect(err).NotTo(HaveOccurred())
				Expect(int(left)).To(Equal(int(n) - len(all)))
				buf := make([]byte, size)
				got, err := listener.Syscalls().Read(buf)
				if err == io.EOF {
					break
				}
				Expect(err).NotTo(HaveOccurred())
				all = append(all, buf[:got]...)
			}
			Expect(len(all)).To(Equal(int(n)))
			m, err := kbus.FromBytes(all)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.Data).To(Equal([]byte("0123456789")))
			Expect(listener.Syscalls().LenLeft()).To(BeZero())
			_, err = listener.Syscalls().Read(make([]byte, 4))
			Expect(err).To(Equal(io.EOF))
		})

		It("abandons the rest of the current message at the next NEXTMSG", func() {
			Send(sender, kbus.NewAnnouncement("$.RW.Second", nil))
			_, err := listener.Syscalls().NextMsg()
			Expect(err).NotTo(HaveOccurred())
			_, err = listener.Syscalls().Read(make([]byte, 10))
			Expect(err).NotTo(HaveOccurred())
			Expect(Next(listener).Name).To(Equal("$.RW.Second"))
		})

		It("returns 0 from NEXTMSG on an empty queue", func() {
			Next(listener)
			n, err := listener.Syscalls().NextMsg()
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(BeZero())
		})
	})

	Describe("§8.4 polling", func() {
		pollOnce := func(ks *kbus.Ksock) int16 {
			fds := []unix.PollFd{{Fd: int32(ks.Fd()), Events: unix.POLLIN | unix.POLLOUT}}
			_, err := unix.Poll(fds, 0)
			for err == unix.EINTR { // a signal during the call, e.g. Go's preemption
				_, err = unix.Poll(fds, 0)
			}
			Expect(err).NotTo(HaveOccurred())
			return fds[0].Revents
		}

		It("is readable exactly while messages are queued", func() {
			Expect(pollOnce(listener) & unix.POLLIN).To(BeZero())
			Send(sender, kbus.NewAnnouncement("$.RW.Poll", nil))
			Expect(pollOnce(listener) & unix.POLLIN).NotTo(BeZero())
			Next(listener)
			Expect(pollOnce(listener) & unix.POLLIN).To(BeZero())
		})

		It("is writable when opened for writing, never when read-only", func() {
			Expect(pollOnce(sender) & unix.POLLOUT).NotTo(BeZero())
			ro := Open(Device, kbus.ReadOnly)
			Expect(pollOnce(ro) & unix.POLLOUT).To(BeZero())
		})

		It("never reports errors", func() {
			Expect(pollOnce(sender) & (unix.POLLERR | unix.POLLHUP)).To(BeZero())
		})
	})
})

func putPtr(b []byte, off int, v uint64) {
	if raw.Native.PtrSize == 8 {
		binary.LittleEndian.PutUint64(b[off:], v)
	} else {
		binary.LittleEndian.PutUint32(b[off:], uint32(v))
	}
}
