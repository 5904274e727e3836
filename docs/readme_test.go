package docs_test

import (
	"os"
	"strings"
	"testing"
)

// README's first program is kbus's Example_firstProgram, which the guest
// runs against the module: the two must not drift apart.
func TestREADMEsFirstProgramIsTheExampleTheGuestRuns(t *testing.T) {
	block := section(t, "../README.md", "## A first program", "```go\n", "```")
	body := section(t, "../kbus/example_test.go", "func Example_firstProgram() {\n", "", "\t// Output:")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	want := strings.Join(lines, "\n")
	// README says what the program prints where the example's Output does.
	got := strings.Replace(strings.TrimSpace(block), "fmt.Println(string(reply.Data)) // tuned to BBC One",
		"fmt.Println(string(reply.Data))", 1)
	if got != want {
		t.Errorf("README's first program differs from Example_firstProgram:\n--- README\n%s\n--- example\n%s", got, want)
	}
}

// README's unit test of the first program is kbustest's
// TestTheTunerOfTheREADME, which go test runs.
func TestREADMEsUnitTestIsTheTestGoTestRuns(t *testing.T) {
	block := section(t, "../README.md", "## A first program", "func TestTuner(t *testing.T) {\n", "}\n```")
	body := section(t, "../kbus/kbustest/readme_test.go", "func TestTheTunerOfTheREADME(t *testing.T) {\n", "\n}\n")
	if strings.TrimSpace(block) != strings.TrimSpace(body) {
		t.Errorf("README's unit test differs from TestTheTunerOfTheREADME:\n--- README\n%s\n--- test\n%s", block, body)
	}
}

// section is between for the file at path, failing t if it cannot be read
// or a mark is missing.
func section(t *testing.T, path string, marks ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := between(string(b), marks...)
	if !ok {
		t.Fatalf("%s has no text between %q", path, marks)
	}
	return s
}

// between is the text of s after the marks from (in order) and before
// to, and whether every mark was there.
func between(s string, from ...string) (string, bool) {
	to := from[len(from)-1]
	for _, m := range from[:len(from)-1] {
		var ok bool
		if _, s, ok = strings.Cut(s, m); !ok {
			return "", false
		}
	}
	s, _, ok := strings.Cut(s, to)
	return s, ok
}
