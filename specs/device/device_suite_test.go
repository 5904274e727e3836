// Package device_test specifies the KBUS device itself: the module is
// loaded, its nodes exist with the documented mode, and they open and close.
// It runs inside the rig's guest against the real module.
package device_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestDevice(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "KBUS device")
}
