// Package docs_test checks that the project's documentation stands alone:
// every section a file cites (§9.2) exists in docs/kbus.md, and nothing
// cites a document from outside the repository.
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/docs"
)

var (
	outside = regexp.MustCompile(`kbus-reference|shared/|\bthe reference\b|reference §|reference's`)
)

// sections returns the sections docs/kbus.md has: its numbered headings,
// and the numbered items of the sections that are lists (16.4).
func sections(t *testing.T) map[string]bool {
	b, err := os.ReadFile("kbus.md")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, s := range docs.ParseSections(string(b)) {
		have[s.ID] = true
	}
	return have
}

func TestEveryCitedSectionExists(t *testing.T) {
	have := sections(t)
	if len(have) < 60 {
		t.Fatalf("docs/kbus.md has only %d sections", len(have))
	}
	root := ".."
	cited := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "out" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".c", ".h":
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if outside.MatchString(line) && !strings.HasSuffix(path, "citations_test.go") {
				t.Errorf("%s:%d cites a document outside the repository: %s", path, i+1, strings.TrimSpace(line))
			}
			for _, id := range docs.Cited(line) {
				cited++
				if !have[id] {
					t.Errorf("%s:%d cites §%s, which docs/kbus.md does not have", path, i+1, id)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 50 {
		t.Errorf("only %d citations found: is the walk looking in the right place?", cited)
	}
}
