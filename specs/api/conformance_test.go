package api_test

import (
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/conformance"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
)

// device opens Conns on the suite's device.
type device struct{}

func (device) Open() (kbus.Conn, error) { return kbus.Open(Device, kbus.ReadWrite) }

// The same cases go test runs on kbustest (kbus/kbustest): what an
// application's unit tests saw is what the module does (docs/kbus.md §14.1).
var _ = Describe("§14.1 A Ksock as a kbus.Conn, as kbustest's is (kbus/conformance)", func() {
	for _, c := range conformance.Cases() {
		It(c.Name, func() { c.Run(GinkgoT(), device{}) })
	}
})
