// Package core_test specifies KBUS's behaviour against the real module,
// one container per section of docs/kbus.md, which the spec names cite (§9.2).
// It runs inside the rig's guest.
package core_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/specs/support"
)

func TestCore(t *testing.T) {
	if name := os.Getenv(childEnv); name != "" {
		runChild(name) // a helper process of the concurrency specs
		return
	}

	RegisterFailHandler(Fail)
	RunSpecs(t, "KBUS core behaviour")
}

var _ = BeforeSuite(func() {
	Expect(kbus.DevicePath(support.Device)).To(BeAnExistingFile(), "the kbus module must be loaded")
})

// Device-wide switches are put back after every spec that touches them.
var _ = AfterEach(func() {
	ks, err := kbus.Open(support.Device, kbus.ReadWrite)
	Expect(err).NotTo(HaveOccurred())
	defer ks.Close()
	_, err = ks.SetReportReplierBinds(false)
	Expect(err).NotTo(HaveOccurred())
	_, err = ks.SetVerbose(false)
	Expect(err).NotTo(HaveOccurred())
	_, err = ks.SetMaxMessageSize(409600)
	Expect(err).NotTo(HaveOccurred())
})
