package docs_test

import (
	"os"
	"strings"
	"testing"
)

// README's first program is kbus's Example_firstProgram, which the guest
// runs against the module: the two must not drift apart.
func TestREADMEsFirstProgramIsTheExampleTheGuestRuns(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block, ok := between(string(readme), "## A first program", "```go\n", "```")
	if !ok {
		t.Fatal("README has no Go block under \"## A first program\"")
	}
	example, err := os.ReadFile("../kbus/example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := between(string(example), "func Example_firstProgram() {\n", "", "\t// Output:")
	if !ok {
		t.Fatal("kbus/example_test.go has no Example_firstProgram with an Output comment")
	}
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
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block, ok := between(string(readme), "## A first program", "func TestTuner(t *testing.T) {\n", "}\n```")
	if !ok {
		t.Fatal("README has no TestTuner under \"## A first program\"")
	}
	test, err := os.ReadFile("../kbus/kbustest/readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := between(string(test), "func TestTheTunerOfTheREADME(t *testing.T) {\n", "\n}\n")
	if !ok {
		t.Fatal("kbus/kbustest/readme_test.go has no TestTheTunerOfTheREADME")
	}
	if strings.TrimSpace(block) != strings.TrimSpace(body) {
		t.Errorf("README's unit test differs from TestTheTunerOfTheREADME:\n--- README\n%s\n--- test\n%s", block, body)
	}
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
