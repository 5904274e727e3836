package report

import (
	"github.com/kbus-project/kbus/docs"
	"github.com/kbus-project/kbus/rig/requirements"
)

// Trace traces docs/kbus.md's requirements to the run's specs
// (rig/requirements): a spec verifies the sections its text cites.
func (r *RunReport) Trace() *requirements.Trace {
	var names []string
	var results []requirements.Result
	for _, t := range r.Targets {
		names = append(names, t.Name)
		for _, s := range t.Specs {
			results = append(results, requirements.Result{
				Target: t.Name,
				Spec:   s.Family + " › " + s.FullText(),
				Text:   s.Container + " " + s.Text,
				Passed: s.State == "passed",
				Failed: s.Failed(),
			})
		}
	}
	return requirements.Build(docs.Spec, docs.Requirements(), names, results)
}
