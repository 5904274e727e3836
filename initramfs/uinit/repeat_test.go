package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestTheRunsReportsAreJoinedInOrder(t *testing.T) {
	dir := t.TempDir()
	var from []string
	for i, body := range []string{`[{"SuiteDescription":"one"}]`, `[{"SuiteDescription":"two"}]`} {
		f := filepath.Join(dir, "core.json."+string(rune('1'+i)))
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		from = append(from, f)
	}
	from = append(from, filepath.Join(dir, "core.json.3")) // killed at the deadline: no report
	to := filepath.Join(dir, "core.json")
	if err := joinReports(to, from); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	var got []struct{ SuiteDescription string }
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SuiteDescription != "one" || got[1].SuiteDescription != "two" {
		t.Errorf("joined %s", b)
	}
	if _, err := os.Stat(from[0]); !os.IsNotExist(err) {
		t.Errorf("a run's own report is left: %v", err)
	}
}
