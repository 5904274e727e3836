// Package industrial_test drives the simulated plant: sensors, actuators,
// a PLC, a safety interlock and a historian, each its own process.
package industrial_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestIndustrial(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Industrial control scenarios", Label("industrial"))
}
