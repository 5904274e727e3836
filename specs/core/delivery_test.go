package core_test

import (
	"time"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§9 Delivery", func() {
	var sender *kbus.Ksock
	BeforeEach(func() { sender = RW() })

	Describe("§9.1 choosing recipients", func() {
		It("accepts and drops an announcement nobody listens to", func() {
			id := Send(sender, kbus.NewAnnouncement("$.Nobody.Listens", nil))
			Expect(id.Serial).NotTo(BeZero())
		})

		It("refuses a request without a replier with EADDRNOTAVAIL", func() {
			l := RW()
			BindListener(l, "$.NoReplier")
			_, err := sender.Send(kbus.NewRequest("$.NoReplier", nil))
			Expect(err).To(MatchError(kbus.ErrNoReplier))
			Empty(l)
		})

		It("gives the replier the copy with WANT_YOU_TO_REPLY and listeners a copy without", func() {
			r, l := RW(), RW()
			BindReplier(r, "$.Ask")
			BindListener(l, "$.Ask")
			id := Send(sender, kbus.NewRequest("$.Ask", []byte("?")))
			rm, lm := Next(r), Next(l)
			Expect(rm.ID).To(Equal(id))
			Expect(rm.Flags).To(Equal(kbus.FlagWantAReply | kbus.FlagWantYouToReply))
			Expect(rm.WantsUsToReply()).To(BeTrue())
			Expect(lm.Flags).To(Equal(kbus.FlagWantAReply))
			Expect(lm.WantsUsToReply()).To(BeFalse())
		})

		It("overwrites a WANT_YOU_TO_REPLY the sender set", func() {
			l := RW()
			BindListener(l, "$.Forged")
			m := kbus.NewAnnouncement("$.Forged", nil)
			m.Flags = kbus.FlagWantYouToReply
			Send(sender, m)
			Expect(Next(l).Flags).To(BeZero())
		})

		It("delivers one copy per matching binding, duplicates included, newest binding first", func() {
			l := RW()
			BindListener(l, "$.Dup")
			BindListener(l, "$.Dup")
			BindListener(l, "$.*")
			Send(sender, kbus.NewAnnouncement("$.Dup", nil))
			Expect(Names(l)).To(Equal([]string{"$.Dup", "$.Dup", "$.Dup"}))
		})

		It("sends a reply to its requester even without bindings, and to listeners of its name", func() {
			r, l := RW(), RW()
			BindReplier(r, "$.Q")
			BindListener(l, "$.Q")
			Send(sender, kbus.NewRequest("$.Q", nil))
			req := Next(r)
			Expect(Next(l).Name).To(Equal("$.Q"))
			rep, err := kbus.ReplyTo(req, []byte("A"))
			Expect(err).NotTo(HaveOccurred())
			Send(r, rep)
			got := Next(sender)
			Expect(got.Kind()).To(Equal(kbus.KindReply))
			Expect(got.Data).To(Equal([]byte("A")))
			Expect(got.From).To(Equal(ID(r)))
			Expect(Next(l).Kind()).To(Equal(kbus.KindReply))
			Empty(r)
		})
	})

	Describe("§9.2 ordering", func() {
		It("shows every listener the same global send order", func() {
			a, b, c := RW(), RW(), RW()
			for _, ks := range []*kbus.Ksock{a, b, c} {
				BindListener(ks, "$.Order.*")
			}
			other := RW()
			var want []string
			for i := 0; i < 30; i++ {
				name := "$.Order.M" + string(rune('A'+i%26)) + string(rune('a'+i/26))
				s := sender
				if i%3 == 0 {
					s = other
				}
				Send(s, kbus.NewAnnouncement(name, nil))
				want = append(want, name)
			}
			Expect(Names(a)).To(Equal(want))
			Expect(Names(b)).To(Equal(want))
			Expect(Names(c)).To(Equal(want))
		})

		It("puts URGENT messages at the head of the queue, newest first", func() {
			l := RW()
			BindListener(l, "$.U.*")
			Send(sender, kbus.NewAnnouncement("$.U.One", nil))
			u1 := kbus.NewAnnouncement("$.U.Urgent1", nil)
			u1.Flags = kbus.FlagUrgent
			u2 := kbus.NewAnnouncement("$.U.Urgent2", nil)
			u2.Flags = kbus.FlagUrgent
			Send(sender, u1)
			Send(sender, kbus.NewAnnouncement("$.U.Two", nil))
			Send(sender, u2)
			Expect(Names(l)).To(Equal([]string{"$.U.Urgent2", "$.U.Urgent1", "$.U.One", "$.U.Two"}))
		})

		It("queues the replier copy before the listener copy on one Ksock", func() {
			rl := RW()
			BindReplier(rl, "$.Both")
			BindListener(rl, "$.Both")
			Send(sender, kbus.NewRequest("$.Both", nil))
			Expect(Next(rl).WantsUsToReply()).To(BeTrue())
			Expect(Next(rl).WantsUsToReply()).To(BeFalse())
		})

		It("for URGENT, puts the listener copy first", func() {
			rl := RW()
			BindReplier(rl, "$.Both")
			BindListener(rl, "$.Both")
			m := kbus.NewRequest("$.Both", nil)
			m.Flags |= kbus.FlagUrgent
			Send(sender, m)
			Expect(Next(rl).WantsUsToReply()).To(BeFalse())
			Expect(Next(rl).WantsUsToReply()).To(BeTrue())
		})
	})

	Describe("§9.4 MSGONLYONCE", func() {
		It("keeps one copy per message, the replier's, when switched on", func() {
			rl := RW()
			BindReplier(rl, "$.Once")
			BindListener(rl, "$.Once")
			BindListener(rl, "$.*")
			prev, err := rl.SetOnlyOnce(true)
			Expect(err).NotTo(HaveOccurred())
			Expect(prev).To(BeFalse())
			Send(sender, kbus.NewRequest("$.Once", nil))
			Expect(Next(rl).WantsUsToReply()).To(BeTrue())
			Empty(rl)
			Expect(rl.OnlyOnce()).To(BeTrue())
		})

		It("attributes the one copy to the newest matching binding, also after the device's name table grew", func() {
			filler := RW()
			for i := 0; i < 600; i++ {
				BindListener(filler, "$.Filler.N"+itoa(uint32(i)))
			}
			l := RW()
			_, err := l.SetOnlyOnce(true)
			Expect(err).NotTo(HaveOccurred())
			BindListener(l, "$.G.*")
			BindListener(l, "$.G.X")
			Send(sender, kbus.NewAnnouncement("$.G.X", nil))
			Expect(l.NumMessages()).To(Equal(uint32(1)))
			Expect(l.UnbindListener("$.G.X")).To(Succeed())
			Empty(l)
		})

		It("affects only later messages", func() {
			l := RW()
			BindListener(l, "$.Once")
			BindListener(l, "$.Once")
			Send(sender, kbus.NewAnnouncement("$.Once", nil))
			_, err := l.SetOnlyOnce(true)
			Expect(err).NotTo(HaveOccurred())
			Send(sender, kbus.NewAnnouncement("$.Once", nil))
			Expect(Names(l)).To(HaveLen(3))
		})
	})

	Describe("§9.5 stateful requests", func() {
		It("reaches the addressed replier, and keeps to on the copies", func() {
			r, l := RW(), RW()
			BindReplier(r, "$.State")
			BindListener(l, "$.State")
			m := kbus.NewRequest("$.State", nil)
			m.To = ID(r)
			Send(sender, m)
			Expect(Next(r).To).To(Equal(ID(r)))
			Expect(Next(l).To).To(Equal(ID(r)))
		})

		It("fails with EPIPE when another Ksock is replier, EADDRNOTAVAIL when none", func() {
			r, other := RW(), RW()
			BindReplier(r, "$.State")
			m := kbus.NewRequest("$.State", nil)
			m.To = ID(other)
			_, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWrongReplier))
			Expect(r.UnbindReplier("$.State")).To(Succeed())
			_, err = sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrNoReplier))
		})

		It("ignores to on announcements", func() {
			l := RW()
			BindListener(l, "$.Ann")
			m := kbus.NewAnnouncement("$.Ann", nil)
			m.To = 999999
			Send(sender, m)
			Expect(Next(l).To).To(Equal(uint32(999999)))
		})
	})

	Describe("§9.6 queue capacity and reserved reply slots", func() {
		It("lets a full listener miss announcements silently by default", func() {
			l := RW()
			BindListener(l, "$.Full")
			Expect(l.SetMaxMessages(2)).To(Equal(uint32(2)))
			for i := 0; i < 5; i++ {
				Send(sender, kbus.NewAnnouncement("$.Full", nil))
			}
			Expect(l.NumMessages()).To(Equal(uint32(2)))
		})

		It("refuses a request to a full replier with EBUSY, and queues nothing anywhere", func() {
			r, l := RW(), RW()
			BindReplier(r, "$.Busy")
			BindListener(l, "$.Busy")
			_, err := r.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(sender, kbus.NewRequest("$.Busy", nil))
			_, err = sender.Send(kbus.NewRequest("$.Busy", nil))
			Expect(err).To(MatchError(kbus.ErrQueueFull))
			Expect(l.NumMessages()).To(Equal(uint32(1)))
		})

		It("refuses a request with ENOLCK when the sender has no room for its reply", func() {
			r := RW()
			BindReplier(r, "$.Slots")
			_, err := sender.SetMaxMessages(2)
			Expect(err).NotTo(HaveOccurred())
			Send(sender, kbus.NewRequest("$.Slots", nil))
			Send(sender, kbus.NewRequest("$.Slots", nil))
			before, _ := sender.Syscalls().LastSent()
			_, err = sender.Send(kbus.NewRequest("$.Slots", nil))
			Expect(err).To(MatchError(kbus.ErrNoRoomForReply))
			Expect(sender.Syscalls().LastSent()).To(Equal(before), "no id assigned")
			_, err = sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrNoMessage), "the message was discarded")
		})

		It("counts reserved slots as full for listeners too", func() {
			r := RW()
			BindReplier(r, "$.Slots")
			BindListener(sender, "$.Ann")
			_, err := sender.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(sender, kbus.NewRequest("$.Slots", nil))
			Send(RW(), kbus.NewAnnouncement("$.Ann", nil))
			Expect(sender.NumMessages()).To(BeZero(), "the slot is kept for the reply")
			req := Next(r)
			rep, _ := kbus.ReplyTo(req, nil)
			Send(r, rep)
			Expect(Next(sender).IsReply()).To(BeTrue())
		})

		It("accepts any non-zero MAXMSGS, even below the current count, and 0 only asks", func() {
			l := RW()
			BindListener(l, "$.Max")
			for i := 0; i < 3; i++ {
				Send(sender, kbus.NewAnnouncement("$.Max", nil))
			}
			Expect(l.SetMaxMessages(1)).To(Equal(uint32(1)))
			Expect(l.MaxMessages()).To(Equal(uint32(1)))
			Expect(l.NumMessages()).To(Equal(uint32(3)))
			Send(sender, kbus.NewAnnouncement("$.Max", nil))
			Expect(l.NumMessages()).To(Equal(uint32(3)))
		})

		It("starts every Ksock with a queue of 100", func() {
			Expect(RW().MaxMessages()).To(Equal(uint32(100)))
		})
	})

	Describe("§9.7 send flags", func() {
		var full *kbus.Ksock
		BeforeEach(func() {
			full = RW()
			BindListener(full, "$.Flags")
			_, err := full.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(sender, kbus.NewAnnouncement("$.Flags", nil))
		})

		It("ALL_OR_FAIL: a full listener fails the whole send with EBUSY", func() {
			other := RW()
			BindListener(other, "$.Flags")
			m := kbus.NewAnnouncement("$.Flags", nil)
			m.Flags = kbus.FlagAllOrFail
			_, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrQueueFull))
			Empty(other)
		})

		It("ALL_OR_WAIT: EAGAIN with the id, the send pending, writes refused with EALREADY", func() {
			other := RW()
			BindListener(other, "$.Flags")
			m := kbus.NewAnnouncement("$.Flags", []byte("wait"))
			m.Flags = kbus.FlagAllOrWait
			id, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(id.Serial).NotTo(BeZero())
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Other", nil))).To(MatchError(kbus.ErrSendPending))
			Empty(other)

			By("retrying SEND with the same id while still full")
			again, err := sender.Syscalls().Send()
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(again).To(Equal(id))

			By("freeing room: poll completes the send")
			Next(full)
			Expect(sender.WaitWritable(CtxFor(2 * time.Second))).To(Succeed())
			Expect(Next(other).ID).To(Equal(id))
			Expect(Next(full).ID).To(Equal(id))
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Other", nil))).To(Succeed())
		})

		// epoll registers its wait once, when the descriptor is added: a
		// Ksock added before its send became pending must still hear that
		// room freed (the module once waited for room only while a send was
		// pending when poll was called).
		It("ALL_OR_WAIT: epoll, registered before the send, reports EPOLLOUT when room frees and completes it", func() {
			wait := Epoll(sender, unix.EPOLLOUT)
			Expect(wait(0)&unix.EPOLLOUT).NotTo(BeZero(), "an idle Ksock is writable")

			m := kbus.NewAnnouncement("$.Flags", []byte("epoll"))
			m.Flags = kbus.FlagAllOrWait
			id, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(wait(0)).To(BeZero(), "not writable while the send waits for room")

			Next(full)
			Expect(wait(2*time.Second)&unix.EPOLLOUT).NotTo(BeZero(), "epoll heard that room freed")
			Expect(Next(full).ID).To(Equal(id))
		})

		// A listener can stop being a recipient without its queue getting
		// shorter: unbinding a name none of whose copies it holds.
		It("ALL_OR_WAIT: completes when the full listener unbinds, waking the waiting sender", func() {
			BindListener(full, "$.Flags.Other")
			m := kbus.NewAnnouncement("$.Flags.Other", []byte("pending"))
			m.Flags = kbus.FlagAllOrWait
			_, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))

			// Waiting through epoll, registered while the send is pending:
			// only a wake-up can make it look again.
			wait := Epoll(sender, unix.EPOLLOUT)
			Expect(wait(0)).To(BeZero())
			Expect(full.UnbindListener("$.Flags.Other")).To(Succeed())
			Expect(wait(2*time.Second)&unix.EPOLLOUT).NotTo(BeZero(), "the sender was woken and the send completed")
			Expect(full.NumMessages()).To(Equal(uint32(1)), "its queue kept the one $.Flags copy")
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Flags", nil))).To(Succeed(), "no send pending")
		})

		It("ALL_OR_WAIT: DISCARD abandons the pending send", func() {
			m := kbus.NewAnnouncement("$.Flags", nil)
			m.Flags = kbus.FlagAllOrWait
			_, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(sender.Discard()).To(Succeed())
			Next(full)
			Empty(full)
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Flags", nil))).To(Succeed())
		})

		It("keeps the pending message intact when a write is refused with EALREADY", func() {
			m := kbus.NewAnnouncement("$.Flags", []byte("kept"))
			m.Flags = kbus.FlagAllOrWait
			_, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(sender.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Other", nil))).To(MatchError(kbus.ErrSendPending))
			Next(full)
			Expect(sender.WaitWritable(CtxFor(2 * time.Second))).To(Succeed())
			Expect(Next(full).Data).To(Equal([]byte("kept")))
		})

		It("ALL_OR_WAIT applies to replies too", func() {
			r := RW()
			BindReplier(r, "$.WaitReply")
			_, err := sender.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			BindListener(sender, "$.Filler")
			Send(sender, kbus.NewRequest("$.WaitReply", nil))
			req := Next(r)
			// The sender's slot is reserved; fill its queue past it.
			_, err = sender.SetMaxMessages(2)
			Expect(err).NotTo(HaveOccurred())
			Send(r, kbus.NewAnnouncement("$.Filler", nil))
			_, err = sender.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			rep, _ := kbus.ReplyTo(req, nil)
			rep.Flags = kbus.FlagAllOrWait
			_, err = r.Send(rep)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Next(sender)
			Expect(r.WaitWritable(CtxFor(2 * time.Second))).To(Succeed())
			Expect(Next(sender).IsReply()).To(BeTrue())
		})
	})

	Describe("§9.8 unbinding", func() {
		It("removes exactly the messages that came through that binding", func() {
			l := RW()
			BindListener(l, "$.Un.*")
			BindListener(l, "$.Un.A")
			Send(sender, kbus.NewAnnouncement("$.Un.A", nil))
			Send(sender, kbus.NewAnnouncement("$.Un.B", nil))
			Expect(l.NumMessages()).To(Equal(uint32(3)))
			Expect(l.UnbindListener("$.Un.A")).To(Succeed())
			Expect(Names(l)).To(Equal([]string{"$.Un.A", "$.Un.B"}))
		})

		It("fails with EINVAL for a binding that does not exist", func() {
			l := RW()
			BindListener(l, "$.Un")
			Expect(l.UnbindReplier("$.Un")).To(MatchError(kbus.ErrInvalid))
			Expect(l.UnbindListener("$.Other")).To(MatchError(kbus.ErrInvalid))
			Expect(RW().UnbindListener("$.Un")).To(MatchError(kbus.ErrInvalid))
		})

		It("checks names on UNBIND as on BIND", func() {
			l := RW()
			Expect(l.UnbindListener("")).To(MatchError(kbus.ErrBadName))
			Expect(l.UnbindListener("$.a-b")).To(MatchError(kbus.ErrBadName))
			Expect(l.UnbindListener("$." + string(make([]byte, 1000)))).To(MatchError(kbus.ErrNameTooLong))
		})

		It("leaves the message being read alone", func() {
			l := RW()
			BindListener(l, "$.Un")
			Send(sender, kbus.NewAnnouncement("$.Un", []byte("reading")))
			n, err := l.Syscalls().NextMsg()
			Expect(err).NotTo(HaveOccurred())
			Expect(l.UnbindListener("$.Un")).To(Succeed())
			m, err := l.Syscalls().ReadMsg(n)
			Expect(err).NotTo(HaveOccurred())
			Expect(m.Data).To(Equal([]byte("reading")))
		})
	})
})
