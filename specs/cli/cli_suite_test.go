// Package cli_test drives the kbus command as a person would, with real
// processes and pipes, inside the rig's guest.
package cli_test

import (
	"os/exec"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var kbusPath string

func TestCLI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "The kbus command", Label("cli"))
}

var _ = BeforeSuite(func() {
	var err error
	kbusPath, err = exec.LookPath("kbus")
	Expect(err).NotTo(HaveOccurred(), "kbus must be on the guest's PATH")
})
