package report

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kbus-project/kbus/rig/accept"
	"github.com/kbus-project/kbus/rig/requirements"
)

// modulePath is how Ginkgo's locations start; items drop it.
const modulePath = "github.com/kbus-project/kbus/"

// Subject is the run as a sign-off records it (rig/accept), with every item
// that needs a waiver: each failed spec ("TARGET:FILE:LINE"), each target
// that did not pass for another reason ("target:NAME"), each requirement
// that no spec verified or whose specs did not run ("§N").
func (r *RunReport) Subject() accept.Subject {
	s := accept.Subject{RunID: r.RunID, Git: r.Versions.Git, Dirty: r.Versions.Dirty, Module: r.Versions.Module,
		Kernels: map[string]accept.Kernel{}, Verdict: r.Verdict.String()}
	for name, k := range r.Versions.Kernels {
		s.Kernels[name] = accept.Kernel{Release: k.Release, ConfigKey: k.ConfigKey}
	}
	for _, t := range r.Targets {
		failed := 0
		for _, sp := range t.Specs {
			if !sp.Failed() {
				continue
			}
			failed++
			where := strings.TrimPrefix(sp.Location, modulePath)
			s.Open = append(s.Open, accept.Item{ID: Column(t, sp.Variant) + ":" + where,
				What: sp.Family + " › " + sp.FullText()})
		}
		if t.Verdict != Pass && failed == 0 {
			why := t.Verdict.String()
			if len(t.Reasons) > 0 {
				why += ": " + short(t.Reasons[0])
			}
			s.Open = append(s.Open, accept.Item{ID: "target:" + t.Name, What: why})
		}
	}
	if len(r.Targets) > 0 {
		for _, row := range r.Trace().Rows {
			if row.Status == requirements.NotVerified || row.Status == requirements.NotRun {
				s.Open = append(s.Open, accept.Item{ID: "§" + row.ID, What: string(row.Status) + ": " + row.Title})
			}
		}
	}
	accept.SortItems(s.Open)
	return s
}

// signOff is what the page says of the run's acceptance at its top.
type signOff struct {
	Text  string
	Class string // pass, fail, none
	Notes string
	List  []accept.Waiver
}

// readSignOff reads dir's acceptance, if it is of run r: an acceptance of
// another run, or none, is "Not signed"; one whose report changed since is
// said to be void. The signature itself is checked by rig accept -verify,
// which knows the allowed signers.
func readSignOff(dir string, r *RunReport) signOff {
	rec, err := accept.Read(dir)
	switch {
	case errors.Is(err, accept.ErrUnsigned):
		return signOff{Text: "Not signed", Class: "none"}
	case err != nil:
		return signOff{Text: "Acceptance unreadable: " + err.Error(), Class: "fail"}
	case rec.RunID != r.RunID:
		return signOff{Text: "Not signed", Class: "none"}
	}
	if err := rec.Matches(dir); err != nil {
		return signOff{Text: fmt.Sprintf("Signed by %s, but void: %v", rec.Reviewer, err), Class: "fail"}
	}
	return signOff{Text: rec.Summary() + " (check: rig accept -verify)", Class: "pass", Notes: rec.Notes,
		List: rec.Waivers}
}
