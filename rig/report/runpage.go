package report

import (
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/figure"
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

// WriteRunPage writes the whole run's page as dir/index.html.
func WriteRunPage(dir string, r *RunReport) error {
	p := &runPage{RunReport: r, Counts: r.Counts(), Families: r.Families(), Failures: r.Failures()}
	for _, t := range r.Targets {
		p.Matrix = append(p.Matrix, p.matrixRow(t))
		if t.Verdict == Infra {
			p.Infra = append(p.Infra, t)
		}
	}
	p.buildGrid()
	for _, t := range r.Targets {
		for _, f := range t.Figures {
			p.Figures = append(p.Figures, pageFigure{Target: t.Name, Spec: f.Spec, Figure: f.Figure, SVG: SVG(f.Figure)})
		}
	}
	if len(r.Targets) > 0 {
		d := SuiteDurations(r.Targets)
		if len(d.Bars) > 0 {
			p.Figures = append(p.Figures, pageFigure{Target: "every target", Figure: d, SVG: SVG(d)})
		}
	}
	if r.Profile != nil {
		p.ProfileSVG = SVG(r.Profile.Figure())
	}
	f, err := os.Create(filepath.Join(dir, HTMLFile))
	if err != nil {
		return err
	}
	defer f.Close()
	return pages.ExecuteTemplate(f, "run", p)
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
		for _, v := range sortedKeys(variants) {
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
	for _, k := range sortedKeys(rows) {
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
				cell = gridCell{Mark: "✗", Class: "fail", Title: s.State + ": " + firstLine(s.Failure.Message)}
				row.Failed = true
			case s.State == "passed":
				cell = gridCell{Mark: "✓", Class: "pass", Title: "passed in " + s.Duration.Round(time.Millisecond).String()}
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
	for _, l := range sortedKeys(groups) {
		p.Groups = append(p.Groups, *groups[l])
	}
	// Groups with failures first.
	sort.SliceStable(p.Groups, func(i, j int) bool { return p.Groups[i].Failed > 0 && p.Groups[j].Failed == 0 })
	p.Labels = sortedKeys(labels)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
	"oneline": oneLine,
	"lower":   func(v Verdict) string { return strings.ToLower(strings.Fields(v.String())[0]) },
	"join":    strings.Join,
	"num":     num,
	"inc":     func(n int) int { return n + 1 },
	"pct":     func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
}

// pageStyle is shared by the run's page and each target's page.
const pageStyle = `
:root{--pass:#1b7f3b;--fail:#b3261e;--skip:#8a8a8a;--infra:#8a4b00;--line:#d6d6d6;font-family:system-ui,sans-serif}
body{margin:0 auto;padding:1rem;max-width:80rem;line-height:1.4}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line)}
.verdict{display:inline-block;font-size:1.5rem;font-weight:700;padding:.2rem .8rem;border-radius:.3rem;color:#fff}
.verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}.verdict.infrastructure{background:var(--infra)}
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:.4rem 0}
td,th{border:1px solid var(--line);padding:.25rem .45rem;text-align:left;vertical-align:top;font-size:.9rem}
th{background:#f4f4f4}td.pass{background:#e6f4ea}td.fail{background:#fce8e6;font-weight:600}td.skip{color:var(--skip)}td.none{color:#bbb}
td.c{text-align:center}.small{font-size:.8rem;color:#555}pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:.4rem;margin:.2rem 0;font-size:.8rem}
details{margin:.3rem 0}summary{cursor:pointer;font-weight:600}.failure{border-left:4px solid var(--fail);padding-left:.6rem;margin:1rem 0}
tr.cont td{background:#fafafa;font-size:.8rem;color:#444}.filters{position:sticky;top:0;background:#fff;padding:.4rem 0;z-index:1}
svg.fig{max-width:40rem;display:block}svg .ax{stroke:#888}svg .tick{font-size:11px;fill:#333}svg .dot{fill:#1a5fb4;fill-opacity:.6}
svg .med{stroke:var(--fail);stroke-width:2}svg .line{fill:none;stroke:#1a5fb4;stroke-width:1.5}svg .bar{fill:#1a5fb4}svg .bar.floor{fill:#9a9a9a}
svg .wh{stroke:#000}svg .sep{stroke:#ddd}
@media print{.filters{display:none}details{display:block}details>*{display:block}}
@media (max-width:40rem){body{padding:.4rem}td,th{font-size:.75rem;padding:.15rem .25rem}}
`

// pages holds the run's page, each target's page and what they share.
var pages = template.Must(template.New("pages").Funcs(funcs).Parse(sharedTemplates + runTemplate + targetTemplate))

const sharedTemplates = `{{define "failure"}}<div class="failure" data-target="{{.Target.Name}}"><b>{{.Target.Name}}</b> · {{.Spec.Family}}{{if .Spec.Variant}} ({{.Spec.Variant}}){{end}} › {{.Spec.Container}} › <b class="failed-spec">{{.Spec.Text}}</b> [{{.Spec.State}}]
<pre>{{.Spec.Failure.Message}}</pre><div class="small">at {{.Spec.Failure.Location}} (spec at {{.Spec.Location}})</div>
{{with .Spec.Failure}}<details><summary>timeline</summary><pre>{{range .Timeline}}{{.}}
{{end}}</pre></details>
{{if .Output}}<details><summary>captured output</summary><pre>{{.Output}}</pre></details>{{end}}
{{if .Dmesg}}<details><summary>dmesg around the failure ({{len .Dmesg}} lines)</summary><pre>{{range .Dmesg}}{{.}}
{{end}}</pre></details>{{end}}{{end}}
<div class="small"><a href="{{.Prefix}}{{.Spec.Failure.Log}}">suite console log</a> · <a href="{{.Prefix}}dmesg.txt">dmesg</a></div>
{{if .Spec.Failure.Rerun}}<div>rerun this spec: <code>{{.Spec.Failure.Rerun}}</code></div>{{end}}</div>{{end}}
{{define "figures"}}{{if not .}}<p>No figures recorded.</p>{{end}}
{{range .}}<figure><figcaption><b>{{.Figure.Name}}</b> <span class="small">— {{.Target}}{{if .Spec}}, {{.Spec}}{{end}}</span></figcaption>{{.SVG}}</figure>{{end}}{{end}}
`

const runTemplate = `{{define "run"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>KBUS rig run {{.RunID}}: {{.Verdict}}</title>
<style>` + pageStyle + `</style></head><body>
<h1>KBUS rig — run {{.RunID}}</h1>
<p><span id="verdict" class="verdict {{lower .Verdict}}">{{.Verdict}}</span>
<span id="totals">{{len .Targets}} target(s) · {{.Counts.Run}} specs run, {{.Counts.Passed}} passed, {{.Counts.Failed}} failed, {{.Counts.Skipped}} skipped</span>
<span class="small"> · {{.Date.Format "2006-01-02 15:04 MST"}}</span></p>

<h2>Targets</h2>
<div class="scroll"><table id="matrix"><tr><th>target</th><th>verdict</th>{{range .Families}}<th>{{.}}</th>{{end}}<th>time</th></tr>
{{range .Matrix}}<tr data-target="{{.T.Name}}"><td><a href="{{.T.Name}}/index.html">{{.T.Name}}</a>{{if .T.Role}}<br><span class="small">{{.T.Role}}</span>{{end}}</td>
<td class="{{lower .T.Verdict}}">{{.T.Verdict}}</td>
{{range .Cells}}<td class="{{.Class}} c">{{if .Ran}}{{.Counts.Passed}}/{{.Counts.Failed}}/{{.Counts.Skipped}}<br><span class="small">{{dur .Duration}}</span>{{else}}—{{end}}</td>{{end}}
<td>{{dur .T.Total}}</td></tr>{{end}}
</table></div>
<p class="small">Cells: passed/failed/skipped specs and the suites' time; — not run on that target.</p>
{{range .Infra}}<div class="failure"><b>{{.Name}}: {{.Verdict}}</b><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul>
<a href="{{.Name}}/serial.log">console log</a></div>{{end}}

<h2>What was tested</h2>
<table><tr><th>source</th><td>{{.Versions.Git}}{{if .Versions.Dirty}} <b>(uncommitted changes)</b>{{end}}</td></tr>
<tr><th>module sources</th><td>{{.Versions.Module}}</td></tr>
<tr><th>Go</th><td>{{.Versions.Go}}</td></tr>
{{range $bin, $v := .Versions.QEMU}}<tr><th>{{$bin}}</th><td>{{$v}}</td></tr>{{end}}
<tr><th>host</th><td>{{.Versions.Host}}</td></tr></table>
<div class="scroll"><table><tr><th>target</th><th>kernel</th><th>config key</th><th>source</th><th>compiler</th><th>QEMU</th></tr>
{{range .Targets}}<tr><td>{{.Name}}</td><td>{{.Kernel.Release}}</td><td><code>{{.Kernel.ConfigKey}}</code></td><td>{{.Kernel.Source}}</td><td class="small">{{.Kernel.Compiler}}</td><td>{{.QEMU}}</td></tr>{{end}}
</table></div>

<h2>Figures</h2>
{{template "figures" .Figures}}

{{with .Profile}}<h2 id="profile">Where the time went</h2>
<figure>{{$.ProfileSVG}}</figure>
<div class="scroll"><table><tr><th>stage</th><th>time</th><th>share</th><th>guests: their parts</th></tr>
{{range .Stages}}<tr><td>{{.Name}}{{if .Exit}} <b>(exit {{.Exit}})</b>{{end}}</td><td>{{dur .Duration}}</td><td>{{pct .Share}}</td>
<td class="small">{{range .Guests}}<b>{{.Name}}</b> {{dur .Duration}}: {{range $i, $p := .Parts}}{{if $i}}, {{end}}{{$p.Name}} {{dur $p.Duration}}{{end}}<br>{{end}}</td></tr>{{end}}
<tr><th>total</th><th>{{dur .Total}}</th><th></th><th></th></tr></table></div>{{end}}

<h2>Since last time</h2>
{{with .Changes}}{{if .Empty}}<p>Nothing changed since run {{$.Baseline}}.</p>{{else}}<p>Compared with run {{$.Baseline}}.</p>
{{if .NewFailures}}<h3>New failures</h3><ul id="new-failures">{{range .NewFailures}}<li><b>{{.Target}}</b>: {{.Spec}} ({{if .Then}}{{.Then}}{{else}}new{{end}} → {{.Now}})</li>{{end}}</ul>{{end}}
{{if .Fixed}}<h3>Fixed</h3><ul>{{range .Fixed}}<li><b>{{.Target}}</b>: {{.Spec}} ({{.Then}} → {{.Now}})</li>{{end}}</ul>{{end}}
{{if .NewTargets}}<p>New targets: {{join .NewTargets ", "}}</p>{{end}}{{if .GoneTargets}}<p>Targets not run this time: {{join .GoneTargets ", "}}</p>{{end}}
{{if .Added}}<details><summary>{{len .Added}} new spec(s)</summary><ul>{{range .Added}}<li>{{.Target}}: {{.Spec}}</li>{{end}}</ul></details>{{end}}
{{if .Removed}}<details><summary>{{len .Removed}} removed spec(s)</summary><ul>{{range .Removed}}<li>{{.Target}}: {{.Spec}}</li>{{end}}</ul></details>{{end}}
{{if .Slower}}<details><summary>{{len .Slower}} spec(s) slower</summary><ul>{{range .Slower}}<li>{{.Target}}: {{.Spec}} ({{.Then}} → {{.Now}})</li>{{end}}</ul></details>{{end}}
{{if .Faster}}<details><summary>{{len .Faster}} spec(s) faster</summary><ul>{{range .Faster}}<li>{{.Target}}: {{.Spec}} ({{.Then}} → {{.Now}})</li>{{end}}</ul></details>{{end}}
{{if .Stages}}<h3>Stages whose time moved</h3><ul id="stage-changes">{{range .Stages}}<li>{{.Stage}}: {{dur .Then}} → {{dur .Now}}</li>{{end}}</ul>{{end}}
{{if .Figures}}<h3>Figures that moved</h3><ul>{{range .Figures}}<li>{{.Target}}: {{.Name}}: {{num .Then}} → {{num .Now}} {{.Unit}}</li>{{end}}</ul>{{end}}
{{end}}{{else}}<p>No earlier run to compare with (the history in out/history is empty; BASELINE=path/to/report.json names one).</p>{{end}}

<h2 id="failures">Failures ({{len .Failures}})</h2>
{{if not .Failures}}<p>None.</p>{{end}}
{{range .Failures}}{{template "failure" .}}{{end}}

<h2>Every spec on every target</h2>
<div class="filters"><label><input type="checkbox" id="failed-only"> failed only</label>
<label> label <select id="label"><option value="">all</option>{{range .Labels}}<option>{{.}}</option>{{end}}</select></label>
<span id="shown" class="small"></span></div>
{{range .Groups}}<details class="group" {{if .Failed}}open{{end}}><summary>{{.Label}} — {{.Total}} spec(s){{if .Failed}}, <span style="color:var(--fail)">{{.Failed}} failing</span>{{end}}</summary>
<div class="scroll"><table class="grid"><tr><th>spec</th>{{range $.Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}{{if .NewContainer}}<tr class="cont"><td colspan="{{len .Cells | inc}}">{{.Container}}</td></tr>{{end}}
<tr class="spec{{if .Failed}} failed{{end}}" data-labels="{{.Labels}}"><td>{{.Text}}</td>{{range .Cells}}<td class="{{.Class}} c" title="{{.Title}}">{{.Mark}}</td>{{end}}</tr>{{end}}
</table></div></details>{{end}}

<h2>Files</h2><ul><li><a href="report.json">report.json</a> — this run, machine-readable</li>
{{range .Targets}}<li>{{.Name}}: <a href="{{.Name}}/index.html">page</a>, <a href="{{.Name}}/junit.xml">junit.xml</a>, <a href="{{.Name}}/report.json">Ginkgo JSON</a>, <a href="{{.Name}}/serial.log">console</a>, <a href="{{.Name}}/dmesg.txt">dmesg</a></li>{{end}}</ul>
<script>
(function(){
  var failed=document.getElementById('failed-only'), label=document.getElementById('label'), shown=document.getElementById('shown');
  function apply(){
    var n=0, rows=document.querySelectorAll('tr.spec');
    rows.forEach(function(r){
      var ok=(!failed.checked||r.classList.contains('failed'))&&(!label.value||(' '+r.dataset.labels+' ').indexOf(' '+label.value+' ')>=0);
      r.hidden=!ok; if(ok)n++;
    });
    document.querySelectorAll('details.group').forEach(function(d){
      var any=d.querySelector('tr.spec:not([hidden])'); d.hidden=!any; if((failed.checked||label.value)&&any)d.open=true;
    });
    shown.textContent=n+' of '+rows.length+' spec(s) shown';
  }
  var h=decodeURIComponent(location.hash.slice(1));
  if(h.indexOf('failed')>=0)failed.checked=true;
  var m=/label=([^&]+)/.exec(h); if(m)label.value=m[1];
  failed.addEventListener('change',apply); label.addEventListener('change',apply); apply();
})();
</script>
</body></html>
{{end}}`
