package core_test

import (
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§7 ioctls", func() {
	var ks *kbus.Ksock
	l := raw.Native
	BeforeEach(func() { ks = RW() })

	It("RESET does nothing and succeeds", func() {
		Expect(ks.Syscalls().Reset()).To(Succeed())
	})

	It("KSOCKID returns the Ksock's id", func() {
		var v uint32
		_, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrKsockID), unsafe.Pointer(&v))
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(ID(ks)))
	})

	It("answers an unknown command, a wrong magic or nr > 21 (§7.1) with ENOTTY", func() {
		var v uint32
		for _, cmd := range []uint32{l.Ioctl(raw.NrKsockID) + 22 - raw.NrKsockID, 0x80045401, 0x80086A04, 0x00006B00,
			l.Ioctl(raw.NrKsockID) + raw.NrSendMsg - raw.NrKsockID} { // SENDMSG's number, read-only: not SENDMSG
			_, err := ks.Syscalls().Ioctl(cmd, unsafe.Pointer(&v))
			Expect(err).To(MatchError(kbus.ErrNotKBUS), "cmd %#x", cmd)
		}
	})

	It("answers an inaccessible argument with EFAULT", func() {
		for _, nr := range []int{raw.NrBind, raw.NrKsockID, raw.NrReplier, raw.NrNextMsg, raw.NrLastSent,
			raw.NrMaxMsgs, raw.NrMsgOnlyOnce, raw.NrMaxMsgSize, raw.NrSendMsg, raw.NrRecvMsg, raw.NrRecvMany} {
			_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(ks.Fd()), uintptr(l.Ioctl(nr)), 8)
			Expect(errno).To(Equal(unix.EFAULT), "nr %d", nr)
		}
	})

	It("BIND with a bad name pointer says EFAULT", func() {
		req := l.EncodeBind(0, 6, 16)
		_, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrBind), unsafe.Pointer(&req[0]))
		Expect(err).To(MatchError(kbus.ErrFault))
	})

	It("BIND checks lengths before touching the name pointer", func() {
		req := l.EncodeBind(0, 0, 16)
		_, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrBind), unsafe.Pointer(&req[0]))
		Expect(err).To(MatchError(kbus.ErrBadName))
		req = l.EncodeBind(0, 1001, 16)
		_, err = ks.Syscalls().Ioctl(l.Ioctl(raw.NrBind), unsafe.Pointer(&req[0]))
		Expect(err).To(MatchError(kbus.ErrNameTooLong))
	})

	It("BIND treats any non-zero is_replier as a replier binding", func() {
		name := []byte("$.Two")
		req := l.EncodeBind(2, uint32(len(name)), Ptr(name))
		_, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrBind), unsafe.Pointer(&req[0]))
		Expect(err).NotTo(HaveOccurred())
		id, found, err := ks.FindReplier("$.Two")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue())
		Expect(id).To(Equal(ID(ks)))
		Expect(ks.UnbindReplier("$.Two")).To(Succeed())
	})

	Describe("REPLIER", func() {
		It("returns 1 and the replier's id for an exact replier binding, 0 and id 0 otherwise", func() {
			BindReplier(ks, "$.Who")
			BindReplier(ks, "$.Wild.*")
			name := []byte("$.Who")
			q := l.EncodeBind(0xFFFF, uint32(len(name)), Ptr(name))
			r, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrReplier), unsafe.Pointer(&q[0]))
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(Equal(1))
			Expect(raw.Order.Uint32(q)).To(Equal(ID(ks)))

			id, found, err := ks.FindReplier("$.Wild.Card")
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeFalse(), "wildcards are not resolved")
			Expect(id).To(BeZero())
			_, found, _ = ks.FindReplier("$.Wild.*")
			Expect(found).To(BeTrue())
		})

		It("says ENAMETOOLONG for a name length of 0 or over 1000, and does not validate the name", func() {
			_, _, err := ks.FindReplier("")
			Expect(err).To(MatchError(kbus.ErrNameTooLong))
			_, _, err = ks.FindReplier("$." + strings.Repeat("x", 999))
			Expect(err).To(MatchError(kbus.ErrNameTooLong))
			_, found, err := ks.FindReplier("not a name!")
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeFalse())
		})
	})

	It("NEXTMSG returns 1 when it pops a message and 0 when the queue is empty", func() {
		BindListener(ks, "$.N")
		Send(ks, kbus.NewAnnouncement("$.N", nil))
		var v uint32
		r, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrNextMsg), unsafe.Pointer(&v))
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(Equal(1))
		Expect(int(v)).To(Equal(l.EntireLen(3, 0)))
		r, err = ks.Syscalls().Ioctl(l.Ioctl(raw.NrNextMsg), unsafe.Pointer(&v))
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(Equal(0))
		Expect(v).To(BeZero())
	})

	It("SEND writes the id back through its argument", func() {
		Expect(ks.Syscalls().WriteMsg(kbus.NewAnnouncement("$.S", nil))).To(Succeed())
		var id [2]uint32
		_, err := ks.Syscalls().Ioctl(l.Ioctl(raw.NrSend), unsafe.Pointer(&id))
		Expect(err).NotTo(HaveOccurred())
		Expect(ks.Syscalls().LastSent()).To(Equal(kbus.MessageID{Network: id[0], Serial: id[1]}))
	})

	It("MSGONLYONCE, VERBOSE and REPORTREPLIERBINDS return the previous value and answer a query", func() {
		Expect(ks.SetOnlyOnce(true)).To(BeFalse())
		Expect(ks.SetOnlyOnce(true)).To(BeTrue())
		Expect(ks.OnlyOnce()).To(BeTrue())
		Expect(ks.SetVerbose(true)).To(BeFalse())
		Expect(ks.Verbose()).To(BeTrue())
		Expect(RW().Verbose()).To(BeTrue(), "VERBOSE is per device")
		Expect(ks.SetVerbose(false)).To(BeTrue())
		Expect(RW().OnlyOnce()).To(BeFalse(), "MSGONLYONCE is per Ksock")
	})

	Describe("MAXMSGSIZE", func() {
		It("answers 0 with the current size and 1 with the ceiling", func() {
			Expect(ks.MaxMessageSize()).To(Equal(uint32(409600)))
			Expect(ks.AbsMaxMessageSize()).To(Equal(uint32(409600)))
		})

		It("accepts 100 up to the ceiling, device-wide", func() {
			Expect(ks.SetMaxMessageSize(100)).To(Equal(uint32(100)))
			Expect(RW().MaxMessageSize()).To(Equal(uint32(100)))
			Expect(ks.SetMaxMessageSize(65536)).To(Equal(uint32(65536)))
		})

		It("refuses 2..99 and anything above the ceiling with EINVAL", func() {
			for _, v := range []uint32{2, 50, 99, 409601, 0xFFFFFFFF} {
				_, err := ks.SetMaxMessageSize(v)
				Expect(err).To(MatchError(kbus.ErrInvalid), "size %d", v)
			}
			Expect(ks.MaxMessageSize()).To(Equal(uint32(409600)))
		})
	})

	It("work on a read-only Ksock: bind, receive, even as a replier", func() {
		ro := Open(Device, kbus.ReadOnly)
		BindReplier(ro, "$.RO")
		Send(ks, kbus.NewRequest("$.RO", nil))
		Expect(Next(ro).WantsUsToReply()).To(BeTrue())
		Expect(ro.SetMaxMessages(5)).To(Equal(uint32(5)))
		_, err := ro.Syscalls().Send()
		Expect(err).To(MatchError(kbus.ErrNoMessage))
	})

	It("NEWDEVICE creates the next device, whose node appears and works", func() {
		var n uint32
		CreatingDevices(func() {
			var err error
			n, err = ks.NewDevice()
			Expect(err).NotTo(HaveOccurred())
		})
		Expect(n).To(BeNumerically(">=", 1))
		path := kbus.DevicePath(int(n))
		Eventually(func() error { _, err := os.Stat(path); return err }).
			WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
		fi, err := os.Stat(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o660)), "the module's default mode (§18.5)")
		other := Open(int(n), kbus.ReadWrite)
		Expect(ID(other)).To(Equal(uint32(1)), "ids are per device")
		Expect(ProcFile("stats")).To(ContainSubstring(fmt.Sprintf("dev %2d: next ksock", n)))
	})
})
