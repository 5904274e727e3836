// Package stress_test runs KBUS under random load with random kills: the
// suite binary starts requester, listener and replier processes (itself,
// re-executed), kills repliers with SIGKILL at random and starts new
// ones, and afterwards checks, from what every process logged, the
// promises of docs/kbus.md: every request KBUS accepted got exactly one
// reply or status (§10), listeners saw the messages they had in common
// in the same order (§9.2), and nothing is left queued, reserved or bound
// once everyone has gone (and on the debug kernel the guest's kmemleak scan
// after the suites must find nothing). The guest's kernel command line may set the
// time (stress.seconds=N) and the seed (stress.seed=N).
package stress_test

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestStress(t *testing.T) {
	if role := os.Getenv(workerEnv); role != "" {
		os.Exit(runWorker(role))
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "KBUS under random load and random kills", Label("stress"))
}
