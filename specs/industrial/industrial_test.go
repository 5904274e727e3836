package industrial_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/figure"
	"github.com/kbus-project/kbus/sim/plant"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("An over-temperature during a sensor flood", func() {
	It("gets the interlock's URGENT shutdown to every actuator ahead of the flood, within the deadline", func() {
		ids := []string{"V1", "V2", "P1"}
		actuators := []*Sim{
			StartSim("actuator", "--id", "V1", "--safe", "0"),
			StartSim("actuator", "--id", "V2", "--safe", "100"),
			StartSim("actuator", "--id", "P1", "--safe", "0"),
		}
		historian := StartSim("historian")
		for _, id := range []string{"F1", "F2", "P1"} {
			StartSim("sensor", "--kind", "Flow", "--id", id, "--period", "1ms")
		}
		// Every actuator listens to the plant's flood too, so that its queue
		// is busy when the shutdown comes.
		interlock := StartSim("interlock", "--id", "T1", "--limit", "90")
		time.Sleep(300 * time.Millisecond)
		StartSim("sensor", "--id", "T1", "--base", "95", "--noise", "1", "--period", "50ms")

		trip := interlock.EventuallyLogs("trip")
		var worst time.Duration
		var ms []float64
		for i, a := range actuators {
			s := a.EventuallyLogs("shutdown")
			Expect(s.Fields["urgent"]).To(Equal("true"))
			d := s.Time.Sub(trip.Time)
			worst = max(worst, d)
			ms = append(ms, float64(d)/float64(time.Millisecond))
			AddReportEntry("shutdown latency "+ids[i], d.String())
		}
		AddReportEntry("worst shutdown latency", worst.String())
		AddReportEntry("URGENT shutdown latency", figure.NewSamples("URGENT shutdown latency, trip to actuator", "ms", ms))
		Expect(worst).To(BeNumerically("<", 5*time.Second), "generous bound for emulation")
		historian.EventuallyLogs("heard", "name", plant.Shutdown)
		Expect(interlock.Matching("trip")).To(HaveLen(1), "the interlock trips once")
	})
})

var _ = Describe("An actuator that dies while commanded", func() {
	It("gives the PLC its status reply, and the PLC puts the plant in a safe state", func() {
		valve := StartSim("actuator", "--id", "V1", "--stall")
		pump := StartSim("actuator", "--id", "P1", "--safe", "0")
		historian := StartSim("historian")
		plc := StartSim("plc", "--temperature", "T1", "--valve", "V1", "--set-point", "60")
		StartSim("sensor", "--id", "T1", "--base", "75", "--noise", "0.5", "--period", "50ms")

		valve.EventuallyLogs("stall")
		valve.Kill()
		lost := plc.EventuallyLogs("actuator-lost")
		Expect(lost.Fields["status"]).To(Equal(kbus.NameReplierIgnored))
		pump.EventuallyLogs("shutdown")
		safe := historian.EventuallyLogs("heard", "name", plant.SafeState)
		shutdown := historian.EventuallyLogs("heard", "name", plant.Shutdown)
		Expect(shutdown.Time).NotTo(BeTemporally(">", safe.Time), "shutdown before 'safe'")
	})

	It("closes the loop while the actuator is alive: commands follow the temperature", func() {
		valve := StartSim("actuator", "--id", "V1")
		plc := StartSim("plc", "--temperature", "T1", "--valve", "V1", "--set-point", "60", "--gain", "5")
		StartSim("sensor", "--id", "T1", "--base", "70", "--noise", "0", "--period", "20ms")
		cmd := plc.EventuallyLogs("command")
		Expect(cmd.Fields["position"]).To(Equal("50"))
		Expect(plc.EventuallyLogs("commanded").Fields["reply"]).To(Equal("at 50"))
		valve.EventuallyLogs("announce", "name", plant.Position("V1"), "data", "50")
	})
})

var _ = Describe("Commands that must reach every listener or none", func() {
	var slow, sender *kbus.Ksock
	var valves []*Sim
	BeforeEach(func() {
		valves = []*Sim{StartSim("actuator", "--id", "V1"), StartSim("actuator", "--id", "V2")}
		slow = RW()
		BindListener(slow, plant.Shutdown)
		_, err := slow.SetMaxMessages(1)
		Expect(err).NotTo(HaveOccurred())
		sender = RW()
		Send(sender, kbus.NewAnnouncement(plant.Shutdown, []byte("fill the slow listener")))
		for _, v := range valves {
			v.EventuallyLogs("shutdown", "reason", "fill the slow listener")
		}
	})

	It("ALL_OR_FAIL: a full listener fails the command with EBUSY and no actuator moves", func() {
		m := kbus.NewAnnouncement(plant.Shutdown, []byte("all or none"))
		m.Flags = kbus.FlagAllOrFail | kbus.FlagUrgent
		_, err := sender.Send(m)
		Expect(err).To(MatchError(kbus.ErrQueueFull))
		Consistently(func() int { return len(valves[0].Matching("shutdown", "reason", "all or none")) }).
			WithTimeout(300 * time.Millisecond).Should(BeZero())

		Next(slow)
		_, err = sender.Send(m)
		Expect(err).NotTo(HaveOccurred())
		for _, v := range valves {
			v.EventuallyLogs("shutdown", "reason", "all or none")
		}
		Expect(string(Next(slow).Data)).To(Equal("all or none"))
	})

	It("ALL_OR_WAIT: the command waits for the full listener, then reaches everyone", func() {
		m := kbus.NewAnnouncement(plant.Shutdown, []byte("everyone"))
		m.Flags = kbus.FlagAllOrWait | kbus.FlagUrgent
		_, err := sender.Send(m)
		Expect(errors.Is(err, kbus.ErrWouldBlock)).To(BeTrue(), fmt.Sprint(err))
		Consistently(func() int { return len(valves[1].Matching("shutdown", "reason", "everyone")) }).
			WithTimeout(300 * time.Millisecond).Should(BeZero())
		Next(slow)
		Expect(sender.WaitWritable(CtxFor(5 * time.Second))).To(Succeed())
		for _, v := range valves {
			v.EventuallyLogs("shutdown", "reason", "everyone")
		}
		Expect(string(Next(slow).Data)).To(Equal("everyone"))
	})
})
