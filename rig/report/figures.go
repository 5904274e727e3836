package report

import (
	"slices"

	"github.com/kbus-project/kbus/rig/figure"
)

// SuiteDurations is a figure of every suite's duration on every target,
// grouped by suite family.
func SuiteDurations(ts []*TargetReport) figure.Figure {
	byFamily := map[string][]figure.Bar{}
	var families []string
	for _, t := range ts {
		for _, s := range t.Suites {
			if _, ok := byFamily[s.Family]; !ok {
				families = append(families, s.Family)
			}
			label := s.Family + " on " + t.Name
			if _, v := Family(s.Name); v != "" {
				label += " (" + v + ")"
			}
			sec := s.Duration.Seconds()
			byFamily[s.Family] = append(byFamily[s.Family], figure.Bar{Label: label, Median: sec, Min: sec, Max: sec, Group: s.Family})
		}
	}
	var bars []figure.Bar
	for _, f := range slices.Sorted(slices.Values(families)) {
		bars = append(bars, byFamily[f]...)
	}
	return figure.NewBars("suite durations", "s", bars)
}
