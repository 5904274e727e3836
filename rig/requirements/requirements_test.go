package requirements

import (
	"reflect"
	"testing"

	"github.com/kbus-project/kbus/docs"
)

const doc = `# KBUS
## 9. Delivery
### 9.1 Who receives a message
### 9.2 Order
## 10. The reply guarantee
## 16. Quirks
1. **Fixed.** The first quirk.
2. **Kept.** The second.
`

func TestBuildTracesEachSectionToTheSpecsThatCiteIt(t *testing.T) {
	secs := docs.ParseSections(doc)
	results := []Result{
		{Target: "x86_64", Spec: "order holds", Text: "§9.2 Order holds for two senders", Passed: true},
		{Target: "arm64", Spec: "order holds", Text: "§9.2 Order holds for two senders", Failed: true},
		{Target: "x86_64", Spec: "quirk one", Text: "the quirk of §16.1", Passed: true},
		{Target: "x86_64", Spec: "guarantee", Text: "§10 every request gets a reply"}, // skipped
		{Target: "x86_64", Spec: "nothing cited", Text: "a spec without a citation", Passed: true},
		{Target: "x86_64", Spec: "gone", Text: "\u00a799 cites a section the document lacks", Passed: true},
	}
	tr := Build("KBUS", secs, []string{"x86_64", "arm64"}, results)
	status := map[string]Status{}
	for _, r := range tr.Rows {
		status[r.ID] = r.Status
	}
	want := map[string]Status{"9": Failing, "9.1": NotVerified, "9.2": Failing, "10": NotRun, "16": Verified,
		"16.1": Verified, "16.2": NotVerified}
	if !reflect.DeepEqual(status, want) {
		t.Errorf("statuses %v, want %v", status, want)
	}
	row := tr.Rows[2] // 9.2
	if row.ID != "9.2" || !reflect.DeepEqual(row.Specs, []string{"order holds"}) ||
		!reflect.DeepEqual(row.Cells, []Cell{{Passed: 1}, {Failed: 1}}) {
		t.Errorf("§9.2's row: %+v", row)
	}
	if r := tr.Rows[0]; len(r.Specs) != 0 || !reflect.DeepEqual(r.Through, []string{"9.2"}) {
		t.Errorf("§9 is verified through §9.2 only: %+v", r)
	}
	want2 := Summary{Doc: "KBUS", Total: 7, Verified: 2, Failing: 2, NotRun: 1, NotVerified: 2,
		NotVerifiedIDs: []string{"9.1", "16.2"}}
	if !reflect.DeepEqual(tr.Summary, want2) {
		t.Errorf("summary %+v, want %+v", tr.Summary, want2)
	}
}
