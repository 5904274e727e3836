package report

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kbus-project/kbus/internal/atomicfile"
	"github.com/kbus-project/kbus/rig/figure"
	"github.com/kbus-project/kbus/rig/requirements"
)

// runPage is what the run's template is given.
type runPage struct {
	*RunReport
	Counts   Counts
	Families []string
	Matrix   []matrixRow
	Columns  []string
	Groups   []gridGroup
	Labels   []string
	Failures []TargetSpec
	Figures  []pageFigure
	Infra    []*TargetReport
	// ProfileSVG draws the profile's stages, when the run has one.
	ProfileSVG template.HTML
	// Trace is docs/kbus.md's requirements and the specs verifying them.
	Trace *requirements.Trace
	// SignOff is the run's acceptance (rig accept), or that it has none.
	SignOff signOff
	// Trend is the last runs, this one last; nil when there is no history.
	Trend *Trend
	// TrendSVG draws the suites' time per run.
	TrendSVG []template.HTML
}

type matrixRow struct {
	T     *TargetReport
	Cells []matrixCell
}

type matrixCell struct {
	Counts   Counts
	Duration time.Duration
	Class    string // pass, fail, skip, none
	Ran      bool
}

type gridGroup struct {
	Label         string
	Rows          []gridRow
	Failed, Total int
}

type gridRow struct {
	Container, Text string
	Labels          string // space-separated, for the filter
	Cells           []gridCell
	Failed          bool
	NewContainer    bool // the first row of its container
}

type gridCell struct {
	Mark, Class, Title string
}

type pageFigure struct {
	Target, Spec string
	Figure       figure.Figure
	SVG          template.HTML
}

// WriteRunPage writes the whole run's page as dir/index.html, with the
// runs of the history folder history (if any) in its history view.
func WriteRunPage(dir string, r *RunReport, history string) error {
	var trend *Trend
	if history != "" {
		earlier, err := ReadRuns(history, r.RunID, TrendDepth-1)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		trend = BuildTrend(append(earlier, r))
	}
	return writeRunPage(dir, r, trend)
}

func writeRunPage(dir string, r *RunReport, trend *Trend) error {
	p := &runPage{Trend: trend, RunReport: r, Counts: r.Counts(), Families: r.Families(), Failures: r.Failures()}
	for _, t := range r.Targets {
		p.Matrix = append(p.Matrix, p.matrixRow(t))
		if t.Verdict == Infra {
			p.Infra = append(p.Infra, t)
		}
	}
	p.buildGrid()
	p.SignOff = readSignOff(dir, r)
	if trend != nil {
		for _, f := range trend.Durations {
			p.TrendSVG = append(p.TrendSVG, figure.SVG(f))
		}
	}
	if len(r.Targets) > 0 {
		p.Trace = r.Trace()
	}
	for _, t := range r.Targets {
		for _, f := range t.Figures {
			p.Figures = append(p.Figures, pageFigure{Target: t.Name, Spec: f.Spec, Figure: f.Figure, SVG: figure.SVG(f.Figure)})
		}
	}
	if len(r.Targets) > 0 {
		d := SuiteDurations(r.Targets)
		if len(d.Bars) > 0 {
			p.Figures = append(p.Figures, pageFigure{Target: "every target", Figure: d, SVG: figure.SVG(d)})
		}
	}
	if r.Profile != nil {
		p.ProfileSVG = figure.SVG(r.Profile.Figure())
	}
	var page bytes.Buffer
	if err := pages.ExecuteTemplate(&page, "run", p); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, HTMLFile), page.Bytes())
}

func (p *runPage) matrixRow(t *TargetReport) matrixRow {
	row := matrixRow{T: t}
	for _, fam := range p.Families {
		c := matrixCell{Class: "none"}
		for _, s := range t.Suites {
			if s.Family == fam {
				c.Ran = true
				c.Duration += s.Duration
			}
		}
		for _, s := range t.Specs {
			if s.Family != fam {
				continue
			}
			switch {
			case s.Failed():
				c.Counts.Failed++
			case s.State == "passed":
				c.Counts.Passed++
			default:
				c.Counts.Skipped++
			}
		}
		switch {
		case c.Counts.Failed > 0:
			c.Class = "fail"
		case c.Counts.Passed > 0:
			c.Class = "pass"
		case c.Ran:
			c.Class = "skip"
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}

// buildGrid lays out every spec once, a cell per target and variant,
// grouped by the spec's first label and ordered by container.
func (p *runPage) buildGrid() {
	type colKey struct {
		t       *TargetReport
		variant string
	}
	var cols []colKey
	for _, t := range p.Targets {
		variants := map[string]bool{}
		for _, s := range t.Specs {
			variants[s.Variant] = true
		}
		if len(variants) == 0 {
			variants[""] = true
		}
		for _, v := range slices.Sorted(maps.Keys(variants)) {
			cols = append(cols, colKey{t, v})
			p.Columns = append(p.Columns, Column(t, v))
		}
	}
	type rowData struct {
		family, container, text string
		labels                  []string
		cells                   map[int]SpecResult
	}
	rows := map[string]*rowData{}
	for ci, c := range cols {
		for _, s := range c.t.Specs {
			if s.Variant != c.variant {
				continue
			}
			k := s.Key()
			r := rows[k]
			if r == nil {
				r = &rowData{family: s.Family, container: s.Container, text: s.Text, labels: s.Labels, cells: map[int]SpecResult{}}
				rows[k] = r
			}
			r.cells[ci] = s
		}
	}
	groups := map[string]*gridGroup{}
	labels := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		r := rows[k]
		label := "(no label)"
		if len(r.labels) > 0 {
			label = r.labels[0]
		}
		for _, l := range r.labels {
			labels[l] = true
		}
		g := groups[label]
		if g == nil {
			g = &gridGroup{Label: label}
			groups[label] = g
		}
		row := gridRow{Container: r.family + " › " + r.container, Text: r.text, Labels: strings.Join(r.labels, " ")}
		for ci := range cols {
			s, ok := r.cells[ci]
			var cell gridCell
			switch {
			case !ok:
				cell = gridCell{Mark: "", Class: "none", Title: "not run"}
			case s.Failed():
				cell = gridCell{Mark: "✗" + s.rate(), Class: "fail", Title: s.State + ": " + firstLine(s.Failure.Message)}
				row.Failed = true
			case s.Flaky():
				cell = gridCell{Mark: "⚠" + s.rate(), Class: "flaky", Title: fmt.Sprintf("flaky: passed on attempt %d",
					s.Attempts)}
			case s.State == "passed":
				cell = gridCell{Mark: "✓" + s.rate(), Class: "pass", Title: "passed in " + s.Duration.Round(time.Millisecond).String()}
			default:
				cell = gridCell{Mark: "–", Class: "skip", Title: s.State}
			}
			row.Cells = append(row.Cells, cell)
		}
		g.Total++
		if row.Failed {
			g.Failed++
		}
		if n := len(g.Rows); n == 0 || g.Rows[n-1].Container != row.Container {
			row.NewContainer = true
		}
		g.Rows = append(g.Rows, row)
	}
	for _, l := range slices.Sorted(maps.Keys(groups)) {
		p.Groups = append(p.Groups, *groups[l])
	}
	// Groups with failures first.
	sort.SliceStable(p.Groups, func(i, j int) bool { return p.Groups[i].Failed > 0 && p.Groups[j].Failed == 0 })
	p.Labels = slices.Sorted(maps.Keys(labels))
}

var funcs = template.FuncMap{
	"dur": func(d time.Duration) string {
		switch {
		case d >= time.Minute:
			return d.Round(time.Second).String()
		case d >= time.Second:
			return d.Round(100 * time.Millisecond).String()
		default:
			return d.Round(time.Millisecond).String()
		}
	},
	"oneline":  oneLine,
	"lower":    func(v Verdict) string { return strings.ToLower(strings.Fields(v.String())[0]) },
	"join":     strings.Join,
	"reqClass": reqClass,
	"trendMark": func(state string) string {
		return map[string]string{"passed": "✓", "failed": "✗", "skipped": "–"}[state]
	},
	"trendClass": func(state string) string {
		return map[string]string{"passed": "pass", "failed": "fail", "skipped": "skip", "": "none"}[state]
	},
	"num": figure.Num,
	"inc": func(n int) int { return n + 1 },
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	// the names of a report folder's files (files.go)
	"htmlFile":   func() string { return HTMLFile },
	"runFile":    func() string { return RunFile },
	"jsonFile":   func() string { return JSONFile },
	"junitFile":  func() string { return JUnitFile },
	"targetFile": func() string { return TargetFile },
	"serialFile": func() string { return SerialFile },
	"dmesgFile":  func() string { return DmesgFile },
}

// pages holds the run's page, each target's page and what they share,
// parsed from the files under page/: a template per .tmpl file, and the
// style sheet and script as templates of their own, included verbatim.
var pages = template.Must(template.New("pages").Funcs(funcs).ParseFS(pageFiles, "page/*"))

//go:embed page
var pageFiles embed.FS

// reqClass is a requirement's status as a cell's class.
func reqClass(s requirements.Status) string {
	switch s {
	case requirements.Verified:
		return "pass"
	case requirements.Failing:
		return "fail"
	case requirements.NotRun:
		return "skip"
	default:
		return "none"
	}
}
