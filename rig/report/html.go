package report

import (
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// Page is everything the acceptance page of one run shows.
type Page struct {
	Arch    string
	Kernel  string // flavour
	Verdict Verdict
	Reasons []string
	Summary Summary
	Splats  []Splat
	Stages  []Stage
	Cmdline string
	Reports []types.Report
	Date    time.Time
}

type pageSpec struct {
	Text     string
	State    string
	Class    string
	Duration time.Duration
	Failure  string
	Entries  []string
}

type pageGroup struct {
	Label string
	Specs []pageSpec
}

// WritePage writes the run's HTML acceptance page as dir/index.html.
func WritePage(dir string, p Page) error {
	groups := map[string]*pageGroup{}
	for _, r := range p.Reports {
		for _, sr := range r.SpecReports {
			if sr.LeafNodeType != types.NodeTypeIt && !sr.Failed() {
				continue
			}
			label := strings.Join(specLabels(r, sr), ", ")
			if label == "" {
				label = "(no label)"
			}
			g := groups[label]
			if g == nil {
				g = &pageGroup{Label: label}
				groups[label] = g
			}
			ps := pageSpec{Text: specName(sr), State: sr.State.String(), Duration: sr.RunTime.Round(time.Millisecond)}
			switch {
			case sr.Failed():
				ps.Class = "fail"
				ps.Failure = sr.FailureMessage() + "\n" + sr.FailureLocation().String()
			case sr.State == types.SpecStatePassed:
				ps.Class = "pass"
			default:
				ps.Class = "skip"
			}
			for _, e := range sr.ReportEntries {
				ps.Entries = append(ps.Entries, e.Name+": "+e.StringRepresentation())
			}
			g.Specs = append(g.Specs, ps)
		}
	}
	var list []*pageGroup
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Label < list[j].Label })

	f, err := os.Create(filepath.Join(dir, HTMLFile))
	if err != nil {
		return err
	}
	defer f.Close()
	return pageTemplate.Execute(f, struct {
		Page
		Groups []*pageGroup
	}{p, list})
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>KBUS rig {{.Arch}}: {{.Verdict}}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:70em}
.verdict{font-size:1.6em;font-weight:bold}
.PASS{color:#176d2c}.FAIL,.INFRASTRUCTURE{color:#b3261e}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
tr.pass td:first-child{border-left:4px solid #2e7d32}tr.fail td:first-child{border-left:4px solid #c62828}tr.skip td:first-child{border-left:4px solid #999}
pre{white-space:pre-wrap;margin:0;font-size:.9em}code{font-size:.85em}
</style></head><body>
<h1>KBUS rig — {{.Arch}} ({{.Kernel}} kernel)</h1>
<p class="verdict {{.Verdict}}">{{.Verdict}}</p>
<p>{{.Date.Format "2006-01-02 15:04:05 MST"}} ·
{{.Summary.Run}} specs run, {{.Summary.Passed}} passed, {{.Summary.Failed}} failed, {{.Summary.Skipped}} skipped, in {{.Summary.Duration}}</p>
{{if .Reasons}}<h2>Why it is not green</h2><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Splats}}<h2>Kernel splats</h2><table><tr><th>log</th><th>line</th><th>text</th></tr>
{{range .Splats}}<tr><td>{{.Source}}</td><td>{{.Line}}</td><td><code>{{.Text}}</code></td></tr>{{end}}</table>{{end}}
<h2>Specs by label</h2>
{{range .Groups}}<h3>{{.Label}}</h3><table><tr><th>spec</th><th>state</th><th>time</th></tr>
{{range .Specs}}<tr class="{{.Class}}"><td>{{.Text}}{{range .Entries}}<br><small>{{.}}</small>{{end}}{{if .Failure}}<pre>{{.Failure}}</pre>{{end}}</td><td>{{.State}}</td><td>{{.Duration}}</td></tr>{{end}}
</table>{{end}}
<h2>Stages</h2><table><tr><th>stage</th><th>time</th><th>note</th></tr>
{{range .Stages}}<tr><td>{{.Name}}</td><td>{{.Duration}}</td><td>{{.Note}}</td></tr>{{end}}</table>
<h2>Files</h2><ul><li><a href="junit.xml">junit.xml</a></li><li><a href="report.json">report.json</a> (Ginkgo JSON, one report per suite)</li>
<li><a href="serial.log">serial.log</a> (guest console)</li><li><a href="dmesg.txt">dmesg.txt</a></li></ul>
<h2>Rerun this guest</h2><pre>{{.Cmdline}}</pre>
</body></html>
`))
