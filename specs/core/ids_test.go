package core_test

import (
	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("§3 Message ids, serial numbers and Ksock ids", func() {
	It("gives every Ksock a new non-zero id, counting up", func() {
		a, b, c := RW(), RW(), Open(Device, kbus.ReadOnly)
		ia, ib, ic := ID(a), ID(b), ID(c)
		Expect(ia).NotTo(BeZero())
		Expect(ib).To(Equal(ia + 1))
		Expect(ic).To(Equal(ib + 1))
	})

	It("never reuses the id of a closed Ksock", func() {
		a := RW()
		first := ID(a)
		Expect(a.Close()).To(Succeed())
		Expect(ID(RW())).To(BeNumerically(">", first))
	})

	It("numbers local messages from the device's one counter, consecutively", func() {
		a, b := RW(), RW()
		id1 := Send(a, kbus.NewAnnouncement("$.Count", nil))
		id2 := Send(b, kbus.NewAnnouncement("$.Count", nil))
		id3 := Send(a, kbus.NewAnnouncement("$.Count", nil))
		Expect(id1.Network).To(BeZero())
		Expect(id1.Serial).NotTo(BeZero())
		Expect(id2.Serial).To(Equal(id1.Serial + 1))
		Expect(id3.Serial).To(Equal(id2.Serial + 1))
	})

	It("overwrites the serial of a local message but keeps a network id intact", func() {
		a, l := RW(), RW()
		BindListener(l, "$.Net")
		m := kbus.NewAnnouncement("$.Net", nil)
		m.ID = kbus.MessageID{Network: 0, Serial: 99999}
		local := Send(a, m)
		Expect(local.Serial).NotTo(Equal(uint32(99999)))
		m.ID = kbus.MessageID{Network: 7, Serial: 12345}
		remote := Send(a, m)
		Expect(remote).To(Equal(kbus.MessageID{Network: 7, Serial: 12345}))
		Expect(Next(l).ID).To(Equal(local))
		Expect(Next(l).ID).To(Equal(remote))
	})

	It("sets from to the sender, clears SYNTHETIC and zeroes extra", func() {
		a, l := RW(), RW()
		BindListener(l, "$.From")
		m := kbus.NewAnnouncement("$.From", nil)
		m.From = 4242
		m.Flags = kbus.FlagSynthetic | 0xABCD0000
		Send(a, m)
		got := Next(l)
		Expect(got.From).To(Equal(ID(a)))
		Expect(got.Flags).To(Equal(uint32(0xABCD0000)))
	})

	It("remembers the last id sent (LASTSENT), {0,0} before any", func() {
		a := RW()
		last, err := a.Syscalls().LastSent()
		Expect(err).NotTo(HaveOccurred())
		Expect(last.IsZero()).To(BeTrue())
		id := Send(a, kbus.NewAnnouncement("$.Last", nil))
		Expect(a.Syscalls().LastSent()).To(Equal(id))
	})

	It("keeps to, in_reply_to, orig_from and final_to as sent", func() {
		a, l := RW(), RW()
		BindListener(l, "$.Keep")
		m := kbus.NewAnnouncement("$.Keep", []byte("x"))
		m.To = 77
		m.OrigFrom = kbus.OrigFrom{Network: 1, Local: 2}
		m.FinalTo = kbus.OrigFrom{Network: 3, Local: 4}
		Send(a, m)
		got := Next(l)
		Expect(got.To).To(Equal(uint32(77)))
		Expect(got.OrigFrom).To(Equal(m.OrigFrom))
		Expect(got.FinalTo).To(Equal(m.FinalTo))
		Expect(got.Data).To(Equal([]byte("x")))
	})
})
