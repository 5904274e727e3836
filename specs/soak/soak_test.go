package soak_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/procfs"
	"github.com/kbus-project/kbus/rig/figure"
	"github.com/kbus-project/kbus/sim/stb"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// soakTime is how long the load runs: KBUS_SOAK in the guest's environment
// (a kernel argument), 2 minutes by default.
func soakTime() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("KBUS_SOAK")); err == nil {
		return d
	}
	return 2 * time.Minute
}

var _ = Describe("A set-top box under load for minutes", func() {
	It("answers every request exactly once, shows every listener the same order, and leaks nothing", func() {
		d := soakTime()
		AddReportEntry("soak duration", d.String())
		StartSim("tuner")

		listeners := make([]*kbus.Ksock, 3)
		heard := make([][]kbus.MessageID, len(listeners))
		var lwg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
		defer cancel()
		stopListening := make(chan struct{})
		for i := range listeners {
			listeners[i] = RW()
			BindListener(listeners[i], "$.STB.*")
			_, err := listeners[i].SetMaxMessages(100000)
			Expect(err).NotTo(HaveOccurred())
			lwg.Add(1)
			go func(i int) {
				defer GinkgoRecover()
				defer lwg.Done()
				for {
					m, err := listeners[i].TryReceive()
					Expect(err).NotTo(HaveOccurred())
					if m == nil {
						select {
						case <-stopListening:
							return
						case <-time.After(time.Millisecond):
							continue
						}
					}
					heard[i] = append(heard[i], m.ID)
				}
			}(i)
		}

		var rwg sync.WaitGroup
		var mu sync.Mutex
		sent, answered, statuses := 0, 0, 0
		start := time.Now()
		deadline := start.Add(d)
		// perSecond[i] counts the replies received in second i of the soak
		// (whole seconds only: the requesters stop at the deadline).
		perSecond := make([]float64, int(d/time.Second))
		for r := 0; r < 3; r++ {
			rwg.Add(1)
			go func(r int) {
				defer GinkgoRecover()
				defer rwg.Done()
				ks, err := kbus.Open(Device, kbus.ReadWrite)
				Expect(err).NotTo(HaveOccurred())
				defer ks.Close()
				replies := map[kbus.MessageID]int{}
				var ids []kbus.MessageID
				for i := 0; time.Now().Before(deadline); i++ {
					name, data := stb.Tune, fmt.Sprint(1+i%50)
					if r == 2 {
						name, data = stb.RecorderPause, ""
					}
					id, err := ks.Send(kbus.NewRequest(name, []byte(data)))
					if err != nil {
						Expect(err).To(Or(MatchError(kbus.ErrNoReplier), MatchError(kbus.ErrQueueFull)))
						time.Sleep(5 * time.Millisecond)
						continue
					}
					ids = append(ids, id)
					m, err := ks.Receive(ctx)
					Expect(err).NotTo(HaveOccurred(), "requester %d waiting for %v", r, id)
					Expect(m.InReplyTo).To(Equal(id))
					replies[m.InReplyTo]++
					mu.Lock()
					if sec := int(time.Since(start) / time.Second); sec < len(perSecond) {
						perSecond[sec]++
					}
					if m.Kind() == kbus.KindStatus {
						statuses++
					}
					mu.Unlock()
				}
				for _, id := range ids {
					Expect(replies[id]).To(Equal(1), "request %v", id)
				}
				Empty(ks)
				mu.Lock()
				sent += len(ids)
				answered += len(replies)
				mu.Unlock()
			}(r)
		}

		By("killing and restarting the recorder while the load runs")
		for time.Now().Before(deadline) {
			rec := StartSim("recorder", "--latency", "2ms")
			time.Sleep(3 * time.Second)
			rec.Kill()
			time.Sleep(200 * time.Millisecond)
		}
		rwg.Wait()
		time.Sleep(500 * time.Millisecond)
		close(stopListening)
		lwg.Wait()

		AddReportEntry("soak requests", fmt.Sprintf("%d sent, %d answered (%d by KBUS status)", sent, answered, statuses))
		seconds := make([]float64, len(perSecond))
		for i := range seconds {
			seconds[i] = float64(i)
		}
		AddReportEntry("soak throughput", figure.NewSeries("soak: replies received per second, recorder killed every 3 s", "replies/s",
			seconds, perSecond))
		Expect(sent).To(BeNumerically(">", 100))
		Expect(answered).To(Equal(sent))
		for i := 1; i < len(heard); i++ {
			Expect(heard[i]).To(Equal(heard[0]), "listener %d saw another order", i)
		}

		By("leaving no queued message or reserved slot behind")
		for _, l := range listeners {
			Expect(l.Close()).To(Succeed())
		}
		devs, err := procfs.ReadStats()
		Expect(err).NotTo(HaveOccurred())
		for _, k := range devs[0].Ksocks {
			Expect(k.Outstanding).To(BeZero(), "ksock %d", k.ID)
			Expect(k.UnsentReplies).To(BeZero(), "ksock %d", k.ID)
		}
		Expect(strings.Count(DeviceBindings(), "$.STB.*")).To(BeZero())
	})
})
