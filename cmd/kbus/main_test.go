package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
	code, out, _ := runCLI("errno", "ENOSPC")
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
		code, _, errOut := runCLI(c.name, "--help")
		if code != 0 || !strings.Contains(errOut, "usage: kbus "+c.name) || !strings.Contains(errOut, "-device") {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, errOut)
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
