package plant

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/sim/device"
)

// RunSensor announces a reading every period until ctx ends.
func RunSensor(ctx context.Context, d *device.Device, kind, id string, base, amplitude float64, period time.Duration) error {
	n := &Noise{Base: base, Amplitude: amplitude, Rand: rand.New(rand.NewSource(time.Now().UnixNano()))}
	name := Sensor(kind, id)
	if err := d.Ready(); err != nil {
		return err
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		m := kbus.NewAnnouncement(name, []byte(strconv.FormatFloat(n.Next(), 'f', 2, 64)))
		if _, err := d.Ks.Send(m); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunActuator runs a valve or pump: it answers Set requests after its
// travel time, and on an URGENT shutdown goes to its safe position at once.
func RunActuator(ctx context.Context, d *device.Device, id string, safe int, perUnit time.Duration) error {
	a := &Actuator{Position: safe, Safe: safe, PerUnit: perUnit}
	return d.Serve(ctx, []string{Set(id)}, []string{Shutdown}, func(m *kbus.Message) {
		if m.Name == Shutdown {
			a.Position = a.Safe
			d.Record("shutdown", "position", strconv.Itoa(a.Safe), "reason", string(m.Data),
				"sent_id", m.ID.String(), "urgent", strconv.FormatBool(m.IsUrgent()))
			d.Announce(Position(id), []byte(strconv.Itoa(a.Position)), 0)
			return
		}
		if !m.WantsUsToReply() || !d.Handle(m) {
			return
		}
		target, travel, err := a.Command(string(m.Data))
		if err != nil {
			d.Reply(m, []byte(err.Error()))
			return
		}
		d.Sleep(ctx)
		time.Sleep(travel)
		a.Position = target
		d.Reply(m, []byte(fmt.Sprintf("at %d", target)))
		d.Announce(Position(id), []byte(strconv.Itoa(target)), 0)
	})
}

// RunPLC closes the loop: it listens to every sensor and commands the
// valve from the temperature; when a command gets a KBUS status instead of
// a reply (the actuator died) it shuts the plant down and announces it safe.
func RunPLC(ctx context.Context, d *device.Device, tempID, valveID string, c Controller) error {
	temp := Sensor("Temperature", tempID)
	busy := false
	last := -1
	return d.Serve(ctx, nil, []string{SensorAll}, func(m *kbus.Message) {
		switch {
		case m.IsReply():
			busy = false
			if m.Kind() == kbus.KindStatus {
				d.Record("actuator-lost", "status", m.Name, "actuator", valveID)
				d.Announce(Shutdown, []byte("actuator "+valveID+" lost"), kbus.FlagUrgent)
				d.Announce(SafeState, []byte("actuator "+valveID+" lost"), 0)
				return
			}
			d.Record("commanded", "actuator", valveID, "reply", string(m.Data))
		case m.Name == temp:
			v, err := strconv.ParseFloat(string(m.Data), 64)
			if err != nil || busy {
				return
			}
			pos := c.Valve(v)
			if pos == last {
				return
			}
			req := kbus.NewRequest(Set(valveID), []byte(strconv.Itoa(pos)))
			if _, err := d.Ks.Send(req); err != nil {
				d.Record("command-failed", "actuator", valveID, "error", err.Error())
				return
			}
			busy, last = true, pos
			d.Record("command", "actuator", valveID, "position", strconv.Itoa(pos), "temperature", string(m.Data))
		}
	})
}

// RunInterlock watches a sensor and, past the limit, announces an URGENT
// shutdown that must reach every actuator (ALL_OR_WAIT: none is skipped).
func RunInterlock(ctx context.Context, d *device.Device, kind, id string, limit float64) error {
	name := Sensor(kind, id)
	il := &Interlock{Limit: limit}
	return d.Serve(ctx, nil, []string{name}, func(m *kbus.Message) {
		v, err := strconv.ParseFloat(string(m.Data), 64)
		if err != nil || !il.Observe(v) {
			return
		}
		d.Record("trip", "sensor", name, "value", string(m.Data))
		reason := fmt.Sprintf("%s reached %s (limit %g)", name, m.Data, limit)
		d.Announce(Shutdown, []byte(reason), kbus.FlagUrgent|kbus.FlagAllOrWait)
	})
}

// RunHistorian records every plant message it hears.
func RunHistorian(ctx context.Context, d *device.Device) error {
	return d.Serve(ctx, nil, []string{All}, func(m *kbus.Message) {
		d.Record("heard", "name", m.Name, "id", m.ID.String(), "data", string(m.Data))
	})
}
