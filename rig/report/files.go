package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kbus-project/kbus/rig/guestproto"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// Names of the files a run's report folder holds. The guest's own files
// keep the names they have on the results share.
const (
	JUnitFile      = "junit.xml"
	JSONFile       = "ginkgo.json" // Ginkgo's reports, one per suite (the run's own is RunFile)
	HTMLFile       = "index.html"
	SerialFile     = "serial.log" // the guest's console
	DmesgFile      = guestproto.DmesgFile
	SuitesDir      = guestproto.SuitesDir
	KmemleakPrefix = "kmemleak-" // kmemleak-after-rmmod.txt
	mergeScrap     = ".junit-merge"
)

// WriteFiles writes the merged JSON report (a list of Ginkgo reports, one
// per suite) and the merged JUnit report into dir, and copies each suite's
// own reports and console output from the share into dir/suites.
func WriteFiles(dir, share string, reports []types.Report, junitPaths []string) error {
	if reports == nil {
		reports = []types.Report{}
	}
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", JSONFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), b, 0o644); err != nil {
		return err
	}
	if err := copyFiles(filepath.Join(share, SuitesDir), filepath.Join(dir, SuitesDir)); err != nil {
		return err
	}
	return mergeJUnit(dir, junitPaths)
}

// mergeJUnit merges the suites' JUnit files into dir/junit.xml. Ginkgo's
// merge deletes its sources, so it is given copies.
func mergeJUnit(dir string, paths []string) error {
	scratch := filepath.Join(dir, mergeScrap)
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	var copies []string
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading JUnit report: %w", err)
		}
		c := filepath.Join(scratch, fmt.Sprintf("%d.xml", i))
		if err := os.WriteFile(c, b, 0o644); err != nil {
			return err
		}
		copies = append(copies, c)
	}
	dst := filepath.Join(dir, JUnitFile)
	if len(copies) == 0 {
		// No suite reported: an empty but valid document.
		return os.WriteFile(dst, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<testsuites tests="0" disabled="0" errors="0" failures="0" time="0"></testsuites>`+"\n"), 0o644)
	}
	msgs, err := reporters.MergeAndCleanupJUnitReports(copies, dst)
	if err != nil {
		return fmt.Errorf("merging JUnit reports: %w (%v)", err, msgs)
	}
	return nil
}

// copyFiles copies the tree src into dst, which must not hold the same
// files yet (os.CopyFS); a missing src is nothing to copy.
func copyFiles(src, dst string) error {
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return os.CopyFS(dst, os.DirFS(src))
}
