// Package requirements traces the project's requirements, the numbered
// sections of docs/kbus.md, to the specs that verify them: a spec verifies
// every section its text cites (§9.6), and a section is verified through
// its subsections too. What no spec cites is listed as not verified; the
// run's page shows the trace and make test prints its count
// (docs/reports.md, "Requirements").
package requirements

import (
	"slices"
	"sort"

	"github.com/kbus-project/kbus/docs"
)

// Result is one spec's outcome on one target.
type Result struct {
	Target string
	Spec   string // the spec's name, as the page shows it
	Text   string // the text its citations are read from: containers and leaf
	Passed bool
	Failed bool // failed, panicked, timed out; neither: skipped or pending
}

// Status is where a requirement stands in one run.
type Status string

// A requirement is verified when the specs that cite it (or one of its
// subsections) ran and passed, failing when one of them failed, not run
// when they exist but none ran, and not verified when no spec cites it.
const (
	Verified    Status = "verified"
	Failing     Status = "failing"
	NotRun      Status = "not run"
	NotVerified Status = "not verified"
)

// Row is one requirement with the specs that verify it.
type Row struct {
	docs.Section
	Status Status
	Specs  []string // specs citing the section itself, each once
	// Through lists the subsections whose specs verify this section too.
	Through []string
	Cells   []Cell // per target, in the Trace's order
}

// Cell counts a requirement's specs on one target.
type Cell struct{ Passed, Failed int }

// Trace is every requirement of a run.
type Trace struct {
	Doc     string
	Targets []string
	Rows    []Row
	Summary Summary
}

// Summary counts requirements by status; it is what report.json keeps.
type Summary struct {
	Doc                              string
	Total, Verified, Failing, NotRun int
	NotVerified                      int
	NotVerifiedIDs                   []string `json:",omitempty"`
}

// Build traces sections to results; targets orders the page's columns.
func Build(doc string, sections []docs.Section, targets []string, results []Result) *Trace {
	col := map[string]int{}
	for i, t := range targets {
		col[t] = i
	}
	index := map[string]int{}
	tr := &Trace{Doc: doc, Targets: targets, Rows: make([]Row, len(sections))}
	for i, s := range sections {
		index[s.ID] = i
		tr.Rows[i] = Row{Section: s, Cells: make([]Cell, len(targets))}
	}
	type tally struct{ ran, passed, failed int }
	count := make([]tally, len(sections))
	seen := make([]map[string]bool, len(sections))
	add := func(i int, r Result, direct bool) {
		row := &tr.Rows[i]
		if seen[i] == nil {
			seen[i] = map[string]bool{}
		}
		if direct && !seen[i][r.Spec] {
			seen[i][r.Spec] = true
			row.Specs = append(row.Specs, r.Spec)
		}
		c, ok := col[r.Target]
		switch {
		case r.Failed:
			count[i].failed++
			if ok {
				row.Cells[c].Failed++
			}
		case r.Passed:
			count[i].passed++
			if ok {
				row.Cells[c].Passed++
			}
		}
		if r.Passed || r.Failed {
			count[i].ran++
		}
	}
	cited := make([]bool, len(sections))
	for _, r := range results {
		for _, id := range docs.Cited(r.Text) {
			i, ok := index[id]
			if !ok {
				continue // docs/citations_test.go fails the build on these
			}
			cited[i] = true
			add(i, r, true)
			if p := sections[i].Parent; p != "" {
				if j, ok := index[p]; ok {
					cited[j] = true
					add(j, r, false)
					if !slices.Contains(tr.Rows[j].Through, id) {
						tr.Rows[j].Through = append(tr.Rows[j].Through, id)
					}
				}
			}
		}
	}
	s := &tr.Summary
	s.Doc, s.Total = doc, len(sections)
	for i := range tr.Rows {
		row := &tr.Rows[i]
		sort.Strings(row.Specs)
		switch {
		case !cited[i]:
			row.Status = NotVerified
			s.NotVerified++
			s.NotVerifiedIDs = append(s.NotVerifiedIDs, row.ID)
		case count[i].failed > 0:
			row.Status = Failing
			s.Failing++
		case count[i].ran == 0:
			row.Status = NotRun
			s.NotRun++
		default:
			row.Status = Verified
			s.Verified++
		}
	}
	return tr
}
