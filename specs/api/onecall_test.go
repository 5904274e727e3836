package api_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// transcript runs one scenario with every Ksock on one call sequence, and
// writes down what the program saw, ids aside (they differ run to run).
func transcript(oneCall bool) []string {
	GinkgoHelper()
	var ksocks []*kbus.Ksock
	open := func() *kbus.Ksock {
		ks, err := kbus.Open(Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		Expect(ks.Syscalls().SetOneCall(oneCall)).To(Succeed())
		ksocks = append(ksocks, ks)
		return ks
	}
	defer func() {
		for _, ks := range ksocks {
			ks.Close()
		}
	}()
	var log []string
	note := func(what string, m *kbus.Message, err error) {
		var se *kbus.StatusError
		switch {
		case errors.As(err, &se):
			log = append(log, fmt.Sprintf("%s: status %s", what, se.Status.Name))
		case err != nil:
			log = append(log, fmt.Sprintf("%s: error %v", what, errors.Unwrap(err)))
		case m == nil:
			log = append(log, what+": nothing")
		default:
			log = append(log, fmt.Sprintf("%s: %s %s %d bytes flags %#x", what, m.Kind(), m.Name, len(m.Data), m.Flags))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	listener, replier, sender := open(), open(), open()
	Expect(listener.BindListener("$.Same.*")).To(Succeed())
	Expect(replier.BindReplier("$.Same.Ask")).To(Succeed())
	go replier.Serve(ctx, func(_ context.Context, m *kbus.Message) ([]byte, error) {
		return append([]byte("re "), m.Data...), nil
	})

	for _, m := range []*kbus.Message{
		kbus.NewAnnouncement("$.Same.Small", []byte("x")),
		kbus.NewAnnouncement("$.Same.Big", make([]byte, 9000)), // more than the first receive buffer
		{Name: "$.Same.Urgent", Flags: kbus.FlagUrgent},
	} {
		_, err := sender.Send(m)
		note("send "+m.Name, nil, err)
	}
	for range 3 {
		m, err := listener.Receive(ctx)
		note("listener", m, err)
	}
	rep, err := sender.Request(ctx, kbus.NewRequest("$.Same.Ask", []byte("q")))
	note("request", rep, err)
	for range 2 { // the request and the reply, heard
		m, err := listener.Receive(ctx)
		note("listener", m, err)
	}

	gone := open()
	Expect(gone.BindReplier("$.Same.Gone")).To(Succeed())
	done := make(chan error, 1)
	go func() {
		_, err := sender.Request(ctx, kbus.NewRequest("$.Same.Gone", nil))
		done <- err
	}()
	Eventually(gone.NumMessages).WithTimeout(5 * time.Second).Should(BeEquivalentTo(1))
	gone.Close()
	note("request to a replier that closed", nil, <-done)

	_, err = sender.Send(kbus.NewAnnouncement("$.Same.*", nil))
	note("send a wildcard", nil, err)
	_, err = sender.Request(ctx, kbus.NewRequest("$.Same.Nobody", nil))
	note("request nobody answers", nil, err)

	full := open()
	Expect(full.BindListener("$.Same.Full")).To(Succeed())
	_, err = full.SetMaxMessages(1)
	Expect(err).NotTo(HaveOccurred())
	_, err = sender.Send(kbus.NewAnnouncement("$.Same.Full", nil))
	note("fill", nil, err)
	wait := &kbus.Message{Name: "$.Same.Full", Flags: kbus.FlagAllOrWait}
	_, err = sender.Send(wait)
	note("all or wait", nil, err)
	m, err := full.TryReceive()
	note("full", m, err)
	note("pending send done", nil, sender.WaitWritable(ctx))
	m, err = full.TryReceive()
	note("full", m, err)
	m, err = full.TryReceive()
	note("full", m, err)
	return log
}

var _ = Describe("The Go API on either call sequence (§7.1)", func() {
	It("uses SENDMSG and RECVMSG when the module has them", func() {
		Expect(RW().Syscalls().OneCall()).To(BeTrue())
	})

	It("gives the same results through the one-call ioctls as through the original calls", func() {
		one := transcript(true)
		Expect(one).To(HaveLen(18))
		Expect(one).To(ContainElement("request to a replier that closed: status $.KBUS.Replier.GoneAway"))
		Expect(transcript(false)).To(Equal(one))
	})

	It("takes a burst in one RECVMANY in Messages, and hands what a loop did not reach to the next Receive", func() {
		listener, sender := RW(), RW()
		Expect(listener.BindListener("$.Burst.*")).To(Succeed())
		for i := range 5 {
			_, err := sender.Send(kbus.NewAnnouncement(fmt.Sprintf("$.Burst.N%d", i), nil))
			Expect(err).NotTo(HaveOccurred())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var seen []string
		for m, err := range listener.Messages(ctx) {
			Expect(err).NotTo(HaveOccurred())
			seen = append(seen, m.Name)
			if len(seen) == 2 {
				break
			}
		}
		Expect(listener.NumMessages()).To(BeZero(), "all five were taken in one call")
		for range 3 {
			m, err := listener.Receive(ctx)
			Expect(err).NotTo(HaveOccurred())
			seen = append(seen, m.Name)
		}
		Expect(seen).To(Equal([]string{"$.Burst.N0", "$.Burst.N1", "$.Burst.N2", "$.Burst.N3", "$.Burst.N4"}),
			"in order, none lost")
	})

	When("another goroutine already waits in Receive", func() {
		It("still lets a Messages loop that stops early end, and loses nothing it took", func() {
			listener, sender := RW(), RW()
			Expect(listener.BindListener("$.Burst.*")).To(Succeed())
			send := func(name string) {
				GinkgoHelper()
				_, err := sender.Send(kbus.NewAnnouncement(name, nil))
				Expect(err).NotTo(HaveOccurred())
			}
			send("$.Burst.A")
			send("$.Burst.B")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			type got struct {
				name string
				err  error
			}
			waiting := make(chan got, 1)
			loopEnded := make(chan struct{})
			go func() {
				defer GinkgoRecover()
				defer close(loopEnded)
				for m, err := range listener.Messages(ctx) {
					Expect(err).NotTo(HaveOccurred())
					Expect(m.Name).To(Equal("$.Burst.A"))
					// Both were taken in one call: the queue is empty
					// now, so this Receive waits on KBUS.
					go func() {
						m, err := listener.Receive(ctx)
						if err != nil {
							waiting <- got{err: err}
							return
						}
						waiting <- got{name: m.Name}
					}()
					time.Sleep(200 * time.Millisecond)
					break
				}
			}()
			Eventually(loopEnded).WithTimeout(5*time.Second).Should(BeClosed(),
				"giving B back must not wait for the other reader")
			send("$.Burst.C")
			var first got
			Eventually(waiting).WithTimeout(10 * time.Second).Should(Receive(&first))
			Expect(first.err).NotTo(HaveOccurred())
			m, err := listener.Receive(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect([]string{first.name, m.Name}).To(ConsistOf("$.Burst.B", "$.Burst.C"), "none lost")
		})
	})
})
