package stb_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/sim/device"
	"github.com/kbus-project/kbus/sim/stb"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// story describes the UI's events of the given kinds, in log order.
func story(evs []device.Event, kinds ...string) []string {
	var out []string
	for _, e := range evs {
		for _, k := range kinds {
			if e.Event != k {
				continue
			}
			switch k {
			case "key":
				out = append(out, "key "+e.Fields["key"])
			case "requested":
				out = append(out, "requested "+e.Fields["name"]+" "+e.Fields["data"])
			case "replied":
				out = append(out, "replied "+e.Fields["data"])
			case "locked":
				out = append(out, "locked "+e.Fields["channel"])
			}
		}
	}
	return out
}

var _ = Describe("Changing channel", func() {
	It("goes from a key press to 'locked' on the UI, in order", func() {
		StartSim("tuner", "--latency", "50ms")
		ui := StartSim("ui")
		screen := RW()
		BindListener(screen, stb.Show)

		StartSim("remote", "--keys", "7").Wait(10 * time.Second)
		ui.EventuallyLogs("locked", "channel", "7")
		Expect(story(ui.Events(), "key", "requested", "replied", "locked")).To(Equal([]string{
			"key 7", "requested " + stb.Tune + " 7", "replied locked 7", "locked 7",
		}))
		shown := WaitNext(screen, 10*time.Second)
		Expect(string(shown.Data)).To(HavePrefix("channel 7,"))
	})

	It("lets every listener hear volume and mute changes in the same order", func() {
		StartSim("tuner", "--volume", "50")
		ui := StartSim("ui")
		a, b := RW(), RW()
		BindListener(a, stb.VolumeChanged)
		BindListener(b, "$.STB.*")

		StartSim("remote", "--keys", "VOL+,VOL+,MUTE,VOL-,MUTE", "--interval", "20ms").Wait(10 * time.Second)
		want := []string{"60", "70", "muted", "60", "muted"}
		var heardA []string
		for len(heardA) < len(want) {
			heardA = append(heardA, string(WaitNext(a, 10*time.Second).Data))
		}
		Expect(heardA).To(Equal(want))
		var heardB []string
		for len(heardB) < len(want) {
			m := WaitNext(b, 10*time.Second)
			if m.Name == stb.VolumeChanged {
				heardB = append(heardB, string(m.Data))
			}
		}
		Expect(heardB).To(Equal(want))
		Eventually(func() int { return len(ui.Matching("volume")) }).WithTimeout(10 * time.Second).Should(Equal(len(want)))
		var heardUI []string
		for _, e := range ui.Matching("volume") {
			heardUI = append(heardUI, e.Fields["level"])
		}
		Expect(heardUI).To(Equal(want))
	})
})

var _ = Describe("The recorder dies mid-request", func() {
	It("gives the UI the KBUS status, fails requests in the gap at once, and recovers on restart", func() {
		recorder := StartSim("recorder", "--stall")
		ui := StartSim("ui")

		By("the recorder reads the request and dies without answering")
		StartSim("remote", "--keys", "REC").Wait(10 * time.Second)
		recorder.EventuallyLogs("stall")
		recorder.Kill()
		st := ui.EventuallyLogs("status", "for", stb.RecorderRecord)
		Expect(st.Fields["status"]).To(Equal(kbus.NameReplierIgnored))

		By("a request while no recorder is bound fails with EADDRNOTAVAIL, without hanging")
		StartSim("remote", "--keys", "REC").Wait(10 * time.Second)
		failed := ui.EventuallyLogs("request-failed", "name", stb.RecorderRecord)
		Expect(failed.Fields["error"]).To(Equal("EADDRNOTAVAIL"))

		By("a restarted recorder rebinds and answers")
		StartSim("recorder")
		StartSim("remote", "--keys", "REC").Wait(10 * time.Second)
		ok := ui.EventuallyLogs("replied", "for", stb.RecorderRecord)
		Expect(ok.Fields["data"]).To(Equal("recording"))
	})

	It("gives GoneAway for a request still queued when the recorder dies", func() {
		recorder := StartSim("recorder", "--latency", "2s")
		ui := StartSim("ui")
		StartSim("remote", "--keys", "PAUSE,REW", "--interval", "10ms").Wait(10 * time.Second)
		recorder.EventuallyLogs("request", "name", stb.RecorderPause)
		// The Rewind must be queued before the recorder dies: the remote
		// has sent its key, but the UI may not have asked yet (once seen
		// on a loaded machine: the Rewind came after, EADDRNOTAVAIL).
		ui.EventuallyLogs("requested", "name", stb.RecorderRewind)
		recorder.Kill()
		Eventually(func() []string {
			var got []string
			for _, e := range ui.Matching("status") {
				got = append(got, e.Fields["status"])
			}
			return got
		}).WithTimeout(10 * time.Second).Should(ConsistOf(kbus.NameReplierIgnored, kbus.NameReplierGoneAway))
	})
})

var _ = Describe("The DRM instance is replaced between two stateful requests", func() {
	It("fails the second check with EPIPE, and the UI re-resolves to the new instance", func() {
		drmA := StartSim("drm", "--entitled", "1")
		StartSim("recorder")
		ui := StartSim("ui")
		StartSim("remote", "--keys", "PLAY").Wait(10 * time.Second)
		Expect(ui.EventuallyLogs("replied", "for", stb.DRMCheck).Fields["data"]).To(Equal("ok"))
		ui.EventuallyLogs("replied", "for", stb.RecorderPlay)

		drmA.Kill()
		StartSim("drm", "--entitled", "1")
		StartSim("remote", "--keys", "PLAY").Wait(10 * time.Second)
		Expect(ui.EventuallyLogs("drm-reresolve").Fields["error"]).To(Equal("EPIPE"))
		Eventually(func() int { return len(ui.Matching("replied", "for", stb.RecorderPlay)) }).
			WithTimeout(10 * time.Second).Should(Equal(2))
		Expect(ui.Matching("replied", "for", stb.DRMOpen)).To(HaveLen(2))
	})
})

var _ = Describe("A slow UI and a busy tuner", func() {
	It("let a slow listener miss announcements, while every accepted request is answered exactly once", func() {
		StartSim("tuner", "--latency", "20ms", "--queue", "4")
		slowUI := RW()
		BindListener(slowUI, stb.Locked)
		_, err := slowUI.SetMaxMessages(2)
		Expect(err).NotTo(HaveOccurred())

		sender := RW()
		_, err = sender.SetMaxMessages(6)
		Expect(err).NotTo(HaveOccurred())
		accepted := map[kbus.MessageID]bool{}
		var busy, noSlot int
		for ch := 1; ch <= 40; ch++ {
			id, err := sender.Send(kbus.NewRequest(stb.Tune, []byte(fmt.Sprint(ch))))
			switch {
			case err == nil:
				accepted[id] = true
			case errors.Is(err, kbus.ErrQueueFull):
				busy++
			case errors.Is(err, kbus.ErrNoRoomForReply):
				noSlot++
			default:
				Fail(fmt.Sprintf("channel %d: %v", ch, err))
			}
			if ch%5 == 0 {
				// Read what has arrived, keeping the reply slots turning.
				for m, _ := sender.TryReceive(); m != nil; m, _ = sender.TryReceive() {
					Expect(accepted).To(HaveKey(m.InReplyTo))
					Expect(accepted[m.InReplyTo]).To(BeTrue(), "a second reply")
					accepted[m.InReplyTo] = false
				}
			}
		}
		Expect(busy+noSlot).To(BeNumerically(">", 0), "the tuner's small queue must push back")
		for pending := func() int {
			n := 0
			for _, open := range accepted {
				if open {
					n++
				}
			}
			return n
		}; pending() > 0; {
			m := WaitNext(sender, 10*time.Second)
			Expect(accepted[m.InReplyTo]).To(BeTrue(), "unexpected or second reply %v", m)
			Expect(m.Kind()).To(Equal(kbus.KindReply))
			accepted[m.InReplyTo] = false
		}
		Expect(slowUI.NumMessages()).To(Equal(uint32(2)), "the slow UI kept only what fitted")
		AddReportEntry("tuner back-pressure", fmt.Sprintf("%d accepted, %d EBUSY, %d ENOLCK", len(accepted), busy, noSlot))
	})
})

// docs/kbus.md §14.1: application code written against kbus.Conn and
// unit-tested on kbustest (sim/stb's TestTheTunerServiceOnKbustest) runs
// unchanged on the module, and the same check passes.
var _ = Describe("The tuner service tested on kbustest", func() {
	It("serves the module's Ksocks as it served kbustest's", func() {
		server, client := RW(), RW()
		Expect(stb.BindTuner(server)).To(Succeed())
		ctx := CtxFor(30 * time.Second)
		served := make(chan error, 1)
		go func() { served <- server.Serve(ctx, stb.TunerHandler(&stb.Tuner{Channels: 5, Level: 50, Channel: 1})) }()
		Expect(stb.CheckTuner(ctx, client)).To(Succeed())
		Expect(server.Close()).To(Succeed())
		Eventually(served).WithTimeout(5 * time.Second).Should(Receive())
	})
})
