// Package stb_test drives the simulated set-top box: each device is its
// own process in the guest, talking only through KBUS.
package stb_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestSetTopBox(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Set-top box scenarios", Label("stb"))
}
