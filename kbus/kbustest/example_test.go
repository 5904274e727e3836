package kbustest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/kbustest"
)

// serveUpper is application code, written against kbus.Conn: in
// production it gets a *kbus.Ksock, in its tests a kbustest Ksock.
func serveUpper(ctx context.Context, c kbus.Conn) error {
	if err := c.BindReplier("$.Text.Upper"); err != nil {
		return err
	}
	for {
		req, err := c.Receive(ctx)
		if err != nil {
			return err
		}
		if _, err := c.Reply(req, []byte(strings.ToUpper(string(req.Data)))); err != nil {
			return err
		}
	}
}

func Example() {
	bus := kbustest.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server := bus.Open()
	go serveUpper(ctx, server)

	client := bus.Open()
	if err := bus.WaitForReplier(ctx, "$.Text.Upper"); err != nil { // the server binds in its goroutine
		fmt.Println(err)
		return
	}
	rep, err := client.Request(ctx, kbus.NewRequest("$.Text.Upper", []byte("hello")))
	fmt.Println(string(rep.Data), err)
	// Output: HELLO <nil>
}
