package core_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// childEnv makes the suite binary act as a helper process (see TestCore).
const childEnv = "KBUS_SPEC_CHILD"

// runChild is what a helper process does: bind as replier to the name,
// then read requests forever without answering.
func runChild(name string) {
	ks, err := kbus.Open(Device, kbus.ReadWrite)
	if err != nil {
		os.Exit(2)
	}
	if err := ks.BindReplier(name); err != nil {
		os.Exit(3)
	}
	for {
		if _, err := ks.Receive(context.Background()); err != nil {
			os.Exit(4)
		}
	}
}

var _ = Describe("Concurrency: many Ksocks, threads and processes at once", func() {
	It("answers every request exactly once while repliers come and go", func() {
		const services, requesters, perRequester = 4, 6, 150
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()

		var wg sync.WaitGroup
		stop := make(chan struct{})
		for s := 0; s < services; s++ {
			wg.Add(1)
			go func(s int) {
				defer GinkgoRecover()
				defer wg.Done()
				name := fmt.Sprintf("$.Stress.Svc%d", s)
				r := rand.New(rand.NewSource(int64(s)))
				for generation := 0; ; generation++ {
					select {
					case <-stop:
						return
					default:
					}
					ks, err := kbus.Open(Device, kbus.ReadWrite)
					Expect(err).NotTo(HaveOccurred())
					Expect(ks.BindReplier(name)).To(Succeed())
					for i := 0; i < 10+r.Intn(30); i++ {
						wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
						m, err := ks.Receive(wctx)
						wcancel()
						if err != nil || m == nil {
							continue
						}
						if r.Intn(10) == 0 {
							continue // ignore this one: KBUS answers for us on close
						}
						rep, err := kbus.ReplyTo(m, m.Data)
						Expect(err).NotTo(HaveOccurred())
						_, err = ks.Send(rep)
						Expect(err).To(Or(Not(HaveOccurred()), MatchError(kbus.ErrNoReplier)))
					}
					Expect(ks.Close()).To(Succeed())
				}
			}(s)
		}

		var rwg sync.WaitGroup
		for q := 0; q < requesters; q++ {
			rwg.Add(1)
			go func(q int) {
				defer GinkgoRecover()
				defer rwg.Done()
				ks, err := kbus.Open(Device, kbus.ReadWrite)
				Expect(err).NotTo(HaveOccurred())
				defer ks.Close()
				_, err = ks.SetMaxMessages(4 * perRequester) // room for every reply
				Expect(err).NotTo(HaveOccurred())
				answered := map[kbus.MessageID]int{}
				var sent []kbus.MessageID
				for i := 0; i < perRequester; i++ {
					m := kbus.NewRequest(fmt.Sprintf("$.Stress.Svc%d", (q+i)%services), []byte{byte(i)})
					id, err := ks.Send(m)
					if err != nil {
						Expect(err).To(Or(MatchError(kbus.ErrNoReplier), MatchError(kbus.ErrQueueFull)))
						continue
					}
					sent = append(sent, id)
				}
				for len(answered) < len(sent) {
					m, err := ks.Receive(ctx)
					Expect(err).NotTo(HaveOccurred(), "requester %d: %d of %d answered", q, len(answered), len(sent))
					Expect(m.IsReply()).To(BeTrue())
					answered[m.InReplyTo]++
				}
				for _, id := range sent {
					Expect(answered[id]).To(Equal(1), "request %v", id)
				}
				Empty(ks)
			}(q)
		}
		rwg.Wait()
		close(stop)
		wg.Wait()
	})

	It("answers for a replier process killed with SIGKILL", func() {
		exe, err := os.Executable()
		Expect(err).NotTo(HaveOccurred())
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), childEnv+"=$.Child.Svc")
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

		ks := RW()
		Eventually(func() bool { _, found, _ := ks.FindReplier("$.Child.Svc"); return found }).
			WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(BeTrue())
		read := Send(ks, kbus.NewRequest("$.Child.Svc", []byte("first")))
		Eventually(DeviceStats).WithTimeout(5*time.Second).
			Should(MatchRegexp(`unsent replies 1`), "the child has read the first request")
		queued := Send(ks, kbus.NewRequest("$.Child.Svc", []byte("second")))
		_ = queued
		Expect(cmd.Process.Kill()).To(Succeed())
		_ = cmd.Wait()

		statuses := map[kbus.MessageID]string{}
		for i := 0; i < 2; i++ {
			m := WaitNext(ks, 5*time.Second)
			statuses[m.InReplyTo] = m.Name
		}
		Expect(statuses[read]).To(Equal(kbus.NameReplierIgnored))
		// The second request was either still queued (GoneAway) or already
		// read by the child's loop (Ignored): one status either way.
		Expect(statuses[queued]).To(Or(Equal(kbus.NameReplierGoneAway), Equal(kbus.NameReplierIgnored)))
		Empty(ks)
		_, found, _ := ks.FindReplier("$.Child.Svc")
		Expect(found).To(BeFalse())
	})

	It("survives many Ksocks opening, binding and closing in parallel", func() {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer GinkgoRecover()
				defer wg.Done()
				for i := 0; i < 100; i++ {
					ks, err := kbus.Open(Device, kbus.ReadWrite)
					Expect(err).NotTo(HaveOccurred())
					Expect(ks.BindListener(fmt.Sprintf("$.Churn.G%d.*", g))).To(Succeed())
					Expect(ks.BindListener("$.Churn.%")).To(Succeed())
					_, err = ks.Send(kbus.NewAnnouncement(fmt.Sprintf("$.Churn.G%d.M%d", (g+1)%8, i), nil))
					Expect(err).NotTo(HaveOccurred())
					Expect(ks.Close()).To(Succeed())
				}
			}(g)
		}
		wg.Wait()
		Expect(DeviceBindings()).NotTo(ContainSubstring("$.Churn"))
	})
})
