package raw

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// On a big-endian target the package would write wrong bytes: it must not
// build there at all.
func TestRefusesToBuildBigEndian(t *testing.T) {
	for _, arch := range []string{"s390x", "ppc64", "mips"} {
		cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), "GOARCH="+arch, "GOOS=linux", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "kbusRawSupportsOnlyLittleEndianTargets") {
			t.Errorf("GOARCH=%s: built (%v):\n%s", arch, err, out)
		}
	}
}
