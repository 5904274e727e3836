package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kbus-project/kbus/kbus"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestErrnoExplainsEPIPE(t *testing.T) {
	for _, arg := range []string{"32", "0x20", "EPIPE", "epipe"} {
		code, out, _ := runCLI("errno", arg)
		if code != 0 || !strings.HasPrefix(out, "Error 32 (0x20) is EPIPE: Broken pipe\n") ||
			!strings.Contains(out, "stateful request") {
			t.Errorf("errno %s: exit %d\n%s", arg, code, out)
		}
	}
}

func TestErrnoOfAnErrorKBUSDoesNotUse(t *testing.T) {
	code, out, _ := runCLI("errno", "ESRCH")
	if code != 0 || !strings.Contains(out, "KBUS does not use this error") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI("errno", "EWHATEVER"); code != 2 || !strings.Contains(errOut, "neither") {
		t.Errorf("unknown name: exit %d, %s", code, errOut)
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	code, out, _ := runCLI("--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %s", c.name)
		}
		code, help, errOut := runCLI(c.name, "--help")
		if code != 0 || !strings.HasPrefix(help, "usage: kbus "+c.name) || errOut != "" {
			t.Errorf("%s --help: exit %d\n%s\nstderr: %s", c.name, code, help, errOut)
		}
		// --device only where a device is opened, or (bindings) chosen.
		usesDevice := map[string]bool{"send": true, "request": true, "listen": true, "reply": true, "newdevice": true,
			"bindings": true}
		if strings.Contains(help, "-device") != usesDevice[c.name] {
			t.Errorf("%s --help: --device listed %v\n%s", c.name, !usesDevice[c.name], help)
		}
		if code, again, _ := runCLI("help", c.name); code != 0 || again != help {
			t.Errorf("help %s: exit %d\n%s", c.name, code, again)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI("--version")
	if code != 0 || !strings.HasPrefix(out, "kbus ") {
		t.Errorf("exit %d: %q", code, out)
	}
}

func TestNoArgumentsIsUsageOnStderr(t *testing.T) {
	code, out, errOut := runCLI()
	if code != exitUsage || out != "" || !strings.Contains(errOut, "usage: kbus") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestAnErrorIsPrintedOnceWithoutStutter(t *testing.T) {
	code, _, errOut := runCLI("listen", "--bogus", "$.A")
	if code != exitUsage || strings.Count(errOut, "bogus") != 1 {
		t.Errorf("exit %d: %q", code, errOut)
	}
	code, _, errOut = runCLI("send", "--device", "250", "$.Fred", "x")
	if code != exitError || strings.Contains(errOut, "kbus: kbus") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d: %q", code, errOut)
	}
}

func TestReplyWantsExecOrData(t *testing.T) {
	for _, args := range [][]string{{"reply", "$.A"}, {"reply", "$.A", "--exec", "cat", "--data", "x"}} {
		if code, _, errOut := runCLI(args...); code != exitUsage || !strings.Contains(errOut, "--exec CMD or --data DATA") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}

func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{
		nil:                                    exitOK,
		usageError{"x"}:                        exitUsage,
		statusError{}:                          exitStatus,
		timeoutError{"x"}:                      exitTimeout,
		kbus.ErrNoReplier:                      exitError,
		fmt.Errorf("w: %w", timeoutError{"x"}): exitTimeout,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestBadNamesSayWhichRule(t *testing.T) {
	code, _, errOut := runCLI("send", "$.a..b", "x")
	if code != 2 || !strings.Contains(errOut, "two dots in a row") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI("send", "$.Fred.*")
	if code != 2 || !strings.Contains(errOut, "not sent") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestMissingDeviceSaysHowToLoadTheModule(t *testing.T) {
	code, _, errOut := runCLI("send", "--device", "250", "$.Fred", "x")
	if code != 1 || !strings.Contains(errOut, "kbus module loaded") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := runCLI("frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestDeviceComesFromTheEnvironment(t *testing.T) {
	t.Setenv(kbus.DeviceEnv, "250")
	code, _, errOut := runCLI("send", "$.Fred", "x")
	if code != 1 || !strings.Contains(errOut, "/dev/kbus250") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestABadDeviceInTheEnvironmentIsUsage(t *testing.T) {
	t.Setenv(kbus.DeviceEnv, "kbus3")
	code, _, errOut := runCLI("send", "$.Fred", "x")
	if code != 2 || !strings.Contains(errOut, `KBUS_DEVICE="kbus3" is not a device number`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestAFlagBeforeTheCommandIsNamedAsAFlag(t *testing.T) {
	code, out, errOut := runCLI("--bogus")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown flag "--bogus"`) || strings.Contains(errOut, "Commands:") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
}

func TestABadFlagIsOneLineNotTheFlagList(t *testing.T) {
	code, out, errOut := runCLI("send", "--bogus", "$.A", "x")
	if code != 2 || out != "" || strings.Contains(errOut, "all-or-fail") ||
		!strings.Contains(errOut, "flag provided but not defined: -bogus") || !strings.Contains(errOut, "kbus help send") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	// Asked for, the list is printed.
	if code, out, _ := runCLI("send", "--help"); code != 0 || !strings.Contains(out, "all-or-fail") {
		t.Errorf("send --help: exit %d\n%s", code, out)
	}
}

func TestAllOrFailWithAllOrWaitIsBadUsage(t *testing.T) {
	code, _, errOut := runCLI("send", "--device", "250", "--all-or-fail", "--all-or-wait", "$.A", "x")
	if code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestErrnoMeaningEndsInOneMark(t *testing.T) {
	for _, arg := range []string{"ENOENT", "EPIPE", "EBUSY"} {
		_, out, _ := runCLI("errno", arg)
		line, _, _ := strings.Cut(out[strings.Index(out, "To KBUS"):], "\n")
		if strings.HasSuffix(line, "?.") || strings.HasSuffix(line, "..") ||
			!(strings.HasSuffix(line, ".") || strings.HasSuffix(line, "?")) {
			t.Errorf("errno %s: %q", arg, line)
		}
	}
}

func TestBindingsRefusesADeviceThatIsNoNumber(t *testing.T) {
	for _, bad := range []string{"x", "-1", "0x"} {
		if code, _, errOut := runCLI("bindings", "--device", bad); code != 2 || !strings.Contains(errOut, "want a device number") {
			t.Errorf("--device %s: exit %d, %s", bad, code, errOut)
		}
	}
}
