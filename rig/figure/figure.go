// Package figure is how a spec records a measured quantity for the report
// to draw: a spec passes a Figure to Ginkgo's AddReportEntry, Ginkgo
// stores it as JSON in the suite's report, and the host's report finds
// every entry whose value decodes as a Figure and draws it (SVG, in this
// package). Nothing about a particular figure is known to the report.
package figure

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Kinds of figure, each drawn its own way.
const (
	Samples = "samples" // a distribution: one dot per value, with the median
	Series  = "series"  // values over time: X in seconds, Y the values
	Bars    = "bars"    // named values with a range, e.g. benchmark figures
)

// Figure is one measured quantity.
type Figure struct {
	// Figure is always "kbus-rig/v1": it tells a figure from any other
	// report entry value.
	Figure string    `json:"figure"`
	Kind   string    `json:"kind"`
	Name   string    `json:"name"`
	Unit   string    `json:"unit"`
	Values []float64 `json:"values,omitempty"` // Samples; Y of a Series
	X      []float64 `json:"x,omitempty"`      // a Series' seconds
	Bars   []Bar     `json:"bars,omitempty"`
}

// Bar is one value of a Bars figure: its median and the range it took.
type Bar struct {
	Label    string  `json:"label"`
	Median   float64 `json:"median"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Group    string  `json:"group,omitempty"`    // bars of one group are drawn together
	Baseline bool    `json:"baseline,omitempty"` // a floor it is compared with
}

const tag = "kbus-rig/v1"

// NewSamples is a distribution of values.
func NewSamples(name, unit string, values []float64) Figure {
	return Figure{Figure: tag, Kind: Samples, Name: name, Unit: unit, Values: values}
}

// NewSeries is values y at times x (seconds).
func NewSeries(name, unit string, x, y []float64) Figure {
	return Figure{Figure: tag, Kind: Series, Name: name, Unit: unit, X: x, Values: y}
}

// NewBars is a set of named values with their ranges.
func NewBars(name, unit string, bars []Bar) Figure {
	return Figure{Figure: tag, Kind: Bars, Name: name, Unit: unit, Bars: bars}
}

// Decode returns the figure in a report entry's JSON, and false when the
// entry is not a figure.
func Decode(asJSON string) (Figure, bool) {
	if !strings.Contains(asJSON, tag) {
		return Figure{}, false
	}
	var f Figure
	if err := json.Unmarshal([]byte(asJSON), &f); err != nil || f.Figure != tag {
		return Figure{}, false
	}
	return f, true
}

// Median of the figure's values (of the bars' medians for Bars).
func (f Figure) Median() float64 {
	v := f.Values
	if f.Kind == Bars {
		v = nil
		for _, b := range f.Bars {
			v = append(v, b.Median)
		}
	}
	return Median(v)
}

// Median of v, 0 for none.
func Median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	switch {
	case len(s) == 0:
		return 0
	case len(s)%2 == 1:
		return s[len(s)/2]
	default:
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
}

// String is what Ginkgo's own reporters print for the entry.
func (f Figure) String() string {
	switch f.Kind {
	case Series:
		return fmt.Sprintf("%s: %d points, median %.4g %s", f.Name, len(f.Values), f.Median(), f.Unit)
	case Bars:
		return fmt.Sprintf("%s: %d bars (%s)", f.Name, len(f.Bars), f.Unit)
	default:
		return fmt.Sprintf("%s: %d samples, median %.4g %s", f.Name, len(f.Values), f.Median(), f.Unit)
	}
}
