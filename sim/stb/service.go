package stb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kbus-project/kbus/kbus"
)

// ServeTuner is the tuner written as an application writes a service
// (docs/kbus.md §14.1): against kbus.Conn, with Serve, refusing what it
// cannot do with a *kbus.AppError. The same code serves a real Ksock and
// a kbustest one: go test checks it on kbustest (service_test.go) and
// specs/stb on the module, with CheckTuner both times. It binds Tune and
// Volume (BindTuner) and serves until ctx ends.
func ServeTuner(ctx context.Context, c kbus.Conn, t *Tuner) error {
	if err := BindTuner(c); err != nil {
		return err
	}
	return c.Serve(ctx, TunerHandler(t))
}

// BindTuner makes c the replier for what a tuner answers; once it has
// returned, requests wait in c's queue for Serve.
func BindTuner(c kbus.Conn) error {
	for _, name := range []string{Tune, Volume} {
		if err := c.BindReplier(name); err != nil {
			return err
		}
	}
	return nil
}

// TunerHandler answers Tune and Volume from t; a channel that does not
// exist, or a volume command it does not know, is refused.
func TunerHandler(t *Tuner) kbus.Handler {
	return func(_ context.Context, m *kbus.Message) ([]byte, error) {
		var reply string
		switch m.Name {
		case Tune:
			reply, _ = t.Tune(string(m.Data))
		case Volume:
			reply = t.ChangeVolume(string(m.Data))
		default:
			return nil, nil // nothing else is asked of a tuner
		}
		if text, refused := strings.CutPrefix(reply, "error: "); refused {
			return nil, &kbus.AppError{Text: text}
		}
		return []byte(reply), nil
	}
}

// CheckTuner asks a tuner served by ServeTuner (with 5 channels, at level
// 50) what its users ask, through c, and says what was not as it should
// be: the same check on every bus.
func CheckTuner(ctx context.Context, c kbus.Conn) error {
	ask := func(name, data string) (string, error) {
		rep, err := c.Request(ctx, kbus.NewRequest(name, []byte(data)))
		if err != nil {
			return "", err
		}
		return string(rep.Data), nil
	}
	for _, q := range []struct{ name, data, want string }{
		{Tune, "3", "locked 3"}, {Volume, "+", "60"}, {Volume, "mute", "muted"},
	} {
		got, err := ask(q.name, q.data)
		if err != nil || got != q.want {
			return fmt.Errorf("%s %q: %q, %v; want %q", q.name, q.data, got, err, q.want)
		}
	}
	_, err := ask(Tune, "99")
	var app *kbus.AppError
	if !errors.As(err, &app) || app.Text != `no channel "99"` {
		return fmt.Errorf("tuning to 99: %v; want the tuner's refusal", err)
	}
	if got, err := ask(Tune, "5"); err != nil || got != "locked 5" {
		return fmt.Errorf("after a refusal: %q, %v", got, err)
	}
	return nil
}
