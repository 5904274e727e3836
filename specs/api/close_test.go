package api_test

import (
	"context"
	"errors"
	"time"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Closing a Ksock", func() {
	It("ends a Wait in another goroutine with ErrClosed at once, and KBUS still answers what it owed", func() {
		ks, err := kbus.Open(Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		BindReplier(ks, "$.Api.Svc")
		asker := RW()
		req := Send(asker, kbus.NewRequest("$.Api.Svc", nil))
		Expect(Next(ks).ID).To(Equal(req), "the replier read the request and owes a reply")

		waited := make(chan error, 1)
		go func() {
			_, err := ks.Receive(context.Background())
			waited <- err
		}()
		time.Sleep(50 * time.Millisecond) // in poll
		start := time.Now()
		Expect(ks.Close()).To(Succeed())
		var got error
		Eventually(waited).WithTimeout(time.Second).Should(Receive(&got))
		Expect(time.Since(start)).To(BeNumerically("<", 100*time.Millisecond))
		Expect(errors.Is(got, kbus.ErrClosed)).To(BeTrue(), "Wait returned %v", got)

		st := WaitNext(asker, 2*time.Second)
		Expect(st.Name).To(Equal(kbus.NameReplierIgnored), "the closed replier's owed reply")
		Expect(st.InReplyTo).To(Equal(req))
		_, err = ks.ID()
		Expect(errors.Is(err, kbus.ErrClosed)).To(BeTrue())
	})

	It("ends a WaitWritable on a pending ALL_OR_WAIT send with ErrClosed", func() {
		full := RW()
		BindListener(full, "$.Api.Full")
		_, err := full.SetMaxMessages(1)
		Expect(err).NotTo(HaveOccurred())
		sender, err := kbus.Open(Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		Send(sender, kbus.NewAnnouncement("$.Api.Full", nil))
		m := kbus.NewAnnouncement("$.Api.Full", nil)
		m.Flags = kbus.FlagAllOrWait
		_, err = sender.Send(m)
		Expect(err).To(MatchError(kbus.ErrWouldBlock))

		waited := make(chan error, 1)
		go func() { waited <- sender.WaitWritable(context.Background()) }()
		time.Sleep(50 * time.Millisecond)
		Expect(sender.Close()).To(Succeed())
		var got error
		Eventually(waited).WithTimeout(time.Second).Should(Receive(&got))
		Expect(errors.Is(got, kbus.ErrClosed)).To(BeTrue(), "WaitWritable returned %v", got)
		Expect(full.NumMessages()).To(Equal(uint32(1)), "the pending send died with its Ksock")
	})
})
