package core_test

import (
	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The session that introduced KBUS: Rosencrantz speaks, the audience
// listens to everything the actors say, Guildenstern answers questions,
// and Falstaff, who takes over the replies, cannot continue a
// conversation begun with someone else.
var _ = Describe("The seed's session: Rosencrantz, the Audience, Guildenstern and Falstaff", Ordered, func() {
	var rosencrantz, audience, guildenstern, falstaff *kbus.Ksock
	var reply *kbus.Message

	BeforeAll(func() {
		rosencrantz, audience, guildenstern, falstaff = RW(), RW(), RW(), RW()
	})

	It("the Audience listens to everything the actors say", func() {
		BindListener(audience, "$.Actor.*")
	})

	It("Rosencrantz clears his throat and the Audience hears it", func() {
		id := Send(rosencrantz, kbus.NewAnnouncement("$.Actor.Speak", []byte("Ahem")))
		heard := Next(audience)
		Expect(heard.Kind()).To(Equal(kbus.KindAnnouncement))
		Expect(heard.Data).To(Equal([]byte("Ahem")))
		Expect(heard.String()).To(Equal(
			"<Announcement '$.Actor.Speak', id=" + id.String() + ", from=" + itoa(ID(rosencrantz)) + ", data='Ahem'>"))
	})

	It("nobody answers Rosencrantz's question until Guildenstern takes the part", func() {
		_, err := rosencrantz.Send(kbus.NewRequest("$.Actor.Ask.Guildenstern", []byte("Were you speaking to me?")))
		Expect(err).To(MatchError(kbus.ErrNoReplier))
		BindReplier(guildenstern, "$.Actor.Ask.Guildenstern")
	})

	It("Guildenstern is asked, and the Audience overhears the question", func() {
		id := Send(rosencrantz, kbus.NewRequest("$.Actor.Ask.Guildenstern", []byte("Were you speaking to me?")))
		question := Next(guildenstern)
		Expect(question.String()).To(Equal("<Request '$.Actor.Ask.Guildenstern', id=" + id.String() +
			", from=" + itoa(ID(rosencrantz)) + ", flags=0x3 (REQ,YOU), data='Were you speaking to me?'>"))
		overheard := Next(audience)
		Expect(overheard.WantsUsToReply()).To(BeFalse())

		answer, err := kbus.ReplyTo(question, []byte("I think so"))
		Expect(err).NotTo(HaveOccurred())
		Send(guildenstern, answer)
	})

	It("Rosencrantz gets Guildenstern's answer and the Audience hears it too", func() {
		reply = Next(rosencrantz)
		Expect(reply.Kind()).To(Equal(kbus.KindReply))
		Expect(reply.From).To(Equal(ID(guildenstern)))
		Expect(reply.Data).To(Equal([]byte("I think so")))
		Expect(Next(audience).Kind()).To(Equal(kbus.KindReply))
	})

	It("Rosencrantz continues the conversation with Guildenstern himself", func() {
		follow, err := kbus.StatefulRequest(reply, "$.Actor.Ask.Guildenstern", []byte("What did you say?"))
		Expect(err).NotTo(HaveOccurred())
		Send(rosencrantz, follow)
		question := Next(guildenstern)
		Expect(question.To).To(Equal(ID(guildenstern)))
		answer, _ := kbus.ReplyTo(question, []byte("Nothing"))
		Send(guildenstern, answer)
		reply = Next(rosencrantz)
		Next(audience)
		Next(audience)
	})

	It("Guildenstern leaves the stage, Falstaff takes the part, and the conversation breaks: EPIPE", func() {
		Expect(guildenstern.Close()).To(Succeed())
		BindReplier(falstaff, "$.Actor.Ask.Guildenstern")
		follow, _ := kbus.StatefulRequest(reply, "$.Actor.Ask.Guildenstern", []byte("Are you still there?"))
		_, err := rosencrantz.Send(follow)
		Expect(err).To(MatchError(kbus.ErrWrongReplier))
		Empty(falstaff)
	})

	It("a fresh question reaches Falstaff, who ignores it and leaves; Rosencrantz is told", func() {
		id := Send(rosencrantz, kbus.NewRequest("$.Actor.Ask.Guildenstern", []byte("Who are you?")))
		Next(falstaff)
		Expect(falstaff.Close()).To(Succeed())
		status := Next(rosencrantz)
		Expect(status.Name).To(Equal(kbus.NameReplierIgnored))
		Expect(status.InReplyTo).To(Equal(id))
		Expect(status.Kind()).To(Equal(kbus.KindStatus))
	})
})
