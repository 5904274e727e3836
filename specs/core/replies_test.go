package core_test

import (
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§10 Every request gets exactly one reply", func() {
	var sender, replier *kbus.Ksock
	BeforeEach(func() {
		sender, replier = RW(), RW()
		BindReplier(replier, "$.Svc")
	})

	expectStatus := func(name string, req kbus.MessageID, from uint32) {
		GinkgoHelper()
		m := Next(sender)
		Expect(m.Name).To(Equal(name))
		Expect(m.Kind()).To(Equal(kbus.KindStatus))
		Expect(m.InReplyTo).To(Equal(req))
		Expect(m.To).To(Equal(ID(sender)))
		Expect(m.From).To(Equal(from))
		Expect(m.Flags).To(Equal(kbus.FlagSynthetic))
		Expect(m.Data).To(BeEmpty())
		Expect(m.ID.Network).To(BeZero())
		Expect(m.ID.Serial).To(BeNumerically(">", req.Serial))
		Empty(sender)
	}

	It("answers with the real reply, once: a second reply is ECONNREFUSED", func() {
		id := Send(sender, kbus.NewRequest("$.Svc", nil))
		req := Next(replier)
		Expect(replier.NumUnrepliedTo()).To(Equal(uint32(1)))
		rep, _ := kbus.ReplyTo(req, []byte("once"))
		Send(replier, rep)
		Expect(replier.NumUnrepliedTo()).To(BeZero())
		m := Next(sender)
		Expect(m.InReplyTo).To(Equal(id))
		_, err := replier.Send(rep)
		Expect(err).To(MatchError(kbus.ErrNotExpected))
		Expect(replier.Close()).To(Succeed())
		Empty(sender)
	})

	It("refuses a reply nobody expects with ECONNREFUSED, and one to a closed Ksock with EADDRNOTAVAIL", func() {
		rep := &kbus.Message{Name: "$.Svc", To: ID(sender), InReplyTo: kbus.MessageID{Serial: 1}}
		_, err := replier.Send(rep)
		Expect(err).To(MatchError(kbus.ErrNotExpected))
		gone := RW()
		goneID := ID(gone)
		Expect(gone.Close()).To(Succeed())
		rep.To = goneID
		_, err = replier.Send(rep)
		Expect(err).To(MatchError(kbus.ErrNoReplier))
	})

	It("refuses a reply to a full requester with EBUSY", func() {
		Send(sender, kbus.NewRequest("$.Svc", nil))
		req := Next(replier)
		BindListener(sender, "$.Fill")
		_, err := sender.SetMaxMessages(2)
		Expect(err).NotTo(HaveOccurred())
		Send(replier, kbus.NewAnnouncement("$.Fill", nil))
		_, err = sender.SetMaxMessages(1)
		Expect(err).NotTo(HaveOccurred())
		rep, _ := kbus.ReplyTo(req, nil)
		_, err = replier.Send(rep)
		Expect(err).To(MatchError(kbus.ErrQueueFull))
	})

	It("sends $.KBUS.Replier.GoneAway when the replier closes with the request still queued", func() {
		id := Send(sender, kbus.NewRequest("$.Svc", nil))
		rid := ID(replier)
		Expect(replier.Close()).To(Succeed())
		expectStatus(kbus.NameReplierGoneAway, id, rid)
	})

	It("sends $.KBUS.Replier.Ignored when the replier read the request and closes", func() {
		id := Send(sender, kbus.NewRequest("$.Svc", nil))
		Next(replier)
		rid := ID(replier)
		Expect(replier.Close()).To(Succeed())
		expectStatus(kbus.NameReplierIgnored, id, rid)
	})

	It("sends Ignored most recently popped first", func() {
		id1 := Send(sender, kbus.NewRequest("$.Svc", nil))
		id2 := Send(sender, kbus.NewRequest("$.Svc", nil))
		Next(replier)
		Next(replier)
		Expect(replier.Close()).To(Succeed())
		Expect(Next(sender).InReplyTo).To(Equal(id2))
		Expect(Next(sender).InReplyTo).To(Equal(id1))
	})

	It("sends $.KBUS.Replier.Unbound when the replier unbinds with the request queued", func() {
		id := Send(sender, kbus.NewRequest("$.Svc", nil))
		Expect(replier.UnbindReplier("$.Svc")).To(Succeed())
		Empty(replier)
		expectStatus(kbus.NameReplierUnbound, id, ID(replier))
	})

	It("sends a status for a stateful request too (the original leaked it, §16.1)", func() {
		m := kbus.NewRequest("$.Svc", nil)
		m.To = ID(replier)
		id := Send(sender, m)
		Expect(replier.UnbindReplier("$.Svc")).To(Succeed())
		expectStatus(kbus.NameReplierUnbound, id, ID(replier))
		m2 := kbus.NewRequest("$.Svc", nil)
		other := RW()
		BindReplier(other, "$.Svc")
		m2.To = ID(other)
		id2 := Send(sender, m2)
		oid := ID(other)
		Expect(other.Close()).To(Succeed())
		expectStatus(kbus.NameReplierGoneAway, id2, oid)
	})

	It("releases the reserved slot with the status", func() {
		_, err := sender.SetMaxMessages(1)
		Expect(err).NotTo(HaveOccurred())
		Send(sender, kbus.NewRequest("$.Svc", nil))
		_, err = sender.Send(kbus.NewRequest("$.Svc", nil))
		Expect(err).To(MatchError(kbus.ErrNoRoomForReply))
		Expect(replier.UnbindReplier("$.Svc")).To(Succeed())
		Next(sender)
		BindReplier(replier, "$.Svc")
		Send(sender, kbus.NewRequest("$.Svc", nil))
	})

	It("does not send Ignored for a request already answered before it was read", func() {
		id := Send(sender, kbus.NewRequest("$.Svc", nil))
		early := &kbus.Message{Name: "$.Svc", To: ID(sender), InReplyTo: id}
		Send(replier, early)
		Next(replier) // now pops the request, already answered
		Expect(replier.Close()).To(Succeed())
		Expect(Next(sender).Kind()).To(Equal(kbus.KindReply))
		Empty(sender)
	})

	It("accepts a reply from any Ksock that knows the id; the replier then gets ECONNREFUSED", func() {
		id := Send(sender, kbus.NewRequest("$.Svc", nil))
		req := Next(replier)
		third := RW()
		Send(third, &kbus.Message{Name: "$.Svc", To: ID(sender), InReplyTo: id})
		rep, _ := kbus.ReplyTo(req, nil)
		_, err := replier.Send(rep)
		Expect(err).To(MatchError(kbus.ErrNotExpected))
		Expect(Next(sender).From).To(Equal(ID(third)))
	})

	It("drops statuses for a requester that has gone", func() {
		Send(sender, kbus.NewRequest("$.Svc", nil))
		Expect(sender.Close()).To(Succeed())
		Expect(replier.Close()).To(Succeed())
	})

	Describe("ALL_OR_WAIT requests completed by poll", func() {
		It("sends $.KBUS.Replier.Disappeared when the replier is gone at the retry", func() {
			_, err := replier.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(RW(), kbus.NewRequest("$.Svc", nil))
			m := kbus.NewRequest("$.Svc", nil)
			m.Flags |= kbus.FlagAllOrWait
			id, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(replier.Close()).To(Succeed())
			Expect(sender.WaitWritable(CtxFor(2 * time.Second))).To(Succeed())
			st := Next(sender)
			Expect(st.Name).To(Equal(kbus.NameReplierDisappeared))
			Expect(st.InReplyTo).To(Equal(id))
			Expect(st.From).To(BeZero())
		})

		// Found by the model comparison (specs/model): the module once
		// reported readability as it was before the retry, so the poll
		// that queued the status said "not readable".
		It("reports the status a poll's retry queued as readable, in that same poll", func() {
			_, err := replier.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(RW(), kbus.NewRequest("$.Svc", nil))
			sender := OpenRaw()
			m := kbus.NewRequest("$.Svc", nil)
			m.Flags |= kbus.FlagAllOrWait
			_, err = sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(replier.Close()).To(Succeed())
			readable, writable := sender.Ready()
			Expect(writable).To(BeTrue(), "the retry ended the send")
			Expect(readable).To(BeTrue(), "and queued $.KBUS.Replier.Disappeared")
			Expect(sender.Next().Name).To(Equal(kbus.NameReplierDisappeared))
		})

		// A pending request's retry must still leave room for its reply in
		// the sender's own queue, as the first SEND checks (ENOLCK); the
		// module once skipped the check on a retry, reserved one slot too
		// many, and the replier's reply was then refused with EBUSY.
		It("refuses a retry with ENOLCK when the sender's own queue filled while it waited", func() {
			_, err := replier.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(RW(), kbus.NewRequest("$.Svc", nil))
			sender := OpenRaw() // retried only by the SEND below
			Expect(sender.U32(raw.NrMaxMsgs, 2)).To(Equal(uint32(2)))
			sender.BindListener("$.Fill")
			m := kbus.NewRequest("$.Svc", nil)
			m.Flags |= kbus.FlagAllOrWait
			_, err = sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))

			By("filling the sender's queue, then making room at the replier")
			filler := RW()
			Send(filler, kbus.NewAnnouncement("$.Fill", nil))
			Send(filler, kbus.NewAnnouncement("$.Fill", nil))
			Next(replier)
			_, err = sender.SendAgain()
			Expect(err).To(MatchError(kbus.ErrNoRoomForReply))
			Expect(sender.U32(raw.NrNumMsgs, 0)).To(Equal(uint32(2)))
		})

		// Room is not the only thing that unblocks a pending send: a more
		// specific replier can take the request instead of the full one.
		It("completes when a more specific replier binds, waking the waiting sender", func() {
			wild := RW()
			BindReplier(wild, "$.Job.*")
			_, err := wild.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(RW(), kbus.NewRequest("$.Job.Print", nil))
			m := kbus.NewRequest("$.Job.Print", []byte("second"))
			m.Flags |= kbus.FlagAllOrWait
			id, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))

			exact := RW()
			// Waiting through epoll, registered while the send is pending:
			// only a wake-up can make it look again.
			wait := Epoll(sender, unix.EPOLLOUT)
			Expect(wait(0)).To(BeZero())
			BindReplier(exact, "$.Job.Print")
			Expect(wait(2*time.Second)&unix.EPOLLOUT).NotTo(BeZero(), "the sender was woken and the send completed")
			Expect(Next(exact).ID).To(Equal(id))
		})

		It("sends $.KBUS.ErrorSending when the retry fails otherwise", func() {
			_, err := replier.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(RW(), kbus.NewRequest("$.Svc", nil))
			sender := OpenRaw() // retried only by the poll below
			m := kbus.NewRequest("$.Svc", nil)
			m.Flags |= kbus.FlagAllOrWait
			m.To = ID(replier)
			id, err := sender.Send(m)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))
			Expect(replier.UnbindReplier("$.Svc")).To(Succeed())
			other := RW()
			BindReplier(other, "$.Svc") // now the stateful request gets EPIPE
			Expect(sender.Writable()).To(BeTrue(), "the poll retried the send, which failed")
			st := sender.Next()
			Expect(st.Name).To(Equal(kbus.NameErrorSending))
			Expect(st.InReplyTo).To(Equal(id))
			Expect(sender.U32(raw.NrNumMsgs, 0)).To(BeZero())
		})
	})

	Describe("ALL_OR_WAIT replies completed by poll", func() {
		// docs/kbus.md §16.12: the replier learns that its reply found
		// nobody, as a requester learns that its request did.
		It("sends $.KBUS.Replier.Disappeared to the replier when the requester is gone at the retry", func() {
			_, err := sender.SetMaxMessages(2)
			Expect(err).NotTo(HaveOccurred())
			Send(sender, kbus.NewRequest("$.Svc", nil))
			req := Next(replier)

			By("filling the requester's queue, then lowering its MAXMSGS so the reply must wait")
			BindListener(sender, "$.Fill")
			Send(RW(), kbus.NewAnnouncement("$.Fill", nil))
			_, err = sender.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			rep, err := kbus.ReplyTo(req, nil)
			Expect(err).NotTo(HaveOccurred())
			rep.Flags |= kbus.FlagAllOrWait
			id, err := replier.Send(rep)
			Expect(err).To(MatchError(kbus.ErrWouldBlock))

			Expect(sender.Close()).To(Succeed())
			Expect(replier.WaitWritable(CtxFor(2 * time.Second))).To(Succeed())
			st := WaitNext(replier, 2*time.Second)
			Expect(st.Name).To(Equal(kbus.NameReplierDisappeared))
			Expect(st.InReplyTo).To(Equal(id))
			Expect(st.From).To(BeZero())
			Expect(st.Flags).To(Equal(kbus.FlagSynthetic))
		})
	})
})
