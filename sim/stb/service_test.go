package stb_test

import (
	"context"
	"testing"
	"time"

	"github.com/kbus-project/kbus/kbus/kbustest"
	"github.com/kbus-project/kbus/sim/stb"
)

// The tuner service on kbustest: specs/stb runs the same code and the same
// check on the module.
func TestTheTunerServiceOnKbustest(t *testing.T) {
	bus := kbustest.New()
	server, client := bus.Open(), bus.Open()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stb.BindTuner(server); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx, stb.TunerHandler(&stb.Tuner{Channels: 5, Level: 50, Channel: 1})) }()
	if err := stb.CheckTuner(ctx, client); err != nil {
		t.Error(err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("ServeTuner: %v", err)
	}
}
