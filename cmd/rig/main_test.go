package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/rig/target"
)

func runRig(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"target"}, {"target", "env"}, {"target", "env", "x86_64", "debug", "6.12", "more"}} {
		if code, _, errOut := runRig(args...); code != usageExit || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d, %q", args, code, errOut)
		}
	}
	if code, _, errOut := runRig("frobnicate"); code != usageExit || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("frobnicate: exit %d, %q", code, errOut)
	}
	// A bad flag says what was wrong and the verb's usage line, not every flag.
	code, _, errOut := runRig("test", "-bogus")
	if code != usageExit || !strings.Contains(errOut, "-bogus") || strings.Count(errOut, "\n") > 2 {
		t.Errorf("test -bogus: exit %d, %q", code, errOut)
	}
}

func TestTargetEnvPrintsWhatTheKernelBuildNeeds(t *testing.T) {
	code, out, _ := runRig("target", "env", target.ARM64, "debug")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"KBUS_KARCH='arm64'\n", "KBUS_CROSS_COMPILE='aarch64-linux-gnu-'\n",
		"KBUS_FRAGMENTS='common.config arm64.config debug.config'\n", "KBUS_KIMAGE='arch/arm64/boot/Image'\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from\n%s", want, out)
		}
	}
	if code, _, errOut := runRig("target", "env", "sparc"); code != usageExit || !strings.Contains(errOut, "unknown architecture") {
		t.Errorf("sparc: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runRig("target", "env", "arm", "fast"); code != usageExit || !strings.Contains(errOut, "unknown kernel flavour") {
		t.Errorf("fast: exit %d, %q", code, errOut)
	}
}

func TestTargetListNamesEveryTarget(t *testing.T) {
	code, out, _ := runRig("target", "list")
	rows := 0 // a row per target and board; notes are indented under theirs
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, " ") {
			rows++
		}
	}
	if code != 0 || rows != len(target.Names())+len(target.BoardNames()) ||
		!strings.Contains(out, "qemu-system-arm ") || !strings.Contains(out, "board orangepi ") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// Bad flags end before anything is built.
func TestBadGuestFlagsAreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"test", "-arch", "sparc"}, "unknown architecture"},
		{[]string{"image"}, "-board is required"},
		{[]string{"image", "-board", "beaglebone"}, "unknown board"},
		{[]string{"test", "-board", "orangepi", "-arch", "arm64"}, "the board names its kernel"},
		{[]string{"test", "-image", "x.img"}, "-image goes with -board B"},
		{[]string{"test", "-board", "all", "-image", "x.img"}, "-image goes with -board B"},
		{[]string{"image", "-board", "orangepi", "-arch", "arm64"}, "flag provided but not defined: -arch"},
		{[]string{"image", "-board", "orangepi", "-image", "x.img"}, "flag provided but not defined: -image"},
		{[]string{"lava-jobs", "-board", "qemu-arm64", "-timeout", "1m"}, "flag provided but not defined: -timeout"},
		{[]string{"report", "-arch", "arm64"}, "flag provided but not defined: -arch"},
		{[]string{"test", "-distro", "/x"}, "-distro and -distro-module go together"},
		{[]string{"test", "-arch", "arm64", "-distro", "/x", "-distro-module", "/y"}, "-distro boots one x86_64 guest"},
		{[]string{"test", "-focus", "("}, "-focus: error parsing regexp"},
		{[]string{"test", "-labels", `"stb"`}, "cannot hold a double quote"},
		{[]string{"test", "-arch", "all", "-name", "x"}, "-name names one target's report folder"},
		{[]string{"board-test", "-board", "orangepi"}, "-console DEVICE are required"},
		{[]string{"lava-test"}, "-board is required"},
		{[]string{"flash", "only-an-image.img"}, "usage: rig flash"},
		{[]string{"test", "-kernel", "fast"}, "unknown kernel flavour"},
		{[]string{"bench", "-topology", "pair"}, "flag provided but not defined: -topology"},
		{[]string{"test", "-topology", "ring"}, "unknown topology"},
		{[]string{"test", "-topology", "pair", "-arch", "arm"}, "-arch cannot be given"},
		{[]string{"test", "-topology", "pair", "-labels", "stb", "-suite", "specs/core"}, "-labels, -suite cannot"},
		{[]string{"shell", "-arch", "all"}, "one architecture at a time"},
		{[]string{"test", "stray"}, "unexpected argument"},
		{[]string{"test", "-nonsense"}, "flag provided but not defined"},
		{[]string{"test", "-repeat", "0"}, "-repeat 0 is outside 1..100"},
		{[]string{"accept"}, `-by "Name <mail>" and -key FILE are required`},
		{[]string{"accept", "-by", "A <a@b>", "-key", "k", "-waive", "§1"}, "want ID=reason"},
		{[]string{"accept", "-verify"}, "-verify needs -allowed-signers"},
		{[]string{"accept", "-verify", "-allowed-signers", "f", "-waive", "x=y"}, "-waive goes with signing"},
		{[]string{"accept", "-by", "A <a@b>", "-key", "k", "-allowed-signers", "f"}, "-allowed-signers goes with -verify"},
	} {
		code, _, errOut := runRig(c.args...)
		if code != usageExit || !strings.Contains(errOut, c.says) {
			t.Errorf("%q: exit %d, %q; want %d saying %q", c.args, code, errOut, usageExit, c.says)
		}
	}
}

func TestOptionsBecomeThePipelinesConfig(t *testing.T) {
	var errOut bytes.Buffer
	c := lookup(commands(), "bench")
	inv, err := parse(c, []string{"-arch", "all", "-kernel", "debug", "-module-param", "kbus_num_devices=3",
		"-suite", "specs/core", "-icount"}, &errOut, &errOut)
	if err != nil {
		t.Fatal(errOut.String())
	}
	cfg, err := inv.opts.guestConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.opts.targets) != len(target.Names()) || cfg.Flavour.Name != "debug" || cfg.Mode != "bench" || !cfg.Icount ||
		strings.Join(cfg.ModuleParams, " ") != "kbus_num_devices=3" || strings.Join(cfg.Suites, " ") != "specs/core" {
		t.Errorf("%+v", cfg)
	}
}

func TestVersion(t *testing.T) {
	if code, out, _ := runRig("--version"); code != 0 || !strings.HasPrefix(out, "rig ") || !strings.Contains(out, "+") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// kernel/build.sh passes FLAVOUR and KVER together: both count.
func TestTargetEnvTakesFlavourAndVersionTogether(t *testing.T) {
	code, out, errOut := runRig("target", "env", target.X86_64, "debug", "6.12")
	if code != 0 || !strings.Contains(out, "debug.config") || !strings.Contains(out, "linux-source-6.12") {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
}
