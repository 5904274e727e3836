package report

import (
	"bytes"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/internal/atomicfile"
	"github.com/kbus-project/kbus/rig/figure"
)

// targetPage is what a target's own page is given.
type targetPage struct {
	T        *TargetReport
	Failures []TargetSpec
	Figures  []pageFigure
	Groups   []specGroup
}

type specGroup struct {
	Label  string
	Specs  []SpecResult
	Failed int
}

// WriteTargetPage writes a target's own page as dir/index.html: its
// verdict and why, its failures in full, its figures, every spec by
// label, its stages and how to rerun it.
func WriteTargetPage(dir string, t *TargetReport) error {
	p := targetPage{T: t}
	groups := map[string]*specGroup{}
	for _, s := range t.Specs {
		if s.Failed() {
			p.Failures = append(p.Failures, TargetSpec{Target: t, Spec: s})
		}
		label := strings.Join(s.Labels, ", ")
		if label == "" {
			label = "(no label)"
		}
		g := groups[label]
		if g == nil {
			g = &specGroup{Label: label}
			groups[label] = g
		}
		g.Specs = append(g.Specs, s)
		if s.Failed() {
			g.Failed++
		}
	}
	for _, l := range slices.Sorted(maps.Keys(groups)) {
		p.Groups = append(p.Groups, *groups[l])
	}
	sort.SliceStable(p.Groups, func(i, j int) bool { return p.Groups[i].Failed > 0 && p.Groups[j].Failed == 0 })
	for _, f := range t.Figures {
		p.Figures = append(p.Figures, pageFigure{Target: t.Name, Spec: f.Spec, Figure: f.Figure, SVG: figure.SVG(f.Figure)})
	}
	var page bytes.Buffer
	if err := pages.ExecuteTemplate(&page, "target", p); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, HTMLFile), page.Bytes())
}
