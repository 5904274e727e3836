package core_test

import (
	"encoding/binary"
	"io"
	"runtime"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// These specs write hand-built byte layouts, so that the header is checked
// independently of the Go API's encoder.
var _ = Describe("§4 The binary message format", func() {
	var sender, listener *kbus.Ksock
	l := raw.Native
	le := binary.LittleEndian

	BeforeEach(func() {
		sender, listener = RW(), RW()
		BindListener(listener, "$.Fred")
	})

	handBuilt := func(dataLen int) []byte {
		// $.Fred, data "1234567" (or none), every field at its documented offset.
		b := make([]byte, l.EntireLen(6, uint32(dataLen)))
		le.PutUint32(b[0:], 0x7375624B)
		le.PutUint32(b[20:], 0)          // to
		le.PutUint32(b[48:], 0x00010000) // a user flag
		le.PutUint32(b[52:], 6)
		le.PutUint32(b[56:], uint32(dataLen))
		le.PutUint32(b[l.EndGuardOffset():], 0x4B627573)
		copy(b[l.HeaderSize():], "$.Fred")
		off := l.HeaderSize() + 8
		if dataLen > 0 {
			copy(b[off:], "1234567"[:dataLen])
			off += 8
		}
		le.PutUint32(b[off:], 0x4B627573)
		return b
	}

	It("has the documented header size and entire lengths for this architecture (§4.1, §4.4)", func() {
		if l.PtrSize == 8 {
			Expect(l.HeaderSize()).To(Equal(88))
			Expect(len(handBuilt(0))).To(Equal(100))
			Expect(len(handBuilt(7))).To(Equal(108))
		} else {
			Expect(l.HeaderSize()).To(Equal(72))
			Expect(len(handBuilt(0))).To(Equal(84))
			Expect(len(handBuilt(7))).To(Equal(92))
		}
	})

	It("accepts an entire message built by hand and reads it back byte for byte", func() {
		in := handBuilt(7)
		_, err := sender.Syscalls().Write(in)
		Expect(err).NotTo(HaveOccurred())
		id, err := sender.Syscalls().Send()
		Expect(err).NotTo(HaveOccurred())

		n, err := listener.Syscalls().NextMsg()
		Expect(err).NotTo(HaveOccurred())
		Expect(int(n)).To(Equal(len(in)))
		out := make([]byte, n)
		_, err = io.ReadFull(listener.Syscalls(), out)
		Expect(err).NotTo(HaveOccurred())

		want := append([]byte(nil), in...)
		le.PutUint32(want[4:], id.Network)
		le.PutUint32(want[8:], id.Serial)
		le.PutUint32(want[24:], ID(sender)) // from
		Expect(out).To(Equal(want))
	})

	It("writes no data section at all when data_len is 0", func() {
		in := handBuilt(0)
		_, err := sender.Syscalls().Write(in)
		Expect(err).NotTo(HaveOccurred())
		_, err = sender.Syscalls().Send()
		Expect(err).NotTo(HaveOccurred())
		m := Next(listener)
		Expect(m.Data).To(BeEmpty())
	})

	It("accepts a pointy message: a header whose pointers point at the name and data (§4.3)", func() {
		name := []byte("$.Fred\x00")
		data := []byte("pointy data")
		h := raw.Header{NameLen: 6, DataLen: uint32(len(data)), Flags: 0x20000}
		_, err := sender.Syscalls().Write(l.EncodePointy(h, Ptr(name), Ptr(data)))
		Expect(err).NotTo(HaveOccurred())
		_, err = sender.Syscalls().Send()
		runtime.KeepAlive(name)
		runtime.KeepAlive(data)
		Expect(err).NotTo(HaveOccurred())
		m := Next(listener)
		Expect(m.Name).To(Equal("$.Fred"))
		Expect(m.Data).To(Equal(data))
		Expect(m.Flags).To(Equal(uint32(0x20000)))
	})

	It("reads pointy name and data only at SEND time", func() {
		name := []byte("$.Fred\x00")
		data := []byte("before")
		_, err := sender.Syscalls().Write(l.EncodePointy(raw.Header{NameLen: 6, DataLen: 6}, Ptr(name), Ptr(data)))
		Expect(err).NotTo(HaveOccurred())
		copy(data, "after!")
		_, err = sender.Syscalls().Send()
		runtime.KeepAlive(name)
		runtime.KeepAlive(data)
		Expect(err).NotTo(HaveOccurred())
		Expect(Next(listener).Data).To(Equal([]byte("after!")))
	})

	It("refuses a pointy message with a bad name pointer with EFAULT at SEND", func() {
		_, err := sender.Syscalls().Write(l.EncodePointy(raw.Header{NameLen: 6}, 16, 0))
		Expect(err).NotTo(HaveOccurred())
		_, err = sender.Syscalls().Send()
		Expect(err).To(MatchError(kbus.ErrFault))
		_, err = sender.Syscalls().Send()
		Expect(err).To(MatchError(kbus.ErrNoMessage), "the failed message is gone")
	})

	It("refuses a pointy message with an invalid or wildcard name with EBADMSG at SEND", func() {
		for _, n := range []string{"$.Fr-d\x00", "$.Fred.*\x00"} {
			name := []byte(n)
			_, err := sender.Syscalls().Write(l.EncodePointy(raw.Header{NameLen: uint32(len(n) - 1)}, Ptr(name), 0))
			Expect(err).NotTo(HaveOccurred())
			_, err = sender.Syscalls().Send()
			runtime.KeepAlive(name)
			Expect(err).To(MatchError(kbus.ErrBadName))
		}
	})

	It("refuses a pointy message whose data pointer is bad with EFAULT", func() {
		name := []byte("$.Fred\x00")
		_, err := sender.Syscalls().Write(l.EncodePointy(raw.Header{NameLen: 6, DataLen: 4}, Ptr(name), 8))
		Expect(err).NotTo(HaveOccurred())
		_, err = sender.Syscalls().Send()
		runtime.KeepAlive(name)
		Expect(err).To(MatchError(kbus.ErrFault))
	})

	It("ignores the content of padding bytes", func() {
		in := handBuilt(7)
		in[l.HeaderSize()+7] = 0xEE // name padding after the NUL
		in[l.HeaderSize()+8+7] = 0xEE
		_, err := sender.Syscalls().Write(in)
		Expect(err).NotTo(HaveOccurred())
		_, err = sender.Syscalls().Send()
		Expect(err).NotTo(HaveOccurred())
		m := Next(listener)
		Expect(m.Name).To(Equal("$.Fred"))
		Expect(m.Data).To(Equal([]byte("1234567")))
	})
})
