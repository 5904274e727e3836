package api_test

import (
	"os/exec"
	"path"

	"github.com/kbus-project/kbus/rig/guestproto"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The kbus package's examples that need a device cannot run on a build
// host; the guest image carries the package's test binary to run them.
var _ = Describe("§14.1 The kbus package's examples", func() {
	It("run against the module and print what their Output comments say", func() {
		bin := path.Join(guestproto.BinDir, guestproto.APIExamples)
		out, err := exec.Command(bin, "-test.run", "^Example", "-test.v").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		for _, name := range []string{"Example", "ExampleKsock_Request", "ExampleKsock_Serve", "ExampleKsock_Messages",
			"ExampleMatches", "ExampleValidateName", "ExampleMessage_String", "Example_firstProgram"} {
			Expect(string(out)).To(ContainSubstring("--- PASS: "+name+" "), "%s", out)
		}
	})
})
