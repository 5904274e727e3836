package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// script writes an executable shell script into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// printing is a script body that prints each name as a figure.
func printing(names []string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "printf 'figure\\t%s\\tu\\t1 2 3\\n'\n", n)
	}
	return b.String()
}

func TestRunPeersStartsTheBusAndReadsBothPeers(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	p := Peers{
		DBusDaemon: script(t, dir, "dbus-daemon", "echo unix:path=/nowhere\nexec sleep 60\n"),
		DBusConfig: filepath.Join(dir, "dbus-bench.conf"),
		DBusBench:  script(t, dir, "dbus-bench", "echo \"$@\" > "+args+"\n"+printing(peerFigures(dbusAnnounce, dbusRoundTrips, dbusFan))),
		ZMQBench:   script(t, dir, "zmq-bench", printing(peerFigures(zmqAnnounce, zmqRoundTrips, zmqFan))),
	}
	figs, err := RunPeers(context.Background(), p, 3, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != len(allPeerFigures()) || figs[0].Name != dbusAnnounce || figs[0].Median() != 2 {
		t.Errorf("figures %v", figs)
	}
	if b, _ := os.ReadFile(args); strings.TrimSpace(string(b)) != "-a unix:path=/nowhere -r 3 -n 500" {
		t.Errorf("dbus-bench ran with %q", b)
	}
}

func TestRunPeersSaysWhatWentWrong(t *testing.T) {
	dir := t.TempDir()
	good := printing(peerFigures(zmqAnnounce, zmqRoundTrips, zmqFan))
	for _, c := range []struct {
		what, daemon, dbus string
		want               string
	}{
		{"a daemon that prints no address", "echo no bus >&2\n", good, "no address"},
		{"a peer that fails", "echo unix:path=/x\nexec sleep 60\n", "echo cannot connect >&2\nexit 1\n", "cannot connect"},
		{"a peer with a figure too few", "echo unix:path=/x\nexec sleep 60\n",
			printing(peerFigures(dbusAnnounce, dbusRoundTrips, dbusFan)[1:]), "unexpected figures"},
	} {
		p := Peers{DBusDaemon: script(t, dir, "daemon", c.daemon), DBusBench: script(t, dir, "dbus", c.dbus),
			ZMQBench: script(t, dir, "zmq", good)}
		_, err := RunPeers(context.Background(), p, 1, 100)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.what, err, c.want)
		}
		if c.want == "unexpected figures" && !errors.Is(err, errFigures) {
			t.Errorf("%s: %v is not errFigures", c.what, err)
		}
	}
}
