package procfs

import (
	"strings"
	"testing"
)

const bindings = `# <device> is bound to <Ksock-ID> in <process-PID> as <Replier|Listener> for <message-name>
  0:        5     1234  R  $.Sensors.*
  0:        6     1240  L  $.Sensors.Temp
# <device> is bound to <Ksock-ID> in <process-PID> as <Replier|Listener> for <message-name>
  1:        1       99  L  $.*
`

func TestParseBindings(t *testing.T) {
	got, err := ParseBindings(strings.NewReader(bindings))
	if err != nil {
		t.Fatal(err)
	}
	want := []Binding{{0, 5, 1234, true, "$.Sensors.*"}, {0, 6, 1240, false, "$.Sensors.Temp"}, {1, 1, 99, false, "$.*"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := ParseBindings(strings.NewReader("garbage\n")); err == nil {
		t.Error("garbage accepted")
	}
	one, err := ParseBindings(strings.NewReader(bindings), 1)
	if err != nil || len(one) != 1 || one[0] != want[2] {
		t.Errorf("device 1 alone: %+v, %v", one, err)
	}
	// A line of another device is not even parsed.
	if one, err := ParseBindings(strings.NewReader(bindings+"  7: not a binding line\n"), 0); err != nil || len(one) != 2 {
		t.Errorf("device 0 alone: %+v, %v", one, err)
	}
}

const stats = `dev  0: next ksock 19 next msg 10 unsent unbindings 2(gone tragic)
    ksock 18 last msg 0:9 queue 1 of 100
      read byte 10 of 100, wrote byte 2 of DATA (not finished), sending
      outstanding requests 1 (size 16, max 3), unsent replies 2 (max 4)
dev  1: next ksock 0 next msg 0 unsent unbindings 0
`

func TestParseStats(t *testing.T) {
	devs, err := ParseStats(strings.NewReader(stats))
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 || !devs[0].Tragic || devs[0].NextKsock != 19 || devs[0].UnsentUnbindings != 2 || len(devs[1].Ksocks) != 0 {
		t.Fatalf("%+v", devs)
	}
	k := devs[0].Ksocks[0]
	want := Ksock{ID: 18, LastMsg: "0:9", Queued: 1, MaxMessages: 100, ReadByte: 10, ReadLength: 100, WriteByte: 2,
		WritePart: "DATA", WriteFinished: false, Sending: true, Outstanding: 1, OutstandingSize: 16,
		OutstandingMax: 3, UnsentReplies: 2, UnsentRepliesMax: 4}
	if k != want {
		t.Errorf("got %+v\nwant %+v", k, want)
	}
}

func TestParseStatsOfOneDevice(t *testing.T) {
	devs, err := ParseStats(strings.NewReader(stats), 1)
	if err != nil || len(devs) != 1 || devs[0].Index != 1 || len(devs[0].Ksocks) != 0 {
		t.Fatalf("device 1 alone: %+v, %v", devs, err)
	}
	// The Ksock lines of a device not asked for are not parsed.
	other := stats + "dev  2: next ksock 1 next msg 0 unsent unbindings 0\n    not a ksock line\n"
	if devs, err := ParseStats(strings.NewReader(other), 0); err != nil || len(devs) != 1 || len(devs[0].Ksocks) != 1 {
		t.Errorf("device 0 alone: %+v, %v", devs, err)
	}
	for _, bad := range []string{"garbage\n", "    ksock 1 last msg 0:0 queue 0 of 1\n", stats + "    ksock x\n",
		stats + "dev  3: next ksock\n"} {
		if _, err := ParseStats(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
