package device

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadLogLeavesALineBeingWrittenForLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	whole := `{"time":"2026-12-01T00:00:00Z","device":"tuner","event":"ready"}` + "\n"
	if err := os.WriteFile(path, []byte(whole+`{"time":"2026-12-01T00:00:01Z","dev`), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, err := ReadLog(path)
	if err != nil || len(evs) != 1 || evs[0].Event != "ready" {
		t.Fatalf("events %+v, %v; want the one complete line", evs, err)
	}
	if err := os.WriteFile(path, []byte(whole+"not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLog(path); err == nil {
		t.Error("a complete line that is not JSON was accepted")
	}
}
