// Package hostile_test puts KBUS among hostile neighbours (docs/kbus.md
// §18): a victim — a replier, a requester asking at a steady rate and an
// announcement listener — runs throughout, while each attack runs beside
// it in a process of its own, as an unprivileged user that may use the
// device (its group), as a third-party app on a set-top box would. Each
// spec says what the attack may not do to the victim: stall its round
// trips, leave a task in D state, or change the device under it.
package hostile_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestHostile(t *testing.T) {
	if name := os.Getenv(attackEnv); name != "" {
		os.Exit(runAttack(name)) // a child process: one attack
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Hostile neighbours", Label("hostile"))
}

// kbusGroup is the group the suite gives the device node, as the kbus-dkms
// package's udev rule gives it the kbus group; the attackers are members.
const kbusGroup = 990

// setFile writes value to a /proc or /sys file; a file the kernel does not
// have is left. The value stays after the suite: the guest runs suites
// side by side, among them this suite's 64- and 32-bit builds, and one
// that put the old value back would take it from the other (it did, on
// arm64: the other's userfaultfd failed with EPERM). Each guest boots fresh.
func setFile(path, value string) {
	GinkgoHelper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return
	}
	Expect(os.WriteFile(path, []byte(value), 0)).To(Succeed())
}

var _ = BeforeSuite(func() {
	node := kbus.DevicePath(support.Device)
	Expect(node).To(BeAnExistingFile(), "the kbus module must be loaded")
	support.ChownNode(node, 0, kbusGroup)
	// Slow memory behind a pointer: on boxes that let users have a
	// userfaultfd (or a FUSE mount) any user can make a copy wait.
	setFile("/proc/sys/vm/unprivileged_userfaultfd", "1")
	// On the debug kernel a task blocked this long is a splat, which
	// fails the run (docs/testing.md).
	setFile("/proc/sys/kernel/hung_task_timeout_secs", strconv.Itoa(5))
})
