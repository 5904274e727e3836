package pair_test

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/sim/stb"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

const (
	port = "5000"
	// The Limpets' network ids: they appear in the ids and orig_from of
	// every message that crossed the network.
	serviceNet = 1
	clientNet  = 2

	// ServiceBox is answered by the service box with its architecture;
	// the set-top box asks it last, to say it is done.
	ServiceBox = "$.Rig.Pair.ServiceBox"
	// SetTopBox is answered by the set-top box with its architecture for
	// as long as it takes part; its proxy on the service box's bus going
	// away is how the service box sees the set-top box leave.
	SetTopBox = "$.Rig.Pair.SetTopBox"
)

// The machines boot at their own pace (the service box is emulated ARM):
// each side gives the other this long to appear.
const peerBudget = 8 * time.Minute

// startLimpet runs this machine's Limpet with the pair's key.
func startLimpet(id int, args ...string) *Proc {
	GinkgoHelper()
	key := filepath.Join(GinkgoT().TempDir(), "pair.key")
	Expect(os.WriteFile(key, []byte("kbus rig pair topology"), 0o600)).To(Succeed())
	return StartProc("limpet", append([]string{"--id", strconv.Itoa(id), "--key-file", key}, args...)...)
}

// ask sends a request and returns its reply, which must be a reply (not
// a status) that crossed the network from the given Limpet.
func ask(ks *kbus.Ksock, name, data string, from uint32) *kbus.Message {
	GinkgoHelper()
	id := Send(ks, kbus.NewRequest(name, []byte(data)))
	rep := WaitNext(ks, 30*time.Second)
	Expect(rep.InReplyTo).To(Equal(id))
	Expect(rep.Kind()).To(Equal(kbus.KindReply), "%s answered by %s", name, rep.Name)
	Expect(rep.OrigFrom.Network).To(Equal(from), "the reply to %s came through the other machine's Limpet", name)
	return rep
}

// answerWithArch replies to the next request on ks with this machine's
// architecture, in the background.
func answerWithArch(ks *kbus.Ksock) <-chan *kbus.Message {
	asked := make(chan *kbus.Message, 1)
	go func() {
		defer GinkgoRecover()
		m, err := ks.Receive(CtxFor(2 * peerBudget))
		if err != nil || !m.WantsUsToReply() {
			close(asked)
			return
		}
		rep, err := kbus.ReplyTo(m, []byte(runtime.GOARCH))
		Expect(err).NotTo(HaveOccurred())
		Send(ks, rep)
		asked <- m
	}()
	return asked
}

var _ = Describe("The service box", Label("pair-service"), func() {
	It("serves the set-top box's tuner, DRM and recorder over the network until the set-top box is done", func() {
		tuner := StartSim("tuner", "--latency", "20ms")
		drm := StartSim("drm", "--entitled", "5,7")
		recorder := StartSim("recorder")
		startLimpet(serviceNet, "--listen", ":"+port)

		me := RW()
		BindReplier(me, ServiceBox)
		done := answerWithArch(me)

		By("seeing the set-top box join: its replier appears on this bus")
		asker := RW()
		ReplierOf(Device, SetTopBox, peerBudget)
		rep := ask(asker, SetTopBox, "who are you?", clientNet)
		Expect(string(rep.Data)).NotTo(Equal(runtime.GOARCH), "the set-top box is another machine")
		AddReportEntry("machines", "service box "+runtime.GOARCH+", set-top box "+string(rep.Data))

		By("answering the set-top box's last request, then seeing it leave: its replier goes with its Limpet")
		var last *kbus.Message
		Eventually(func() bool {
			select {
			case last = <-done:
				return true
			default:
			}
			_, present, _ := asker.FindReplier(SetTopBox)
			return !present
		}).WithTimeout(peerBudget).WithPolling(100*time.Millisecond).Should(BeTrue(), "the set-top box neither finished nor left")
		Expect(last).NotTo(BeNil(), "the set-top box left without its last request")
		Expect(last.ID.Network).To(Equal(uint32(clientNet)))
		Eventually(func() bool { _, found, _ := asker.FindReplier(SetTopBox); return found }).
			WithTimeout(2 * time.Minute).WithPolling(100 * time.Millisecond).Should(BeFalse())

		By("having served every request the set-top box's UI made")
		Expect(tuner.Matching("reply", "name", stb.Tune, "data", "locked 7")).To(HaveLen(1))
		Expect(tuner.Matching("reply", "name", stb.Tune, "data", "locked 5")).To(HaveLen(1))
		Expect(drm.Matching("reply", "name", stb.DRMOpen)).To(HaveLen(1))
		Expect(drm.Matching("reply", "name", stb.DRMCheck, "data", "ok")).To(HaveLen(1))
		Expect(recorder.Matching("reply", "name", stb.RecorderPlay)).To(HaveLen(1))
	})
})

var _ = Describe("The set-top box", Label("pair-client"), func() {
	It("tunes, checks its DRM entitlement and plays through services on the other machine", func() {
		peer := os.Getenv(guestproto.EnvPeer)
		Expect(peer).NotTo(BeEmpty(), "the rig gives the service box's address as $%s", guestproto.EnvPeer)
		// The Limpet retries with backoff until the service box's
		// Limpet listens.
		startLimpet(clientNet, "--connect", net.JoinHostPort(peer, port))

		me := RW()
		BindReplier(me, SetTopBox)
		asked := answerWithArch(me)

		By("seeing the service box's tuner on this bus, proxied by the Limpet")
		user := RW()
		proxy := ReplierOf(Device, stb.Tune, peerBudget)
		Expect(ReplierOf(Device, stb.DRMAll, time.Minute)).To(Equal(proxy))
		Expect(ReplierOf(Device, stb.RecorderAll, time.Minute)).To(Equal(proxy))

		By("changing channel with the remote: request, reply and announcement cross the network")
		ui := StartSim("ui")
		StartSim("remote", "--keys", "7").Wait(20 * time.Second)
		ui.EventuallyLogs("locked", "channel", "7")
		Expect(ui.Matching("replied", "for", stb.Tune)[0].Fields["data"]).To(Equal("locked 7"))

		By("playing: a DRM session on the other machine, a stateful check to that instance, then the recorder")
		StartSim("remote", "--keys", "PLAY").Wait(20 * time.Second)
		Expect(ui.EventuallyLogs("replied", "for", stb.DRMOpen).Fields["data"]).To(HavePrefix("session "))
		Expect(ui.EventuallyLogs("replied", "for", stb.DRMCheck).Fields["data"]).To(Equal("ok"))
		ui.EventuallyLogs("replied", "for", stb.RecorderPlay)

		By("asking the tuner directly: the reply names the service box's Limpet")
		Expect(string(ask(user, stb.Tune, "5", serviceNet).Data)).To(Equal("locked 5"))

		By("having answered the service box's question")
		var q *kbus.Message
		Eventually(asked).WithTimeout(time.Minute).Should(Receive(&q))
		Expect(q).NotTo(BeNil())
		Expect(q.ID.Network).To(Equal(uint32(serviceNet)))

		By("telling the service box it is done")
		arch := string(ask(user, ServiceBox, "done", serviceNet).Data)
		Expect(arch).NotTo(Equal(runtime.GOARCH), "the service box is another machine")
		AddReportEntry("machines", "set-top box "+runtime.GOARCH+", service box "+arch)
	})
})
