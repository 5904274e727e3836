package kbus

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// deviceExamples need a KBUS device; specs/api runs them in the guest.
const deviceExamples = `^Example$|^Example_firstProgram$|^ExampleKsock_`

func TestMain(m *testing.M) {
	flag.Parse()
	if _, err := os.Stat(DevicePath(0)); err != nil {
		if skip := flag.Lookup("test.skip"); skip != nil && skip.Value.String() == "" {
			skip.Value.Set(deviceExamples)
			fmt.Fprintf(os.Stderr, "kbus: no %s here: the examples that need one (%s) run in the guest (specs/api)\n",
				DevicePath(0), deviceExamples)
		}
	}
	os.Exit(m.Run())
}
