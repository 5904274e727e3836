// Command kbusbench measures KBUS on a freshly loaded module and prints
// every figure with the AF_UNIX socketpair and POSIX message queue floors.
// The rig runs it in the guest for "make bench"; with -json it also
// writes the figures as the report draws them: one bar chart per unit,
// each KBUS figure beside its floors, with min–max whiskers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/kbus-project/kbus/internal/bench"
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/figure"
)

func main() {
	def, err := kbus.DefaultDevice()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kbusbench:", err)
		os.Exit(2)
	}
	dev := flag.Int("device", def, "KBUS device number (default $"+kbus.DeviceEnv+", else 0)")
	repeats := flag.Int("repeats", 5, "runs per figure")
	n := flag.Int("n", 20000, "messages per throughput run")
	jsonPath := flag.String("json", "", "also write the figures to this file, as JSON")
	cBench := flag.String("c", "", "also run this raw-ABI benchmark program (clients/c/kbus_bench.c)")
	peers := flag.String("peers", "", "also run the D-Bus and ZeroMQ peers laid out in this folder (docs/benchmark.md, \"Peers\")")
	focus := flag.String("focus", "", "only the rows whose name matches this regular expression (\"^c\": the C program alone)")
	flag.Parse()
	cfg := bench.Config{Device: *dev, Repeats: *repeats, N: *n, CBench: *cBench, Focus: *focus}
	if *peers != "" {
		p := bench.PeersIn(*peers)
		cfg.Peers = &p
	}
	figs, err := bench.Run(context.Background(), os.Stdout, cfg)
	if *jsonPath != "" {
		if werr := writeFigures(*jsonPath, figs); werr != nil {
			fmt.Fprintln(os.Stderr, "kbusbench:", werr)
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kbusbench:", err)
		os.Exit(1)
	}
}

// writeFigures writes one bars figure per unit: the KBUS figures and the
// floors measured in the same unit, in the order they ran.
func writeFigures(path string, figs []bench.Figure) error {
	var units []string
	bars := map[string][]figure.Bar{}
	for _, f := range figs {
		if _, ok := bars[f.Unit]; !ok {
			units = append(units, f.Unit)
		}
		lo, hi := f.Range()
		bars[f.Unit] = append(bars[f.Unit], figure.Bar{
			Label: f.Name, Median: f.Median(), Min: lo, Max: hi,
			Baseline: strings.HasPrefix(f.Name, "floor:") || strings.HasPrefix(f.Name, "c floor:") ||
				strings.HasPrefix(f.Name, "c peer:"),
		})
	}
	var out []figure.Figure
	for _, u := range units {
		out = append(out, figure.NewBars("benchmark, "+u, u, bars[u]))
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
