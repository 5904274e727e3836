package fuzz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kbus-project/kbus/fuzz"
	"github.com/kbus-project/kbus/fuzz/kcov"
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/guestproto"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// OutDir is where the run's new corpus entries, reproducers and figures
// go: the report folder.
var OutDir = filepath.Join(guestproto.ResultsMount, guestproto.ArtifactsDir, "fuzz")

var _ = Describe("The module under a coverage-guided fuzzer", func() {
	It("survives the committed corpus and the time budget's new programs with no kernel report", func() {
		Expect(kcov.Path).To(BeAnExistingFile(), "KCOV (the debug kernel) is needed")
		seed, _ := Seed("fuzz.seed")
		seconds, ok := Param("fuzz.seconds")
		if !ok {
			seconds = 60
		}
		corpus, err := fuzz.Corpus()
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "fuzz: seed %d, %d s after replaying %d committed programs\n", seed, seconds, len(corpus))

		stats, err := fuzz.Run(context.Background(), fuzz.Config{
			Device: kbus.DevicePath(Device), Seed: seed, Budget: time.Duration(seconds) * time.Second,
			Replay: corpus, Out: OutDir, Log: GinkgoWriter,
		})
		fmt.Fprintf(GinkgoWriter, "fuzz: %s\n", stats)
		AddReportEntry("fuzz", stats.String())
		if b, jerr := json.MarshalIndent(map[string]any{"seed": seed, "stats": stats,
			"execs_per_second": stats.ExecsPerSecond()}, "", "  "); jerr == nil {
			_ = os.MkdirAll(OutDir, 0o755)
			_ = os.WriteFile(filepath.Join(OutDir, "stats.json"), b, 0o644)
		}
		Expect(err).NotTo(HaveOccurred(), "seed %d", seed)
		Expect(stats.Blocks).To(BeNumerically(">", 0), "KCOV reported the module's blocks")
	})
})
