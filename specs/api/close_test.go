package api_test

import (
	"context"
	"errors"
	"time"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§14.1 Closing a Ksock", func() {
	It("ends a Receive in another goroutine with ErrClosed at once, and KBUS still answers what it owed", func() {
		ks, err := kbus.Open(Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		BindReplier(ks, "$.Api.Svc")
		asker := RW()
		req := Send(asker, kbus.NewRequest("$.Api.Svc", nil))
		Expect(Next(ks).ID).To(Equal(req), "the replier read the request and owes a reply")

		waited := make(chan error, 1)
		var returned time.Time // when Receive returned, as the waiter saw it
		go func() {
			_, err := ks.Receive(context.Background())
			returned = time.Now()
			waited <- err
		}()
		time.Sleep(50 * time.Millisecond) // in poll
		start := time.Now()
		Expect(ks.Close()).To(Succeed())
		var got error
		Eventually(waited).WithTimeout(time.Second).Should(Receive(&got))
		// At once: the API has no tick, so only the close can end the
		// wait, well inside the second it is given. On the debug kernel
		// with three guests sharing two cores the wake once took 140 ms.
		Expect(returned.Sub(start)).To(BeNumerically("<", 500*time.Millisecond))
		Expect(errors.Is(got, kbus.ErrClosed)).To(BeTrue(), "Receive returned %v", got)

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

	It("leaves no waiter spinning, and none reading from the descriptor the next Ksock is given", func() {
		ks, err := kbus.Open(Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		fd := ks.Fd()
		waiters := make(chan error, 3)
		for range 3 {
			go func() {
				_, err := ks.Receive(context.Background())
				waiters <- err
			}()
		}
		time.Sleep(50 * time.Millisecond)
		Expect(ks.Close()).To(Succeed())
		for range 3 {
			var got error
			Eventually(waiters).WithTimeout(time.Second).Should(Receive(&got))
			Expect(errors.Is(got, kbus.ErrClosed)).To(BeTrue(), "Receive returned %v", got)
		}

		By("the next Ksock gets the freed descriptor, and every message sent to it")
		next := RW()
		for i := 0; next.Fd() != fd && i < 8; i++ {
			next = RW()
		}
		Expect(next.Fd()).To(Equal(fd), "one of the next Ksocks reuses the number")
		BindListener(next, "$.Api.Reused")
		for i := range 5 {
			Send(RW(), kbus.NewAnnouncement("$.Api.Reused", []byte{byte(i)}))
		}
		// Only the idle window is measured: a waiter left spinning would
		// burn all of it, while the sends before it cost a slow emulated
		// board more than a fast one.
		before := cpuTime()
		time.Sleep(400 * time.Millisecond)
		Expect(cpuTime()-before).To(BeNumerically("<", 200*time.Millisecond), "the process's CPU time while idle")
		Expect(next.NumMessages()).To(Equal(uint32(5)), "nobody else read from the descriptor")
	})
})

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru unix.Rusage
	Expect(unix.Getrusage(unix.RUSAGE_SELF, &ru)).To(Succeed())
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
