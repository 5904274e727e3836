package report

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/kbus-project/kbus/rig/profile"
)

// ProfileGuest is a target's time as the run's profile shows it: its
// build stages, then instead of the whole boot the guest's boot to init,
// each suite, and what followed the last suite (power-off and
// collecting the results).
func ProfileGuest(t *TargetReport) profile.Guest {
	g := profile.Guest{Name: t.Name, Stage: t.Stage, Start: t.Start, Duration: t.Total}
	for _, st := range t.Stages {
		if st.Name != BootStage || len(t.Suites) == 0 {
			g.Parts = append(g.Parts, profile.Part{Name: st.Name, Duration: st.Duration})
			continue
		}
		rest := st.Duration
		if t.BootToInit > 0 {
			g.Parts = append(g.Parts, profile.Part{Name: "boot to init", Duration: t.BootToInit})
			rest -= t.BootToInit
		}
		if t.Streams > 1 && t.SuitesWall > 0 {
			// Side by side: the suites' wall time counts, each suite
			// is shown within it.
			g.Parts = append(g.Parts, profile.Part{
				Name: fmt.Sprintf("suites, %d side by side", t.Streams), Duration: t.SuitesWall})
			rest -= t.SuitesWall
		}
		for _, s := range t.Suites {
			within := t.Streams > 1 && t.SuitesWall > 0
			g.Parts = append(g.Parts, profile.Part{Name: s.Name, Duration: s.Duration, Within: within})
			if !within {
				rest -= s.Duration
			}
		}
		g.Parts = append(g.Parts, profile.Part{Name: "power-off and collect", Duration: max(rest, 0)})
	}
	return g
}

// BootStage is the pipeline's stage from QEMU's start to its end.
const BootStage = "boot"

// AddProfile builds the run's profile from the steps make test logged
// (scripts/timed.sh) and the run's targets. A missing log (a rig run
// outside make test) leaves the run without a profile.
func (r *RunReport) AddProfile(log string) error {
	steps, err := profile.ReadLog(log)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var guests []profile.Guest
	for _, t := range r.Targets {
		if !t.Start.IsZero() {
			guests = append(guests, ProfileGuest(t))
		}
	}
	r.Profile = profile.Build(steps, guests)
	return nil
}

// stageChanges are the profile's stages that moved since base.
func stageChanges(now, base *RunReport) []StageChange {
	var out []StageChange
	for _, c := range profile.Compare(base.Profile, now.Profile) {
		out = append(out, StageChange{Stage: c.Stage, Then: c.Then.Round(time.Second), Now: c.Now.Round(time.Second)})
	}
	return out
}

// StageChange is a stage of the profile whose time moved.
type StageChange struct {
	Stage     string
	Then, Now time.Duration
}
