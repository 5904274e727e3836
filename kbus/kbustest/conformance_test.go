package kbustest_test

import (
	"testing"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/conformance"
	"github.com/kbus-project/kbus/kbus/kbustest"
)

type bus struct{ b *kbustest.Bus }

func (b bus) Open() (kbus.Conn, error) { return b.b.Open(), nil }

// The cases the module passes in every guest (specs/api), here on
// kbustest: the two buses behave alike.
func TestConformance(t *testing.T) {
	b := bus{kbustest.New()}
	for _, c := range conformance.Cases() {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, b) })
	}
}
