// Package rigtest holds what the rig's host-side tests share.
package rigtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFile writes content to path, creating its folders, or fails the test.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// RequireTools fails the test when a tool it needs is missing and the run
// requires them (KBUS_TEST_REQUIRE_TOOLS, as make test sets it), and skips
// it otherwise. "root" stands for running as root.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if tool == "root" {
			if os.Geteuid() != 0 {
				missing = append(missing, "root")
			}
			continue
		}
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("KBUS_TEST_REQUIRE_TOOLS") != "" {
		t.Fatalf("needs %s (make deps installs the tools; CI runs as root)", strings.Join(missing, ", "))
	}
	t.Skipf("needs %s", strings.Join(missing, ", "))
}
