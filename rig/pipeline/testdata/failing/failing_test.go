// Package failing_test is a fixture for the runner's own tests: one spec
// passes and one fails, so the runner must report a failure and name it.
package failing_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestFailing(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Runner fixture")
}

var _ = Describe("The runner fixture", func() {
	It("passes when /dev/kbus0 exists", func() {
		Expect("/dev/kbus0").To(BeAnExistingFile())
	})

	It("fails on purpose", Label("fixture"), func() {
		_, err := os.Stat("/this/path/does/not/exist")
		Expect(err).NotTo(HaveOccurred(), "deliberate failure")
	})
})
