package stb

import (
	"fmt"
	"strconv"
	"strings"
)

// Tuner is the tuner's state.
type Tuner struct {
	Channel  int
	Level    int // 0…100
	Muted    bool
	Channels int // channels 1…Channels exist
}

// Tune moves to channel ch; it returns the reply and whether it locked.
func (t *Tuner) Tune(data string) (reply string, locked bool) {
	ch, err := strconv.Atoi(strings.TrimSpace(data))
	if err != nil || ch < 1 || ch > t.Channels {
		return fmt.Sprintf("error: no channel %q", data), false
	}
	t.Channel = ch
	return fmt.Sprintf("locked %d", ch), true
}

// ChangeVolume applies "+", "-" or "mute" and returns the new level.
func (t *Tuner) ChangeVolume(cmd string) string {
	switch strings.TrimSpace(cmd) {
	case "+":
		t.Muted = false
		t.Level = min(t.Level+10, 100)
	case "-":
		t.Muted = false
		t.Level = max(t.Level-10, 0)
	case "mute":
		t.Muted = !t.Muted
	default:
		return fmt.Sprintf("error: unknown volume command %q", cmd)
	}
	return t.VolumeString()
}

// VolumeString is the level as announced: "N" or "muted".
func (t *Tuner) VolumeString() string {
	if t.Muted {
		return "muted"
	}
	return strconv.Itoa(t.Level)
}

// Recorder is the recorder's state.
type Recorder struct {
	Mode     string // stopped, playing, paused, rewinding, recording
	Capacity int    // recordings the disk holds
	Used     int
}

// Apply executes a recorder request (its name) and returns the reply.
func (r *Recorder) Apply(name string) string {
	switch name {
	case RecorderPlay:
		r.Mode = "playing"
	case RecorderPause:
		r.Mode = "paused"
	case RecorderRewind:
		r.Mode = "rewinding"
	case RecorderRecord:
		if r.Used >= r.Capacity {
			return "error: disk full"
		}
		r.Used++
		r.Mode = "recording"
	default:
		return fmt.Sprintf("error: unknown request %s", name)
	}
	return r.Mode
}

// DRM is one DRM instance: its sessions and what may be played.
type DRM struct {
	Entitled map[int]bool
	sessions int
	open     map[string]bool
}

// Open starts a session and returns the reply "session N".
func (d *DRM) Open() string {
	if d.open == nil {
		d.open = map[string]bool{}
	}
	d.sessions++
	s := fmt.Sprintf("session %d", d.sessions)
	d.open[s] = true
	return s
}

// Check answers "SESSION CHANNEL": "ok", "denied" or an error for a
// session this instance does not know.
func (d *DRM) Check(data string) string {
	f := strings.Fields(data)
	if len(f) != 3 || f[0] != "session" {
		return fmt.Sprintf("error: malformed check %q", data)
	}
	if !d.open[f[0]+" "+f[1]] {
		return "error: unknown session"
	}
	ch, err := strconv.Atoi(f[2])
	if err != nil {
		return fmt.Sprintf("error: bad channel %q", f[2])
	}
	if d.Entitled[ch] {
		return "ok"
	}
	return "denied"
}

// UI is what the on-screen display knows and shows.
type UI struct {
	Channel int
	Volume  string
	Message string
}

// Command maps a key press to the request the UI makes: its name and data,
// or "" for keys the UI ignores.
func (u *UI) Command(key string) (name, data string) {
	switch key {
	case "CH+":
		return Tune, strconv.Itoa(u.Channel + 1)
	case "CH-":
		return Tune, strconv.Itoa(max(u.Channel-1, 1))
	case "VOL+":
		return Volume, "+"
	case "VOL-":
		return Volume, "-"
	case "MUTE":
		return Volume, "mute"
	case "PLAY":
		return RecorderPlay, ""
	case "PAUSE":
		return RecorderPause, ""
	case "REW":
		return RecorderRewind, ""
	case "REC":
		return RecorderRecord, ""
	}
	if n, err := strconv.Atoi(key); err == nil && n >= 0 && n <= 9 {
		return Tune, key
	}
	return "", ""
}

// Screen is what the UI shows now.
func (u *UI) Screen() string {
	s := fmt.Sprintf("channel %d, volume %s", u.Channel, u.Volume)
	if u.Message != "" {
		s += ", " + u.Message
	}
	return s
}
