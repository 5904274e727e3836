package kbustest_test

import (
	"context"
	"testing"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/kbustest"
)

// README's unit test of its first program: docs/readme_test.go keeps the
// two equal.
func TestTheTunerOfTheREADME(t *testing.T) {
	bus := kbustest.New() // a bus in this process: no kernel, no device
	tuner, client := bus.Open(), bus.Open()
	if err := tuner.BindReplier("$.Tuner.Tune"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tuner.Serve(ctx, func(_ context.Context, req *kbus.Message) ([]byte, error) {
		return []byte("tuned to " + string(req.Data)), nil
	})

	reply, err := client.Request(ctx, kbus.NewRequest("$.Tuner.Tune", []byte("BBC One")))
	if err != nil || string(reply.Data) != "tuned to BBC One" {
		t.Fatalf("got %v, %v", reply, err)
	}
}
