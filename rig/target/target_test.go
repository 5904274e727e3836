package target

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEveryTargetIsComplete(t *testing.T) {
	for _, name := range Names() {
		tg, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		k, q := tg.Kernel, tg.QEMU
		if k.Arch == "" || k.MakeTarget == "" || k.Image == "" || k.Fragment == "" ||
			tg.Go.GOARCH == "" || q.Binary == "" || q.Console == "" || q.NIC == "" || len(q.Machine) == 0 ||
			tg.Timeout <= 0 {
			t.Errorf("%s is missing a fact: %+v", name, tg)
		}
		if _, err := os.Stat(filepath.Join("..", "..", "kernel", "config", k.Fragment)); err != nil {
			t.Errorf("%s: its fragment: %v", name, err)
		}
	}
	if _, err := Lookup("sparc"); err == nil || !strings.Contains(err.Error(), "x86_64, arm64, arm") {
		t.Errorf("unknown architecture: %v", err)
	}
}

func TestGoEnv(t *testing.T) {
	got := strings.Join(MustLookup(ARM).Go.Env(), " ")
	if got != "CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7" {
		t.Errorf("arm: %s", got)
	}
	if got := strings.Join(MustLookup(X86_64).Go.Env(), " "); !strings.HasSuffix(got, "GOARCH=amd64 GOAMD64=v1") {
		t.Errorf("x86_64: %s", got)
	}
	if c := MustLookup(ARM64).Compat; c == nil || *c != MustLookup(ARM).Go {
		t.Errorf("arm64 compat = %v, want the arm target's Go", c)
	}
}

func TestFlavours(t *testing.T) {
	debug, err := LookupFlavour("debug")
	if err != nil {
		t.Fatal(err)
	}
	arm64 := MustLookup(ARM64)
	if got := strings.Join(arm64.Fragments(debug), " "); got != "common.config arm64.config debug.config" {
		t.Errorf("arm64 debug fragments: %s", got)
	}
	if got := arm64.TimeoutFor(debug); got != 40*time.Minute {
		t.Errorf("arm64 debug budget %v", got)
	}
	if _, err := LookupFlavour("fast"); err == nil {
		t.Error("unknown flavour accepted")
	}
}

// The shell assignments are what kernel/build.sh evaluates.
func TestShellEnvEvaluatesInTheShell(t *testing.T) {
	def, _ := LookupFlavour(DefaultFlavour)
	v612, err := LookupVersion("6.12")
	if err != nil {
		t.Fatal(err)
	}
	env := MustLookup(ARM).ShellEnv(def, v612)
	out, err := exec.Command("bash", "-c", env+`printf '%s|%s|%s|%s|%s' "$KBUS_KARCH" "$KBUS_CROSS_COMPILE" "$KBUS_KIMAGE" "$KBUS_FRAGMENTS" "$KBUS_KERNEL_SOURCE"`).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "arm|arm-linux-gnueabihf-|arch/arm/boot/zImage|common.config arm.config|linux-source-6.12"; string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestVersions(t *testing.T) {
	if v, err := LookupVersion(DefaultVersion); err != nil || v.Source != "linux-source-6.1" {
		t.Errorf("default version %v, %v", v, err)
	}
	if _, err := LookupVersion("5.10"); err == nil || !strings.Contains(err.Error(), "6.1, 6.12") {
		t.Errorf("unknown version: %v", err)
	}
}
