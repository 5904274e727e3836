// Package device is what every simulated device shares: its KBUS Ksock,
// its configuration (timing and fault switches), a log of what it observed
// that specs read back, and a clean shutdown.
package device

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// Config is what every device takes on its command line.
type Config struct {
	Bus        int           // KBUS device number
	Log        string        // JSON-lines event log ("" for none, "-" for stdout)
	Latency    time.Duration // added before every reply or action
	CrashAfter int           // exit abruptly after this many requests (0: never)
	Stall      bool          // read requests but never answer them
	Refuse     bool          // answer every request with an error
	Ready      string        // file created once the device is bound
	Queue      uint          // the Ksock's queue length (0: KBUS's default)
}

// Flags registers the common flags on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	bus, _ := kbus.DefaultDevice() // simdev refuses a bad $KBUS_DEVICE
	fs.IntVar(&c.Bus, "bus", bus, "KBUS device number: /dev/kbusN (default $"+kbus.DeviceEnv+", else 0)")
	fs.StringVar(&c.Log, "log", "", "write observed events as JSON lines to this file (- for stdout)")
	fs.DurationVar(&c.Latency, "latency", 0, "delay before every reply or action")
	fs.IntVar(&c.CrashAfter, "crash-after", 0, "fault: exit abruptly after this many requests")
	fs.BoolVar(&c.Stall, "stall", false, "fault: read requests but never answer")
	fs.BoolVar(&c.Refuse, "refuse", false, "fault: answer every request with an error")
	fs.StringVar(&c.Ready, "ready", "", "create this file once bound and ready")
	fs.UintVar(&c.Queue, "queue", 0, "queue length of the device's Ksock (0: KBUS's default of 100)")
}

// Event is one line of a device's log.
type Event struct {
	Time   time.Time         `json:"time"`
	Device string            `json:"device"`
	Event  string            `json:"event"`
	Fields map[string]string `json:"fields,omitempty"`
}

// Device is a running simulated device.
type Device struct {
	Name string
	Cfg  Config
	Ks   *kbus.Ksock

	mu       sync.Mutex
	log      io.Writer    // nil for no log
	closeLog func() error // nil unless the log is a file of ours
	requests int
}

// Open opens the device's Ksock and log.
func Open(name string, cfg Config) (*Device, error) {
	ks, err := kbus.Open(cfg.Bus, kbus.ReadWrite)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if cfg.Queue > 0 {
		if _, err := ks.SetMaxMessages(uint32(cfg.Queue)); err != nil {
			ks.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	d := &Device{Name: name, Cfg: cfg, Ks: ks}
	switch cfg.Log {
	case "":
	case "-":
		d.log = os.Stdout
	default:
		f, err := os.OpenFile(cfg.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			ks.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		d.log, d.closeLog = f, f.Close
	}
	return d, nil
}

// Close closes the Ksock (KBUS then answers for every request we owe) and
// the log.
func (d *Device) Close() error {
	err := d.Ks.Close()
	if d.closeLog != nil {
		err = errors.Join(err, d.closeLog())
	}
	return err
}

// Record writes an event to the log; fields alternate keys and values.
func (d *Device) Record(event string, kv ...string) {
	if d.log == nil {
		return
	}
	e := Event{Time: time.Now(), Device: d.Name, Event: event}
	if len(kv) > 0 {
		e.Fields = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			e.Fields[kv[i]] = kv[i+1]
		}
	}
	b, _ := json.Marshal(e)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log.Write(append(b, '\n'))
}

// Ready tells the world (a spec) that the device is bound.
func (d *Device) Ready() error {
	d.Record("ready")
	if d.Cfg.Ready == "" {
		return nil
	}
	return os.WriteFile(d.Cfg.Ready, nil, 0o644)
}

// Serve binds as replier to repliers and as listener to listeners, says it
// is ready, and hands every message to handle until ctx ends.
func (d *Device) Serve(ctx context.Context, repliers, listeners []string, handle func(*kbus.Message)) error {
	for _, n := range repliers {
		if err := d.Ks.BindReplier(n); err != nil {
			return err
		}
	}
	for _, n := range listeners {
		if err := d.Ks.BindListener(n); err != nil {
			return err
		}
	}
	if err := d.Ready(); err != nil {
		return err
	}
	return d.Ks.Serve(ctx, func(_ context.Context, m *kbus.Message) ([]byte, error) {
		handle(m) // it replies itself, after its latency, or not at all (faults)
		return nil, kbus.ErrReplyLater
	})
}

// Sleep waits for the configured latency (or ctx).
func (d *Device) Sleep(ctx context.Context) {
	if d.Cfg.Latency <= 0 {
		return
	}
	t := time.NewTimer(d.Cfg.Latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ErrRefused is the data of a reply from a device that refuses.
const ErrRefused = "error: refused"

// Handle applies the fault switches to a request this device must answer:
// it returns false when the request is not to be answered (stall), exits
// the process at the configured crash point, and answers "error: refused"
// itself when refusing.
func (d *Device) Handle(req *kbus.Message) bool {
	d.requests++
	d.Record("request", "name", req.Name, "id", req.ID.String(), "data", string(req.Data))
	if d.Cfg.CrashAfter > 0 && d.requests >= d.Cfg.CrashAfter {
		d.Record("crash", "after", fmt.Sprint(d.requests))
		os.Exit(70) // an abrupt death: no reply, KBUS answers for us
	}
	if d.Cfg.Stall {
		d.Record("stall", "id", req.ID.String())
		return false
	}
	if d.Cfg.Refuse {
		d.Reply(req, []byte(ErrRefused))
		return false
	}
	return true
}

// Reply answers a request and records it.
func (d *Device) Reply(req *kbus.Message, data []byte) error {
	if _, err := d.Ks.Reply(req, data); err != nil {
		d.Record("reply-failed", "id", req.ID.String(), "error", err.Error())
		return err
	}
	d.Record("reply", "name", req.Name, "id", req.ID.String(), "data", string(data))
	return nil
}

// Announce sends an announcement and records it.
func (d *Device) Announce(name string, data []byte, flags uint32) error {
	m := kbus.NewAnnouncement(name, data)
	m.Flags |= flags
	id, err := d.Ks.SendWait(context.Background(), m)
	if err != nil {
		d.Record("announce-failed", "name", name, "error", err.Error())
		return err
	}
	d.Record("announce", "name", name, "id", id.String(), "data", string(data))
	return nil
}

// ReadLog reads a device's JSON-lines log, for specs and tests.
func ReadLog(path string) ([]Event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// A line the device is still writing is not an event yet: a reader
	// can see the part of a write that fell in the file's last page.
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	var evs []Event
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var e Event
		if err := dec.Decode(&e); err != nil {
			return evs, err
		}
		evs = append(evs, e)
	}
	return evs, nil
}
