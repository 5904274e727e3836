package hostile_test

import (
	"fmt"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/figure"
	"github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Bounds on what an attack may cost the victim (docs/kbus.md §18). A
// round trip under TCG takes milliseconds to a few hundred (arm64, the
// debug kernel, a machine running two guests); an attack that held the
// device would cost the victim the attacker's whole hold, and stop its
// round trips meanwhile.
const (
	worstTrip   = hold / 2    // the victim's slowest round trip while attacked
	tripsPerSec = 2           // round trips the victim still makes, at the least
	dState      = time.Second // the longest any task may sit in D state
)

var _ = Describe("§18 KBUS among hostile neighbours", func() {
	var v *victim
	BeforeEach(func() {
		v = startVictim()
		time.Sleep(20 * victimPeriod) // the victim gets going first
	})

	// under runs the attack of a, started by startAttacker, beside the
	// victim and checks what the victim saw meanwhile; what the attacker
	// said comes back.
	var lat latency // what the victim saw during the last attack
	under := func(a *support.Helper, name string) string {
		GinkgoHelper()
		stop := blockedTasks(dState)
		from := time.Now()
		said := strike(a)
		to := time.Now()
		blocked := stop()
		v.settle(to) // a round trip the attack held up ends, and counts
		lat = v.latency(from, to)
		report := fmt.Sprintf("%s: %d round trips in %v, p99 %v, worst %v; attacker: %s", name, lat.n,
			to.Sub(from).Round(time.Millisecond), lat.p99, lat.worst, said)
		fmt.Fprintln(GinkgoWriter, report)
		x, y := v.series(from, to)
		AddReportEntry("victim under "+name, figure.NewSeries("victim's round trips under "+name+
			" (ms, by when they started)", "ms", x, y))
		Expect(v.failure()).NotTo(HaveOccurred(), "every round trip of the victim succeeds")
		Expect(blocked).To(BeEmpty(), "no task sits in D state longer than %v", dState)
		Expect(lat.worst).To(BeNumerically("<", worstTrip), "the victim's slowest round trip")
		Expect(lat.n).To(BeNumerically(">=", int(to.Sub(from).Seconds()*tripsPerSec)),
			"the victim's round trips go on during the attack")
		return said
	}

	When("an attacker's memory is slow to come", func() {
		// Each holds its page for the whole hold, so the victim must
		// still make round trips all along.
		for _, c := range []struct{ call, ends string }{
			{"slow pointy SEND", "send: <nil>"}, // the data came, as zeros
			{"slow write", "write: EINVAL"},     // zeros are no message header
			{"slow RECVMSG", "recvmsg: <nil>"},  // the message went into the page
		} {
			call, ends := c.call, c.ends
			It("keeps the victim's round trips going through a "+call[5:]+" that waits for its page", func() {
				Expect(under(startAttacker(call), call)).To(HavePrefix(ends), "the call ends once its page comes")
			})
		}
	})

	// inSlices checks that the victim's round trips went on while the
	// attacker's close or unbind, from..to, owed its many statuses: one
	// long hold of the device would let at most one start meanwhile, and
	// it would wait for the end (docs/kbus.md §18.3).
	inSlices := func(from, to time.Time) {
		GinkgoHelper()
		if to.Sub(from) < 100*time.Millisecond {
			return // too short to tell slices from one hold
		}
		during := v.latency(from, to)
		fmt.Fprintf(GinkgoWriter, "%d round trips began during the %v the attacker held the statuses\n",
			during.n, to.Sub(from).Round(time.Millisecond))
		Expect(during.n).To(BeNumerically(">=", 3), "the victim's round trips between the slices")
	}
	for _, end := range []string{"close", "unbind"} {
		When("an attacker "+end+"s a replier that holds many requests", func() {
			It("answers them all in slices while the victim's round trips go on", func() {
				said := under(startAttacker("requests then "+end), "requests then "+end)
				Expect(said).To(HaveSuffix(fmt.Sprintf("%d statuses", queuedRequests())),
					"every queued request got its status")
				var took string
				var from, to int64
				_, err := fmt.Sscanf(said, pastTense[end]+" in %s (%d..%d)", &took, &from, &to)
				Expect(err).NotTo(HaveOccurred(), "the attacker said %q", said)
				inSlices(time.Unix(0, from), time.Unix(0, to))
			})
		})
	}

	When("an attacker listens to everything and never reads", func() {
		It("charges what its queue holds to the attacker", func() {
			cg := support.NewMemCgroup("kbus-hoarder", 1<<30)
			a := startHoarder(cg)
			// Room for the attacker as it is now and 512 KiB more.
			cg.SetMax(cg.Value("memory.current", "") + 512<<10)
			slab := cg.Value("memory.stat", "slab_unreclaimable")
			heard := v.heardSoFar()
			said := under(a, "hoarding listener")
			// The attacker still holds its queue, in slab memory: every
			// entry, however small an architecture makes it, is more than
			// 16 bytes, and all of them are charged to the attacker.
			held := cg.Value("memory.stat", "slab_unreclaimable") - slab
			var queued int64
			_, err := fmt.Sscanf(said, "queued %d", &queued)
			Expect(err).NotTo(HaveOccurred(), "the attacker said %q", said)
			Expect(v.heardSoFar()-heard).To(BeNumerically(">", 0), "the victim's own listener hears its news")
			Expect(queued).To(BeNumerically(">", 0), "the attacker got copies")
			Expect(held).To(BeNumerically(">=", 16*queued),
				"the attacker's %d queue entries are charged to the attacker", queued)
		})
	})

	When("an attacker binds what every message matches, again and again", func() {
		It("is refused with ENOSPC at its user's bound, and the victim's round trips go on", func() {
			limit := userBindingBound()
			said := under(startAttacker("bind flood", fmt.Sprintf("%s=%d", floodCapEnv, 2*limit+floodKsocks)),
				"bind flood")
			Expect(said).To(Equal(fmt.Sprintf("bound %d, then ENOSPC", limit)),
				"the attacker's Ksocks together hold the device's max_user_bindings (docs/kbus.md §18.5)")
		})
	})

	When("an attacker reads the bindings listing of a crowded device again and again (§12.3)", func() {
		It("is given it a page at a time, each binding once, while the victim's round trips go on", func() {
			n := crowdBindings()
			crowd := support.Open(support.Device, kbus.ReadOnly)
			for i := range n {
				if err := crowd.BindListener(fmt.Sprint(crowdPrefix, i)); err != nil {
					Fail(fmt.Sprintf("binding the crowd's %dth name: %v", i, err))
				}
			}
			said := under(startAttacker("listing reader"), "listing reader")
			var listings, least, most, share int
			_, err := fmt.Sscanf(said, "%d listings of %d..%d crowd bindings, the longest read %d%%",
				&listings, &least, &most, &share)
			Expect(err).NotTo(HaveOccurred(), "the attacker said %q", said)
			Expect([]int{least, most}).To(Equal([]int{n, n}), "every listing holds each crowd binding once")
			// A listing formatted whole, under the device's lock, takes
			// nearly all of its time in the first read (docs/kbus.md §12.3).
			Expect(share).To(BeNumerically("<", 25),
				"a read formats a page of the listing, not the whole listing")
		})
	})

	When("an attacker tries to change the whole device", func() {
		It("refuses every change with EPERM and makes no device", func() {
			ks, err := kbus.Open(support.Device, kbus.ReadOnly)
			Expect(err).NotTo(HaveOccurred())
			defer ks.Close()
			size, err := ks.MaxMessageSize()
			Expect(err).NotTo(HaveOccurred())
			said := under(startAttacker("device-wide calls"), "device-wide calls")
			Expect(said).To(Equal("VERBOSE=EPERM REPORTREPLIERBINDS=EPERM MAXMSGSIZE=EPERM NEWDEVICE=EPERM made=0"))
			Expect(ks.Verbose()).To(BeFalse())
			Expect(ks.MaxMessageSize()).To(Equal(size))
		})
	})
})

// crowdBindings is how many bindings crowd the device while the listing
// reader reads: hostile.listed=N on the guest's kernel command line, else
// 50 000, a listing of some 2 MB that a module formatting it whole spends
// a hundred milliseconds or more on (x86_64 under TCG), and that arm64
// reads in some 6 s a time (200 000 took 24 s there). The debug kernel's
// run asks for fewer (the Makefile's qemu-test-debug).
func crowdBindings() int {
	if n, ok := support.Param("hostile.listed"); ok && n > 0 {
		return int(n)
	}
	return 50000
}

// userBindingBound is the suite device's bound on an unprivileged user's
// bindings (docs/kbus.md §18.5), set first to hostile.bindings=N from the
// guest's kernel command line if given (and put back when the spec ends):
// the debug kernel's run asks for fewer, as each copy a send makes costs
// it milliseconds (the Makefile's qemu-test-debug).
func userBindingBound() int {
	GinkgoHelper()
	was, err := kbus.MaxUserBindings(support.Device)
	Expect(err).NotTo(HaveOccurred())
	if n, ok := support.Param("hostile.bindings"); ok && n > 0 {
		Expect(kbus.SetMaxUserBindings(support.Device, uint32(n))).To(Succeed())
		DeferCleanup(func() { Expect(kbus.SetMaxUserBindings(support.Device, was)).To(Succeed()) })
		return int(n)
	}
	Expect(was).To(BeNumerically(">", 0), "a bound is set")
	return int(was)
}
