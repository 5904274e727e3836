package shell

import (
	"os/exec"
	"testing"
)

// What Quote makes, sh reads back as the same one word.
func TestQuoteSurvivesTheShell(t *testing.T) {
	for _, s := range []string{"", "plain", "it's", `a "b" $c \d`, "two\nlines", "'''"} {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("%q: sh printed %q (%v)", s, out, err)
		}
	}
}
