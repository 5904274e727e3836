package stb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/sim/device"
)

// serve makes the device the replier for names: each request it is to
// answer goes through the fault switches and the latency, then to answer.
func serve(ctx context.Context, d *device.Device, names []string, answer func(*kbus.Message)) error {
	return d.Serve(ctx, names, nil, func(m *kbus.Message) {
		if !m.WantsUsToReply() || !d.Handle(m) {
			return
		}
		d.Sleep(ctx) // tuning latency, disk seek, licence lookup…
		answer(m)
	})
}

// RunTuner runs the tuner: replier for Tune and Volume.
func RunTuner(ctx context.Context, d *device.Device, channels, level int) error {
	t := &Tuner{Channels: channels, Level: level, Channel: 1}
	return serve(ctx, d, []string{Tune, Volume}, func(m *kbus.Message) {
		switch m.Name {
		case Tune:
			reply, locked := t.Tune(string(m.Data))
			d.Reply(m, []byte(reply))
			if locked {
				d.Announce(Locked, []byte(strconv.Itoa(t.Channel)), 0)
			}
		case Volume:
			v := t.ChangeVolume(string(m.Data))
			d.Reply(m, []byte(v))
			if !strings.HasPrefix(v, "error") {
				d.Announce(VolumeChanged, []byte(v), 0)
			}
		}
	})
}

// RunRecorder runs the recorder: replier for every $.STB.Recorder.% request.
func RunRecorder(ctx context.Context, d *device.Device, capacity int) error {
	r := &Recorder{Capacity: capacity, Mode: "stopped"}
	return serve(ctx, d, []string{RecorderAll}, func(m *kbus.Message) {
		reply := r.Apply(m.Name)
		d.Reply(m, []byte(reply))
		if !strings.HasPrefix(reply, "error") {
			d.Announce(RecorderState, []byte(reply), 0)
		}
	})
}

// RunDRM runs a DRM instance entitled to the given channels.
func RunDRM(ctx context.Context, d *device.Device, entitled []int) error {
	drm := &DRM{Entitled: map[int]bool{}}
	for _, c := range entitled {
		drm.Entitled[c] = true
	}
	return serve(ctx, d, []string{DRMAll}, func(m *kbus.Message) {
		switch m.Name {
		case DRMOpen:
			d.Reply(m, []byte(drm.Open()))
		case DRMCheck:
			d.Reply(m, []byte(drm.Check(string(m.Data))))
		default:
			d.Reply(m, []byte("error: unknown request"))
		}
	})
}

// RunRemote announces each key, interval apart, then returns.
func RunRemote(ctx context.Context, d *device.Device, keys []string, interval time.Duration) error {
	if err := d.Ready(); err != nil {
		return err
	}
	for i, k := range keys {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(interval):
			}
		}
		if err := d.Announce(KeyPress, []byte(k), 0); err != nil {
			return err
		}
	}
	return nil
}

// ui is the running on-screen display.
type ui struct {
	d       *device.Device
	state   UI
	pending map[kbus.MessageID]string // request id → what it was for
	drm     *kbus.Message             // the DRM reply that opened our session
	session string
	play    bool // a PLAY waits for the DRM check
}

// RunUI runs the on-screen display: it turns key presses into requests,
// follows announcements, and announces what it shows after every change.
func RunUI(ctx context.Context, d *device.Device) error {
	u := &ui{d: d, state: UI{Channel: 1, Volume: "?"}, pending: map[kbus.MessageID]string{}}
	return d.Serve(ctx, nil, []string{KeyPress, Locked, VolumeChanged, RecorderState}, u.handle)
}

func (u *ui) show() {
	u.d.Announce(Show, []byte(u.state.Screen()), 0)
}

// request sends a request and remembers what it was for.
func (u *ui) request(name, data string) error {
	return u.send(kbus.NewRequest(name, []byte(data)))
}

// send sends a prepared request and remembers what it was for.
func (u *ui) send(m *kbus.Message) error {
	name, data := m.Name, string(m.Data)
	id, err := u.d.Ks.Send(m)
	if err != nil {
		u.d.Record("request-failed", "name", name, "error", errName(err))
		return err
	}
	u.d.Record("requested", "name", name, "id", id.String(), "data", data)
	u.pending[id] = name
	return nil
}

func errName(err error) string {
	var e kbus.Errno
	if errors.As(err, &e) {
		return e.Name()
	}
	return err.Error()
}

func (u *ui) handle(m *kbus.Message) {
	switch {
	case m.Name == KeyPress:
		u.d.Record("key", "key", string(m.Data))
		u.key(string(m.Data))
	case m.IsReply():
		u.reply(m)
	case m.Name == Locked:
		u.state.Channel, _ = strconv.Atoi(string(m.Data))
		u.state.Message = ""
		u.d.Record("locked", "channel", string(m.Data))
		u.show()
	case m.Name == VolumeChanged:
		u.state.Volume = string(m.Data)
		u.d.Record("volume", "level", string(m.Data))
		u.show()
	case m.Name == RecorderState:
		u.state.Message = "recorder " + string(m.Data)
		u.show()
	}
}

func (u *ui) key(key string) {
	name, data := u.state.Command(key)
	switch {
	case name == "":
		return
	case name == RecorderPlay:
		u.play = true
		u.checkDRM()
	default:
		if err := u.request(name, data); err != nil {
			u.state.Message = "error: " + errName(err)
			u.show()
		}
	}
}

// checkDRM asks the DRM instance holding our session whether the channel
// may play, opening a session first; EPIPE means the instance was
// replaced: the session is gone, so it re-resolves by opening a new one.
func (u *ui) checkDRM() {
	if u.session == "" {
		if err := u.request(DRMOpen, ""); err != nil {
			u.state.Message = "error: " + errName(err)
			u.show()
		}
		return
	}
	// A stateful request: to the Ksock that answered, and on through
	// Limpets to the instance itself (final_to) when it is on another bus.
	check, err := kbus.StatefulRequest(u.drm, DRMCheck, []byte(fmt.Sprintf("%s %d", u.session, u.state.Channel)))
	if err == nil {
		err = u.send(check)
	}
	if errors.Is(err, kbus.ErrWrongReplier) || errors.Is(err, kbus.ErrNoReplier) {
		u.d.Record("drm-reresolve", "error", errName(err))
		u.session, u.drm = "", nil
		u.checkDRM()
	} else if err != nil {
		u.state.Message = "error: " + errName(err)
		u.show()
	}
}

func (u *ui) reply(m *kbus.Message) {
	what, ok := u.pending[m.InReplyTo]
	if !ok {
		return
	}
	delete(u.pending, m.InReplyTo)
	data := string(m.Data)
	if m.Kind() == kbus.KindStatus {
		u.d.Record("status", "for", what, "status", m.Name)
		u.state.Message = "error: " + m.Name
		u.show()
		return
	}
	u.d.Record("replied", "for", what, "data", data)
	switch what {
	case DRMOpen:
		u.session, u.drm = data, m
		if u.play {
			u.checkDRM()
		}
	case DRMCheck:
		if data == "ok" && u.play {
			u.play = false
			u.request(RecorderPlay, "")
			return
		}
		u.play = false
		u.state.Message = "not entitled: " + data
		u.show()
	default:
		if strings.HasPrefix(data, "error") {
			u.state.Message = data
			u.show()
		}
	}
}
