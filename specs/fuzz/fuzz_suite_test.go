// Package fuzz_test runs the coverage-guided fuzzer (package fuzz) on the
// guest's KBUS device, on the debug kernel, where KCOV reports the
// module's coverage and KASAN and lockdep watch it (and the guest's
// kmemleak scan after the suites): the
// committed corpus first, then new programs for a time budget. The guest's
// kernel command line may set the budget (fuzz.seconds=N) and the seed
// (fuzz.seed=N). docs/testing.md explains the figures and how to replay
// a finding.
package fuzz_test

import (
	"os"
	"testing"

	"github.com/kbus-project/kbus/fuzz"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The fuzzer's second process (its child) is this binary again.
func TestMain(m *testing.M) {
	fuzz.ChildMain()
	os.Exit(m.Run())
}

func TestFuzz(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "KBUS under a coverage-guided fuzzer", Label("fuzz"))
}
