package report

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	for _, l := range sortedKeys(groups) {
		p.Groups = append(p.Groups, *groups[l])
	}
	sort.SliceStable(p.Groups, func(i, j int) bool { return p.Groups[i].Failed > 0 && p.Groups[j].Failed == 0 })
	for _, f := range t.Figures {
		p.Figures = append(p.Figures, pageFigure{Target: t.Name, Spec: f.Spec, Figure: f.Figure, SVG: SVG(f.Figure)})
	}
	f, err := os.Create(filepath.Join(dir, HTMLFile))
	if err != nil {
		return err
	}
	defer f.Close()
	return pages.ExecuteTemplate(f, "target", p)
}

const targetTemplate = `{{define "target"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>KBUS rig {{.T.Name}}: {{.T.Verdict}}</title>
<style>` + pageStyle + `</style></head><body>
<p class="small"><a href="../index.html">← the whole run</a></p>
<h1>KBUS rig — {{.T.Name}}{{if .T.Role}} ({{.T.Role}}){{end}}</h1>
<p><span id="verdict" class="verdict {{lower .T.Verdict}}">{{.T.Verdict}}</span>
{{.T.Counts.Run}} specs run, {{.T.Counts.Passed}} passed, {{.T.Counts.Failed}} failed, {{.T.Counts.Skipped}} skipped · {{dur .T.Total}}
<span class="small"> · run {{.T.RunID}}</span></p>
{{if .T.Reasons}}<h2>Why it is not green</h2><ul>{{range .T.Reasons}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .T.Splats}}<h2>Kernel splats</h2><table><tr><th>log</th><th>line</th><th>text</th></tr>
{{range .T.Splats}}<tr><td><a href="{{.Source}}">{{.Source}}</a></td><td>{{.Line}}</td><td><code>{{.Text}}</code></td></tr>{{end}}</table>{{end}}
<table><tr><th>architecture</th><td>{{.T.Target}}</td></tr><tr><th>kernel</th><td>{{.T.Kernel.Release}} ({{.T.Flavour}}, config key <code>{{.T.Kernel.ConfigKey}}</code>, {{.T.Kernel.Source}})</td></tr>
<tr><th>module sources</th><td>{{.T.Module}}</td></tr><tr><th>labels</th><td><code>{{.T.Labels}}</code></td></tr>
<tr><th>rerun</th><td><code>{{.T.Rerun}}</code></td></tr></table>
{{if .Failures}}<h2>Failures ({{len .Failures}})</h2>{{range .Failures}}{{template "failure" .}}{{end}}{{end}}
{{if .T.Bench}}<h2>Benchmark</h2><pre>{{.T.Bench}}</pre>{{end}}
<h2>Figures</h2>{{template "figures" .Figures}}
<h2>Specs</h2>
{{range .Groups}}<details {{if .Failed}}open{{end}}><summary>{{.Label}} — {{len .Specs}}{{if .Failed}}, {{.Failed}} failing{{end}}</summary>
<div class="scroll"><table><tr><th>spec</th><th>state</th><th>time</th></tr>
{{range .Specs}}<tr><td>{{.Family}}{{if .Variant}} ({{.Variant}}){{end}} › {{.Container}} › {{.Text}}<br><span class="small">{{.Location}}</span></td>
<td class="{{if .Failed}}fail{{else if eq .State "passed"}}pass{{else}}skip{{end}}">{{.State}}</td><td>{{dur .Duration}}</td></tr>{{end}}
</table></div></details>{{end}}
<h2>Suites</h2><table><tr><th>suite</th><th>time</th><th>exit</th></tr>
{{range .T.Suites}}<tr><td><a href="suites/{{.Name}}.log">{{.Name}}</a></td><td>{{dur .Duration}}</td><td>{{.ExitCode}} {{.Error}}</td></tr>{{end}}</table>
<h2>Stages</h2><table><tr><th>stage</th><th>time</th><th>note</th></tr>
{{range .T.Stages}}<tr><td>{{.Name}}</td><td>{{dur .Duration}}</td><td>{{.Note}}</td></tr>{{end}}</table>
<h2>Files</h2><ul><li><a href="junit.xml">junit.xml</a></li><li><a href="report.json">report.json</a> (Ginkgo JSON, one report per suite)</li>
<li><a href="summary.json">summary.json</a> (this page's data)</li><li><a href="serial.log">serial.log</a> (guest console)</li><li><a href="dmesg.txt">dmesg.txt</a></li></ul>
<h2>Rerun this guest</h2><pre>{{.T.Cmdline}}</pre>
</body></html>
{{end}}`
