// Package limpet_test joins KBUS devices with Limpet processes inside the
// guest: a pair, a chain through an intermediate bus, failures of the far
// replier and of the link, and a peer without the key.
package limpet_test

import (
	"os"
	"testing"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestLimpet(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Limpets", Label("limpet"))
}

// buses are the devices the specs join, created with NEWDEVICE.
var buses []int

var _ = BeforeSuite(func() {
	ks, err := kbus.Open(support.Device, kbus.ReadOnly)
	Expect(err).NotTo(HaveOccurred())
	defer ks.Close()
	for i := 0; i < 2; i++ {
		var n uint32
		support.CreatingDevices(func() {
			n, err = ks.NewDevice()
			Expect(err).NotTo(HaveOccurred())
		})
		Eventually(func() error { _, err := os.Stat(kbus.DevicePath(int(n))); return err }).
			WithTimeout(5 * time.Second).Should(Succeed())
		buses = append(buses, int(n))
	}
})
