package fuzz

import (
	"os"
	"testing"
)

// The executor's second process is this test binary again.
func TestMain(m *testing.M) {
	ChildMain()
	os.Exit(m.Run())
}
