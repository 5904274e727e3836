package core_test

import (
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("§11 Replier bind events", func() {
	var watcher, binder *kbus.Ksock
	BeforeEach(func() {
		watcher, binder = RW(), RW()
		BindListener(watcher, kbus.NameReplierBindEvent)
	})

	event := func(ks *kbus.Ksock) (raw.BindEvent, *kbus.Message) {
		GinkgoHelper()
		m := Next(ks)
		Expect(m.Name).To(Equal(kbus.NameReplierBindEvent))
		ev, err := m.BindEvent()
		Expect(err).NotTo(HaveOccurred())
		return ev, m
	}

	It("is off by default: replier binds generate nothing", func() {
		Expect(watcher.ReportReplierBinds()).To(BeFalse())
		BindReplier(binder, "$.Quiet")
		Empty(watcher)
	})

	It("reports replier binds and unbinds, not listener ones, once switched on", func() {
		prev, err := watcher.SetReportReplierBinds(true)
		Expect(err).NotTo(HaveOccurred())
		Expect(prev).To(BeFalse())
		BindListener(binder, "$.Listener")
		BindReplier(binder, "$.Svc.*")
		Expect(binder.UnbindReplier("$.Svc.*")).To(Succeed())

		ev, m := event(watcher)
		Expect(ev).To(Equal(raw.BindEvent{IsBind: true, Binder: ID(binder), Name: "$.Svc.*"}))
		Expect(m.Flags).To(Equal(kbus.FlagSynthetic | kbus.FlagAllOrFail))
		Expect(m.From).To(BeZero())
		Expect(m.To).To(BeZero())
		Expect(m.InReplyTo.IsZero()).To(BeTrue())
		Expect(m.Data).To(HaveLen(12 + 8))
		Expect(m.String()).To(MatchRegexp(`^<ReplierBindEvent id=\[0:\d+\], flags=0x204 \(SYN,aFL\), \[Bind '\$\.Svc\.\*' for \d+\]>$`))
		ev, _ = event(watcher)
		Expect(ev).To(Equal(raw.BindEvent{IsBind: false, Binder: ID(binder), Name: "$.Svc.*"}))
		Empty(watcher)
	})

	It("reaches wildcard listeners of $.KBUS.*", func() {
		wild := RW()
		BindListener(wild, "$.KBUS.*")
		_, err := wild.SetReportReplierBinds(true)
		Expect(err).NotTo(HaveOccurred())
		BindReplier(binder, "$.W")
		ev, _ := event(wild)
		Expect(ev.Name).To(Equal("$.W"))
	})

	It("fails the BIND with EAGAIN, binding nothing, when an event listener is full", func() {
		_, err := watcher.SetReportReplierBinds(true)
		Expect(err).NotTo(HaveOccurred())
		_, err = watcher.SetMaxMessages(1)
		Expect(err).NotTo(HaveOccurred())
		BindReplier(binder, "$.First")
		Expect(binder.BindReplier("$.Second")).To(MatchError(kbus.ErrWouldBlock))
		_, found, err := binder.FindReplier("$.Second")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeFalse())
		Expect(binder.UnbindReplier("$.First")).To(MatchError(kbus.ErrWouldBlock))
		_, found, _ = binder.FindReplier("$.First")
		Expect(found).To(BeTrue())
		event(watcher)
		Expect(binder.UnbindReplier("$.First")).To(Succeed())
	})

	It("replays existing replier bindings to the Ksock that switches reporting on, newest first", func() {
		other := RW()
		BindReplier(binder, "$.Old.A")
		BindReplier(other, "$.Old.B")
		late := RW() // not bound to the event at all
		_, err := late.SetReportReplierBinds(true)
		Expect(err).NotTo(HaveOccurred())
		ev1, _ := event(late)
		ev2, _ := event(late)
		Expect(ev1).To(Equal(raw.BindEvent{IsBind: true, Binder: ID(other), Name: "$.Old.B"}))
		Expect(ev2).To(Equal(raw.BindEvent{IsBind: true, Binder: ID(binder), Name: "$.Old.A"}))
	})

	It("says EBUSY when the replay fills the caller's queue, and stays on", func() {
		BindReplier(binder, "$.R.A")
		BindReplier(binder, "$.R.B")
		late := RW()
		_, err := late.SetMaxMessages(1)
		Expect(err).NotTo(HaveOccurred())
		_, err = late.SetReportReplierBinds(true)
		Expect(err).To(MatchError(kbus.ErrQueueFull))
		Expect(late.ReportReplierBinds()).To(BeTrue())
		Expect(late.NumMessages()).To(Equal(uint32(1)))
	})

	It("rejects switch values other than 0, 1 and query with EINVAL", func() {
		for _, nr := range []int{raw.NrMsgOnlyOnce, raw.NrVerbose, raw.NrReportReplierBinds} {
			v := uint32(2)
			_, err := watcher.Syscalls().Ioctl(raw.Native.Ioctl(nr), ptrU32(&v))
			Expect(err).To(MatchError(kbus.ErrInvalid))
		}
	})

	Describe("§11.3 events of a closing replier that cannot be delivered", func() {
		// closeWhileWatcherIsFull binds the binder as replier to name with
		// reporting on, fills the watcher's queue, and closes the binder:
		// its unbind event cannot be broadcast and is set aside.
		closeWhileWatcherIsFull := func(name string) {
			GinkgoHelper()
			_, err := watcher.SetReportReplierBinds(true)
			Expect(err).NotTo(HaveOccurred())
			BindReplier(binder, name)
			event(watcher)
			BindListener(watcher, "$.Fill")
			_, err = watcher.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			Send(RW(), kbus.NewAnnouncement("$.Fill", nil))
			Expect(binder.Close()).To(Succeed())
		}

		It("sets the event aside for a full listener and delivers it after the next read", func() {
			bid := ID(binder)
			closeWhileWatcherIsFull("$.Closing")

			Expect(watcher.NumMessages()).To(Equal(uint32(2)), "the set-aside event counts")
			Expect(Next(watcher).Name).To(Equal("$.Fill"))
			ev, _ := event(watcher)
			Expect(ev).To(Equal(raw.BindEvent{IsBind: false, Binder: bid, Name: "$.Closing"}))
			Empty(watcher)
		})

		It("does not stall an empty queue: NEXTMSG brings the event in", func() {
			_, err := watcher.SetReportReplierBinds(true)
			Expect(err).NotTo(HaveOccurred())
			full := RW()
			BindListener(full, kbus.NameReplierBindEvent)
			BindReplier(binder, "$.Stall")
			event(watcher)
			event(full)
			_, err = full.SetMaxMessages(1)
			Expect(err).NotTo(HaveOccurred())
			BindListener(full, "$.Fill")
			Send(RW(), kbus.NewAnnouncement("$.Fill", nil))
			Expect(binder.Close()).To(Succeed())
			// watcher had room but gets its copy through the set-aside list too.
			ev, _ := event(watcher)
			Expect(ev.IsBind).To(BeFalse())
			Expect(readable(watcher)).To(BeFalse())
		})

		It("drops set-aside events when the listener unbinds the event name", func() {
			closeWhileWatcherIsFull("$.Drop")
			Expect(watcher.NumMessages()).To(Equal(uint32(2)))
			Expect(watcher.UnbindListener(kbus.NameReplierBindEvent)).To(Succeed())
			Expect(watcher.NumMessages()).To(Equal(uint32(1)))
			Expect(Names(watcher)).To(Equal([]string{"$.Fill"}))
		})

		It("shows the unsent unbindings in /proc/kbus/stats", func() {
			closeWhileWatcherIsFull("$.Stat")
			Expect(DeviceStats()).To(MatchRegexp(`^dev %2d: next ksock \d+ next msg \d+ unsent unbindings 1\n`, Device))
		})
	})
})
