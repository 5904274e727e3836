package guestproto

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStatusRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := &Status{Phase: "done", Suites: []SuiteResult{{Name: "device", ExitCode: 0, Duration: time.Second}}, ModuleUnloaded: true}
	if err := WriteStatus(dir, in); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, StatusFile+".tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
	out, err := ReadStatus(dir)
	if err != nil {
		t.Fatal(err)
	}
	if out.Phase != "done" || len(out.Suites) != 1 || out.Suites[0].Duration != time.Second || !out.ModuleUnloaded {
		t.Errorf("read back %+v", out)
	}
}

func TestMissingStatusIsErrNoStatus(t *testing.T) {
	if _, err := ReadStatus(t.TempDir()); !errors.Is(err, ErrNoStatus) {
		t.Errorf("got %v, want ErrNoStatus", err)
	}
}

func TestCorruptStatusIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StatusFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatus(dir); err == nil || errors.Is(err, ErrNoStatus) {
		t.Errorf("got %v, want a decoding error", err)
	}
}
