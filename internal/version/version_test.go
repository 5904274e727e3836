package version

import (
	"strings"
	"testing"
)

func TestStringIsTheSetVersionOrDerived(t *testing.T) {
	Version = "1.2.3+4.gabcdef012345"
	if got := String(); got != Version {
		t.Errorf("String() = %q", got)
	}
	Version = ""
	if got := String(); !strings.HasPrefix(got, "0.0.0+") {
		t.Errorf("derived %q", got)
	}
	if f := LinkFlag("1.0.0"); f != "-ldflags=-X github.com/kbus-project/kbus/internal/version.Version=1.0.0" {
		t.Errorf("%q", f)
	}
}
