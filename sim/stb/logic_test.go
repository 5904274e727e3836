package stb

import "testing"

func TestTunerTunesAndRefusesUnknownChannels(t *testing.T) {
	tu := &Tuner{Channels: 10, Level: 50}
	if r, ok := tu.Tune("7"); !ok || r != "locked 7" || tu.Channel != 7 {
		t.Errorf("tune 7: %q %v, channel %d", r, ok, tu.Channel)
	}
	for _, bad := range []string{"0", "11", "x"} {
		if r, ok := tu.Tune(bad); ok || r[:6] != "error:" || tu.Channel != 7 {
			t.Errorf("tune %s: %q %v", bad, r, ok)
		}
	}
}

func TestTunerVolume(t *testing.T) {
	tu := &Tuner{Level: 95}
	if v := tu.ChangeVolume("+"); v != "100" {
		t.Errorf("+ from 95: %s", v)
	}
	if v := tu.ChangeVolume("mute"); v != "muted" {
		t.Errorf("mute: %s", v)
	}
	if v := tu.ChangeVolume("mute"); v != "100" {
		t.Errorf("unmute: %s", v)
	}
	if v := tu.ChangeVolume("-"); v != "90" {
		t.Errorf("-: %s", v)
	}
}

func TestRecorderFillsUp(t *testing.T) {
	r := &Recorder{Capacity: 1, Mode: "stopped"}
	if got := r.Apply(RecorderRecord); got != "recording" {
		t.Errorf("record: %s", got)
	}
	if got := r.Apply(RecorderRecord); got != "error: disk full" {
		t.Errorf("second record: %s", got)
	}
	if got := r.Apply(RecorderPause); got != "paused" {
		t.Errorf("pause: %s", got)
	}
}

func TestDRMSessionsBelongToTheirInstance(t *testing.T) {
	a := &DRM{Entitled: map[int]bool{1: true}}
	b := &DRM{Entitled: map[int]bool{1: true}}
	s := a.Open()
	if got := a.Check(s + " 1"); got != "ok" {
		t.Errorf("entitled: %s", got)
	}
	if got := a.Check(s + " 2"); got != "denied" {
		t.Errorf("not entitled: %s", got)
	}
	if got := b.Check(s + " 1"); got != "error: unknown session" {
		t.Errorf("another instance: %s", got)
	}
}

func TestUIKeys(t *testing.T) {
	u := &UI{Channel: 3}
	cases := map[string][2]string{"CH+": {Tune, "4"}, "CH-": {Tune, "2"}, "5": {Tune, "5"}, "VOL+": {Volume, "+"},
		"MUTE": {Volume, "mute"}, "REC": {RecorderRecord, ""}, "HELP": {"", ""}}
	for key, want := range cases {
		if n, d := u.Command(key); n != want[0] || d != want[1] {
			t.Errorf("%s: %s %q", key, n, d)
		}
	}
}
