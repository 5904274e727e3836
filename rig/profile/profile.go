// Package profile says where a run's time went: the stages of make test,
// each timed by scripts/timed.sh, and inside each stage the guests it ran
// with their own parts (kernel, module, specs, initramfs, boot to init,
// each suite, power-off, report), each with its share of the whole
// (docs/testing.md, "Where the time goes").
package profile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/figure"
)

// Step is one stage of make test as scripts/timed.sh logged it. Lane
// names the sequence of stages it ran in when make test runs several side
// by side (scripts/stages.sh); empty for the set-up that runs alone.
type Step struct {
	Name       string
	Start, End time.Time
	Exit       int
	Lane       string
}

// ErrBadLog means a line of the log is not what scripts/timed.sh writes.
var ErrBadLog = errors.New("profile: not a line of scripts/timed.sh")

// ReadLog reads the steps logged at path, in the order they ended. A
// missing log is an error that errors.Is(err, fs.ErrNotExist) finds.
func ReadLog(path string) ([]Step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer f.Close()
	return parseLog(f, path)
}

func parseLog(r io.Reader, name string) ([]Step, error) {
	var steps []Step
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 && len(f) != 5 {
			return nil, fmt.Errorf("%w: %s:%d: %q", ErrBadLog, name, n, line)
		}
		start, err1 := unixTime(f[1])
		end, err2 := unixTime(f[2])
		exit, err3 := strconv.Atoi(f[3])
		if err := errors.Join(err1, err2, err3); err != nil || end.Before(start) {
			return nil, fmt.Errorf("%w: %s:%d: %q", ErrBadLog, name, n, line)
		}
		st := Step{Name: f[0], Start: start, End: end, Exit: exit}
		if len(f) == 5 {
			st.Lane = f[4]
		}
		steps = append(steps, st)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("profile: %s: %w", name, err)
	}
	return steps, nil
}

// unixTime reads date +%s.%N.
func unixTime(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(s, ".")
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var nsec int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if nsec, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, err
		}
	}
	return time.Unix(secs, nsec), nil
}

// Guest is one guest's run (a target of the run's page) as the profile
// needs it: the stage that ran it, when it started and what its time was
// spent on.
type Guest struct {
	Name     string
	Stage    string // the make test stage (scripts/timed.sh's KBUS_STAGE); empty: by time
	Start    time.Time
	Duration time.Duration
	Parts    []Part
}

// Part is a piece of a guest's time: a build stage, the boot to init, a
// suite, or what followed the last suite.
type Part struct {
	Name     string
	Duration time.Duration
	// Within: the part ran inside the part before it that is not Within
	// (a suite among suites side by side), so it adds nothing to the whole.
	Within bool `json:",omitempty"`
}

// Stage is one stage of the run with its share of the whole and the
// guests that ran in it.
type Stage struct {
	Name     string
	Lane     string `json:",omitempty"`
	Duration time.Duration
	Share    float64 // of Profile.Total, 0..1; lanes side by side make the shares add up to more than 1
	Exit     int     `json:",omitempty"`
	Guests   []Guest `json:",omitempty"`
}

// Profile is where a run's time went.
type Profile struct {
	Total time.Duration // from the first stage's start to the last one's end
	// Busy is the stages' sum: more than Total when lanes ran side by side.
	Busy   time.Duration `json:",omitempty"`
	Stages []Stage
	// Elsewhere are guests that started in no logged stage, e.g. rig
	// run by hand while make test ran.
	Elsewhere []Guest `json:",omitempty"`
}

// Build places each guest in the stage that ran it: the one it names, or
// else the one during which it started.
func Build(steps []Step, guests []Guest) *Profile {
	p := &Profile{}
	var first, last time.Time
	for i, s := range steps {
		d := s.End.Sub(s.Start)
		p.Busy += d
		p.Stages = append(p.Stages, Stage{Name: s.Name, Lane: s.Lane, Duration: d, Exit: s.Exit})
		if i == 0 || s.Start.Before(first) {
			first = s.Start
		}
		if i == 0 || s.End.After(last) {
			last = s.End
		}
	}
	p.Total = last.Sub(first)
	sort.SliceStable(guests, func(i, j int) bool { return guests[i].Start.Before(guests[j].Start) })
guests:
	for _, g := range guests {
		for i, s := range steps {
			if g.Stage != "" && g.Stage == s.Name {
				p.Stages[i].Guests = append(p.Stages[i].Guests, g)
				continue guests
			}
		}
		for i, s := range steps {
			if g.Stage == "" && !g.Start.Before(s.Start) && g.Start.Before(s.End) {
				p.Stages[i].Guests = append(p.Stages[i].Guests, g)
				continue guests
			}
		}
		p.Elsewhere = append(p.Elsewhere, g)
	}
	for i := range p.Stages {
		if p.Total > 0 {
			p.Stages[i].Share = float64(p.Stages[i].Duration) / float64(p.Total)
		}
	}
	return p
}

// Print writes the profile as a table: a line per stage, and under it a
// line per guest with its parts.
func (p *Profile) Print(w io.Writer) {
	fmt.Fprintf(w, "profile: %v in %d stage(s)", round(p.Total), len(p.Stages))
	if p.Busy > p.Total+time.Second {
		fmt.Fprintf(w, ", %v of stages side by side", round(p.Busy))
	}
	fmt.Fprintln(w)
	width := len("stage")
	for _, s := range p.Stages {
		width = max(width, len(s.Name)+len(exitNote(s)))
	}
	fmt.Fprintf(w, "  %-*s %9s %6s  %s\n", width, "stage", "time", "share", "lane")
	for _, s := range p.Stages {
		fmt.Fprintf(w, "  %-*s %9v %5.1f%%  %s\n", width, s.Name+exitNote(s), round(s.Duration), 100*s.Share, s.Lane)
	}
	for _, s := range p.Stages {
		for _, g := range s.Guests {
			fmt.Fprintf(w, "  %s › %s %v: %s\n", s.Name, g.Name, round(g.Duration), parts(g.Parts))
		}
	}
	for _, g := range p.Elsewhere {
		fmt.Fprintf(w, "  (outside make test) %s %v: %s\n", g.Name, round(g.Duration), parts(g.Parts))
	}
}

func exitNote(s Stage) string {
	if s.Exit == 0 {
		return ""
	}
	return fmt.Sprintf(" (exit %d)", s.Exit)
}

// PartsText is the guest's parts as the profile prints them: a part's
// Within parts in parentheses after it.
func (g Guest) PartsText() string { return parts(g.Parts) }

func parts(ps []Part) string {
	var b []string
	for i := 0; i < len(ps); i++ {
		s := fmt.Sprintf("%s %v", ps[i].Name, round(ps[i].Duration))
		var in []string
		for ; i+1 < len(ps) && ps[i+1].Within; i++ {
			in = append(in, fmt.Sprintf("%s %v", ps[i+1].Name, round(ps[i+1].Duration)))
		}
		if len(in) > 0 {
			s += " (" + strings.Join(in, ", ") + ")"
		}
		b = append(b, s)
	}
	return strings.Join(b, ", ")
}

func round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// Figure is the stages' seconds as bars, for the run's page.
func (p *Profile) Figure() figure.Figure {
	var bars []figure.Bar
	for _, s := range p.Stages {
		v := s.Duration.Seconds()
		bars = append(bars, figure.Bar{Label: s.Name, Median: v, Min: v, Max: v})
	}
	return figure.NewBars(fmt.Sprintf("Where the run's %v went, by stage", round(p.Total)), "s", bars)
}

// Change is a stage whose time moved beyond the noise band.
type Change struct {
	Stage     string
	Then, Now time.Duration
}

// Noise band: a stage's time must move by both to count.
const (
	noiseAbs = 30 * time.Second
	noiseRel = 0.20
)

// Compare lists the stages both profiles have whose time moved by at
// least 30 s and a fifth, the total first when it did.
func Compare(then, now *Profile) []Change {
	if then == nil || now == nil {
		return nil
	}
	var out []Change
	moved := func(a, b time.Duration) bool {
		d := (b - a).Abs()
		return d >= noiseAbs && float64(d) >= noiseRel*float64(a)
	}
	if moved(then.Total, now.Total) {
		out = append(out, Change{Stage: "the whole run", Then: then.Total, Now: now.Total})
	}
	old := map[string]time.Duration{}
	for _, s := range then.Stages {
		old[s.Name] += s.Duration
	}
	for _, s := range now.Stages {
		if a, ok := old[s.Name]; ok && moved(a, s.Duration) {
			out = append(out, Change{Stage: s.Name, Then: a, Now: s.Duration})
		}
	}
	return out
}

// Ratio is now/then as a factor, for a change's text.
func (c Change) Ratio() float64 {
	if c.Then <= 0 {
		return math.Inf(1)
	}
	return float64(c.Now) / float64(c.Then)
}
