package core_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("§12 /proc/kbus", func() {
	It("has bindings and stats, readable by everyone", func() {
		for _, f := range []string{"bindings", "stats"} {
			fi, err := os.Stat("/proc/kbus/" + f)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o444)))
		}
	})

	It("lists bindings newest first in the original's format, under a comment line per device", func() {
		ks := RW()
		id := ID(ks)
		BindListener(ks, "$.Proc.Listener")
		BindReplier(ks, "$.Proc.*")
		text := ProcFile("bindings")
		Expect(text).To(HavePrefix("# <device> is bound to <Ksock-ID> in <process-PID> as <Replier|Listener> for <message-name>\n"))
		replierLine := fmt.Sprintf("%3d: %8d %8d  R  $.Proc.*\n", Device, id, os.Getpid())
		listenerLine := fmt.Sprintf("%3d: %8d %8d  L  $.Proc.Listener\n", Device, id, os.Getpid())
		Expect(text).To(ContainSubstring(replierLine + listenerLine))
	})

	It("forgets the bindings of a closed Ksock", func() {
		ks := RW()
		BindListener(ks, "$.Proc.Gone")
		Expect(DeviceBindings()).To(ContainSubstring("$.Proc.Gone"))
		Expect(ks.Close()).To(Succeed())
		Expect(DeviceBindings()).NotTo(ContainSubstring("$.Proc.Gone"))
	})

	It("shows each device and Ksock in the stats format", func() {
		ks := RW()
		BindReplier(ks, "$.Proc.S")
		Send(ks, kbus.NewRequest("$.Proc.S", nil))
		id, _ := ks.Syscalls().LastSent()
		Expect(ks.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Proc.Part", nil))).To(Succeed())
		text := DeviceStats()
		Expect(text).To(MatchRegexp(`^dev %2d: next ksock \d+ next msg \d+ unsent unbindings \d+\n`, Device))
		block := regexp.MustCompile(fmt.Sprintf(`(?m)^    ksock %d last msg 0:%d queue 1 of 100\n`+
			`      read byte 0 of 0, wrote byte \d+ of FINAL \(finished\), not sending\n`+
			`      outstanding requests 1 \(size 16, max 1\), unsent replies 0 \(max 0\)$`, ID(ks), id.Serial))
		Expect(block.MatchString(text)).To(BeTrue(), "stats:\n%s", text)
	})

	It("shows a partly read message and a write in progress", func() {
		ks := RW()
		BindListener(ks, "$.Proc.R")
		Send(ks, kbus.NewAnnouncement("$.Proc.R", nil))
		n, err := ks.Syscalls().NextMsg()
		Expect(err).NotTo(HaveOccurred())
		_, err = ks.Syscalls().Read(make([]byte, 10))
		Expect(err).NotTo(HaveOccurred())
		b := kbus.NewAnnouncement("$.Proc.W", []byte("abcdef")).Bytes()
		_, err = ks.Syscalls().Write(b[:len(b)-10])
		Expect(err).NotTo(HaveOccurred())
		want := fmt.Sprintf("      read byte 10 of %d, wrote byte 2 of DATA (not finished), not sending", n)
		var found bool
		for _, line := range strings.Split(ProcFile("stats"), "\n") {
			found = found || line == want
		}
		Expect(found).To(BeTrue(), "no line %q in\n%s", want, ProcFile("stats"))
	})
})
