package limpet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
)

// join starts a Limpet pair between two devices over a Unix socket; both
// Limpets get the extra arguments.
func join(devA, devB int, idA, idB uint32, keyA, keyB string, extra ...string) (server, client *Proc) {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	ka, kb := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	Expect(os.WriteFile(ka, []byte(keyA), 0o600)).To(Succeed())
	Expect(os.WriteFile(kb, []byte(keyB), 0o600)).To(Succeed())
	// The socket lives in the spec's own folder: the same suite built for
	// another ABI may run beside this one (docs/testing.md, "Suites side
	// by side"), and a path both choose would join the wrong Limpets.
	sock := "unix:" + filepath.Join(dir, "link.sock")
	server = StartProc("limpet", append([]string{"--device", strconv.Itoa(devA), "--id", fmt.Sprint(idA),
		"--listen", sock, "--key-file", ka}, extra...)...)
	time.Sleep(100 * time.Millisecond)
	client = StartProc("limpet", append([]string{"--device", strconv.Itoa(devB), "--id", fmt.Sprint(idB),
		"--connect", sock, "--key-file", kb}, extra...)...)
	return server, client
}

// proxyBudget is how long a Limpet pair may take to proxy a binding.
const proxyBudget = 10 * time.Second

// farReplier binds a replier for name on bus far and waits until a Limpet
// pair has proxied it onto bus 0.
func farReplier(far int, name string) *kbus.Ksock {
	GinkgoHelper()
	ks := Open(far, kbus.ReadWrite)
	BindReplier(ks, name)
	ReplierOf(Device, name, proxyBudget)
	return ks
}

// answer replies to every request it reads with prefix+data.
func answer(ks *kbus.Ksock, prefix string, n int) {
	go func() {
		defer GinkgoRecover()
		for i := 0; i < n; i++ {
			m, err := ks.Receive(CtxFor(20 * time.Second))
			if err != nil {
				return
			}
			if !m.WantsUsToReply() {
				continue
			}
			rep, _ := kbus.ReplyTo(m, append([]byte(prefix), m.Data...))
			_, _ = ks.Send(rep)
		}
	}()
}

var _ = Describe("§15 A Limpet pair joining two buses", func() {
	It("answers a request on one bus from a replier on the other, and carries announcements both ways", func() {
		far := buses[0]
		join(Device, far, 1, 2, "k", "k")
		replier := farReplier(far, "$.Far.Svc")
		answer(replier, "far: ", 1)

		sender := RW()
		id := Send(sender, kbus.NewRequest("$.Far.Svc", []byte("hello")))
		rep := WaitNext(sender, 10*time.Second)
		Expect(rep.Kind()).To(Equal(kbus.KindReply))
		Expect(rep.InReplyTo).To(Equal(id))
		Expect(string(rep.Data)).To(Equal("far: hello"))
		Expect(rep.OrigFrom.Network).To(Equal(uint32(2)), "orig_from names the far Limpet")

		listener := Open(far, kbus.ReadOnly)
		BindListener(listener, "$.News")
		time.Sleep(200 * time.Millisecond)
		Send(sender, kbus.NewAnnouncement("$.News", []byte("extra")))
		heard := WaitNext(listener, 10*time.Second)
		Expect(string(heard.Data)).To(Equal("extra"))
		Expect(heard.ID.Network).To(Equal(uint32(1)), "the first Limpet's network id")
	})

	It("carries a stateful request to the same far replier, and refuses it once that replier is replaced", func() {
		far := buses[0]
		join(Device, far, 3, 4, "k", "k")
		replier := farReplier(far, "$.State.Svc")
		answer(replier, "", 2)

		sender := RW()
		Send(sender, kbus.NewRequest("$.State.Svc", []byte("1")))
		first := WaitNext(sender, 10*time.Second)
		follow, err := kbus.StatefulRequest(first, "$.State.Svc", []byte("2"))
		Expect(err).NotTo(HaveOccurred())
		Send(sender, follow)
		Expect(WaitNext(sender, 10*time.Second).Kind()).To(Equal(kbus.KindReply))

		Expect(replier.Close()).To(Succeed())
		// The proxy replier goes with it before the new replier binds.
		Eventually(func() bool { _, found, _ := sender.FindReplier("$.State.Svc"); return found }).
			WithTimeout(10 * time.Second).WithPolling(5 * time.Millisecond).Should(BeFalse())
		farReplier(far, "$.State.Svc") // another Ksock is now the replier
		Send(sender, follow)
		st := WaitNext(sender, 10*time.Second)
		Expect(st.Name).To(Equal(kbus.NameReplierNotSameKsock))
	})

	It("carries a stateful request to a far replier bound with a wildcard (the original answered GoneAway)", func() {
		far := buses[0]
		join(Device, far, 31, 32, "k", "k")
		replier := farReplier(far, "$.Wild.%")
		answer(replier, "wild: ", 2)

		sender := RW()
		Send(sender, kbus.NewRequest("$.Wild.Open", []byte("1")))
		first := WaitNext(sender, 10*time.Second)
		Expect(first.Kind()).To(Equal(kbus.KindReply))
		Expect(first.OrigFrom).To(Equal(kbus.OrigFrom{Network: 32, Local: ID(replier)}))
		follow, err := kbus.StatefulRequest(first, "$.Wild.Check", []byte("2"))
		Expect(err).NotTo(HaveOccurred())
		Send(sender, follow)
		rep := WaitNext(sender, 10*time.Second)
		Expect(rep.Kind()).To(Equal(kbus.KindReply), "got %s", rep.Name)
		Expect(string(rep.Data)).To(Equal("wild: 2"))
	})

	It("gives the sender a status when the far replier dies", func() {
		far := buses[0]
		join(Device, far, 5, 6, "k", "k")
		replier := farReplier(far, "$.Dies")
		sender := RW()
		id := Send(sender, kbus.NewRequest("$.Dies", nil))
		Eventually(func() (uint32, error) { return replier.NumMessages() }).WithTimeout(10 * time.Second).Should(Equal(uint32(1)))
		Expect(replier.Close()).To(Succeed())
		st := WaitNext(sender, 10*time.Second)
		Expect(st.InReplyTo).To(Equal(id))
		Expect(st.Name).To(Equal(kbus.NameReplierGoneAway))
		Empty(sender)
	})

	It("gives the sender a status when the link is cut mid-request, and withdraws the proxy replier", func() {
		far := buses[0]
		_, client := join(Device, far, 7, 8, "k", "k")
		replier := farReplier(far, "$.Cut")
		sender := RW()
		id := Send(sender, kbus.NewRequest("$.Cut", nil))
		Eventually(func() (uint32, error) { return replier.NumMessages() }).WithTimeout(10 * time.Second).Should(Equal(uint32(1)))
		client.Kill()
		st := WaitNext(sender, 10*time.Second)
		Expect(st.InReplyTo).To(Equal(id))
		Expect(st.Kind()).To(Equal(kbus.KindStatus))
		Eventually(func() bool { _, found, _ := sender.FindReplier("$.Cut"); return found }).
			WithTimeout(10 * time.Second).Should(BeFalse())
	})

	It("restores the proxy replier when the far Limpet comes back: the other end reconnects with growing waits", func() {
		far := buses[0]
		dir := GinkgoT().TempDir()
		key := filepath.Join(dir, "k.key")
		Expect(os.WriteFile(key, []byte("k"), 0o600)).To(Succeed())
		server := []string{"--device", strconv.Itoa(Device), "--id", "41", "--listen", "unix:" + filepath.Join(dir, "back.sock"), "--key-file", key}
		first := StartProc("limpet", server...)
		client := StartProc("limpet", "--device", strconv.Itoa(far), "--id", "42",
			"--connect", "unix:"+filepath.Join(dir, "back.sock"), "--key-file", key)
		replier := farReplier(far, "$.Back.Svc")
		answer(replier, "back: ", 1)

		first.Kill()
		sender := RW()
		Eventually(func() bool { _, found, _ := sender.FindReplier("$.Back.Svc"); return found }).
			WithTimeout(10*time.Second).Should(BeFalse(), "the proxy replier went with the Limpet's Ksock")
		for _, wait := range []string{"100ms", "200ms", "400ms"} {
			Eventually(client.Output()).WithTimeout(10 * time.Second).Should(gbytes.Say(`link down: .*; reconnecting in ` + wait))
		}

		StartProc("limpet", server...)
		Eventually(client.Output()).WithTimeout(10 * time.Second).Should(gbytes.Say(`joined to peer 41`))
		ReplierOf(Device, "$.Back.Svc", proxyBudget)
		id := Send(sender, kbus.NewRequest("$.Back.Svc", []byte("again")))
		rep := WaitNext(sender, 10*time.Second)
		Expect(rep.InReplyTo).To(Equal(id))
		Expect(string(rep.Data)).To(Equal("back: again"))
	})

	It("proxies only the names its filter covers, announcements and replier bindings alike", func() {
		far := buses[0]
		join(Device, far, 71, 72, "k", "k", "--forward", "$.Only.*")
		only, other := Open(far, kbus.ReadWrite), Open(far, kbus.ReadWrite)
		BindReplier(other, "$.Other.Svc")
		BindReplier(only, "$.Only.Svc")
		ReplierOf(Device, "$.Only.Svc", proxyBudget)
		sender := RW()
		Consistently(func() bool { _, found, _ := sender.FindReplier("$.Other.Svc"); return found }).
			WithTimeout(time.Second).Should(BeFalse(), "a replier outside the filter is not proxied")

		listener := Open(far, kbus.ReadOnly)
		BindListener(listener, "$.Only.News")
		BindListener(listener, "$.Other.News")
		Send(sender, kbus.NewAnnouncement("$.Other.News", nil))
		Send(sender, kbus.NewAnnouncement("$.Only.News", nil))
		Expect(WaitNext(listener, 10*time.Second).Name).To(Equal("$.Only.News"))
		time.Sleep(200 * time.Millisecond)
		Empty(listener)
	})

	It("refuses a second Limpet with a network id already used on its bus", func() {
		join(Device, buses[0], 51, 52, "k", "k")
		ReplierOf(Device, "$.Limpet.Network.51", proxyBudget)
		second, _ := join(Device, buses[1], 51, 53, "k", "k")
		Eventually(second.Output()).WithTimeout(10 * time.Second).
			Should(gbytes.Say(`network id 51 is already used by a Limpet on this bus`))
	})

	It("refuses a peer that does not hold the key: nothing is proxied", func() {
		far := buses[0]
		join(Device, far, 9, 10, "right", "wrong")
		replier := Open(far, kbus.ReadWrite)
		BindReplier(replier, "$.Secret")
		sender := RW()
		Consistently(func() bool { _, found, _ := sender.FindReplier("$.Secret"); return found }).
			WithTimeout(time.Second).Should(BeFalse())
		_, err := sender.Send(kbus.NewRequest("$.Secret", nil))
		Expect(err).To(MatchError(kbus.ErrNoReplier))
	})
})

var _ = Describe("§15 A chain of three buses through an intermediate bus", func() {
	It("answers a request from the first bus with a replier on the third", func() {
		mid, far := buses[0], buses[1]
		join(Device, mid, 11, 12, "k", "k")
		join(mid, far, 13, 14, "k", "k")
		replier := Open(far, kbus.ReadWrite)
		BindReplier(replier, "$.Chain.Svc")
		ReplierOf(mid, "$.Chain.Svc", proxyBudget)
		ReplierOf(Device, "$.Chain.Svc", proxyBudget)
		answer(replier, "third: ", 1)
		sender := RW()
		id := Send(sender, kbus.NewRequest("$.Chain.Svc", []byte("hi")))
		rep := WaitNext(sender, 15*time.Second)
		Expect(rep.InReplyTo).To(Equal(id))
		Expect(string(rep.Data)).To(Equal("third: hi"))
	})
})

var _ = Describe("§15 A loop of three Limpet pairs", func() {
	It("drops a message when it comes back to the bus it started from, instead of circulating it forever", func() {
		a, b := buses[0], buses[1]
		back, _ := join(Device, a, 21, 22, "k", "k")
		join(a, b, 23, 24, "k", "k")
		join(b, Device, 25, 26, "k", "k")
		here, onA := RW(), Open(a, kbus.ReadWrite)
		BindListener(here, "$.Loop")
		BindListener(onA, "$.Loop")
		// Every Limpet is up: each holds its presence binding on its bus.
		for dev, ids := range map[int][]int{Device: {21, 26}, a: {22, 23}, b: {24, 25}} {
			for _, id := range ids {
				ReplierOf(dev, fmt.Sprintf("$.Limpet.Network.%d", id), proxyBudget)
			}
		}
		time.Sleep(500 * time.Millisecond) // and, just after, its listener binding
		Send(RW(), kbus.NewAnnouncement("$.Loop", []byte("round and round")))
		// Wait until copies stop arriving (the counts hold for a second).
		var n, m uint32
		Eventually(func() bool {
			before, beforeA := countOf(here), countOf(onA)
			time.Sleep(time.Second)
			n, m = countOf(here), countOf(onA)
			return n >= 1 && n == before && m == beforeA
		}).WithTimeout(30*time.Second).WithPolling(time.Millisecond).Should(BeTrue(), "copies keep arriving")
		Expect(n).To(Equal(uint32(1)), "the bus it started from hears it once: the loop is cut before it re-enters")
		Expect(m).To(Equal(uint32(2)), "another bus of the loop hears it once from each direction")
		Eventually(back.Output()).WithTimeout(10 * time.Second).Should(gbytes.Say(`loop: .* came back to its own bus`))
	})
})

func countOf(ks *kbus.Ksock) uint32 {
	GinkgoHelper()
	n, err := ks.NumMessages()
	Expect(err).NotTo(HaveOccurred())
	return n
}
