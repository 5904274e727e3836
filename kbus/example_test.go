package kbus_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// open opens a Ksock on the device $KBUS_DEVICE names (0 if unset), as
// each example's parties do.
func open(mode kbus.Mode) *kbus.Ksock {
	dev, err := kbus.DefaultDevice()
	if err != nil {
		log.Fatal(err)
	}
	ks, err := kbus.Open(dev, mode)
	if err != nil {
		log.Fatal(err)
	}
	return ks
}

// The classic session: a listener, an announcement, a replier, a request
// and its reply, and a stateful request that follows it to the same
// replier. Every party has its own Ksock.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listener, replier, sender := open(kbus.ReadOnly), open(kbus.ReadWrite), open(kbus.ReadWrite)
	defer listener.Close()
	defer replier.Close()
	defer sender.Close()

	if err := listener.BindListener("$.Example.*"); err != nil {
		log.Fatal(err)
	}
	if err := replier.BindReplier("$.Example.Ask"); err != nil {
		log.Fatal(err)
	}
	go replier.Serve(ctx, func(_ context.Context, req *kbus.Message) ([]byte, error) {
		return []byte("answer to " + string(req.Data)), nil
	})

	// An announcement reaches every listener.
	if _, err := sender.Send(kbus.NewAnnouncement("$.Example.Hello", []byte("hello"))); err != nil {
		log.Fatal(err)
	}
	heard, err := listener.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("heard:", heard.Kind(), heard.Name, string(heard.Data))

	// A request goes to the one replier; Request waits for its reply.
	reply, err := sender.Request(ctx, kbus.NewRequest("$.Example.Ask", []byte("one")))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reply:", string(reply.Data))

	// A stateful request goes to the Ksock that replied, or fails.
	next, err := kbus.StatefulRequest(reply, "$.Example.Ask", []byte("two"))
	if err != nil {
		log.Fatal(err)
	}
	if reply, err = sender.Request(ctx, next); err != nil {
		log.Fatal(err)
	}
	fmt.Println("reply:", string(reply.Data))

	// Listeners hear the requests and their replies too.
	for range 4 {
		heard, err = listener.Receive(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("heard:", heard.Kind(), heard.Name, string(heard.Data))
	}
	// Output:
	// heard: Announcement $.Example.Hello hello
	// reply: answer to one
	// reply: answer to two
	// heard: Request $.Example.Ask one
	// heard: Reply $.Example.Ask answer to one
	// heard: Request $.Example.Ask two
	// heard: Reply $.Example.Ask answer to two
}

// A request whose replier cannot answer returns the status KBUS sent in
// the reply's place, as an error.
func ExampleKsock_Request() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	replier, sender := open(kbus.ReadWrite), open(kbus.ReadWrite)
	defer sender.Close()
	if err := replier.BindReplier("$.Example.Flaky"); err != nil {
		log.Fatal(err)
	}
	go func() {
		replier.Receive(ctx) // reads the request, then goes away without replying
		replier.Close()
	}()

	_, err := sender.Request(ctx, kbus.NewRequest("$.Example.Flaky", nil))
	fmt.Println(errors.Is(err, kbus.ErrIgnored))
	var status *kbus.StatusError
	if errors.As(err, &status) {
		fmt.Println(status.Status.Name)
	}
	// Output:
	// true
	// $.KBUS.Replier.Ignored
}

// A replier is a Handler: what it returns is the reply.
func ExampleKsock_Serve() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	replier, client := open(kbus.ReadWrite), open(kbus.ReadWrite)
	defer replier.Close()
	defer client.Close()
	if err := replier.BindReplier("$.Example.Upper"); err != nil {
		log.Fatal(err)
	}
	go replier.Serve(ctx, func(_ context.Context, req *kbus.Message) ([]byte, error) {
		return bytes.ToUpper(req.Data), nil
	})

	for _, word := range []string{"kernel", "bus"} {
		reply, err := client.Request(ctx, kbus.NewRequest("$.Example.Upper", []byte(word)))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(reply.Data))
	}
	// Output:
	// KERNEL
	// BUS
}

// Messages is a receive loop for range.
func ExampleKsock_Messages() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	listener, sender := open(kbus.ReadOnly), open(kbus.ReadWrite)
	defer listener.Close()
	defer sender.Close()
	if err := listener.BindListener("$.Example.Count.%"); err != nil {
		log.Fatal(err)
	}
	for _, n := range []string{"One", "Two", "Three"} {
		if _, err := sender.Send(kbus.NewAnnouncement("$.Example.Count."+n, nil)); err != nil {
			log.Fatal(err)
		}
	}

	got := 0
	for m, err := range listener.Messages(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Name)
		if got++; got == 3 {
			break
		}
	}
	// Output:
	// $.Example.Count.One
	// $.Example.Count.Two
	// $.Example.Count.Three
}

func ExampleMatches() {
	fmt.Println(kbus.Matches("$.Sensors.*", "$.Sensors.Temp.Boiler"))
	fmt.Println(kbus.Matches("$.Sensors.%", "$.Sensors.Temp.Boiler"))
	fmt.Println(kbus.Matches("$.Sensors.%", "$.Sensors.Temp"))
	fmt.Println(kbus.Matches("$.Sensors.Temp", "$.Sensors.Temp"))
	// Output:
	// true
	// false
	// true
	// true
}

func ExampleValidateName() {
	fmt.Println(kbus.ValidateName("$.Sensors.Temp", false))
	fmt.Println(kbus.ValidateName("$.Sensors.*", true))
	err := kbus.ValidateName("$.Sensors..Temp", false)
	fmt.Println(errors.Is(err, kbus.ErrName))
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil>
	// true
	// invalid KBUS message name "$.Sensors..Temp": two dots in a row at byte 10: words are not empty
}

func ExampleMessage_String() {
	req := kbus.NewRequest("$.Actor.Ask", []byte("Why?"))
	req.ID = kbus.MessageID{Serial: 342}
	req.From = 113
	fmt.Println(req)
	fmt.Println(kbus.NewAnnouncement("$.Actor.Speak", []byte("Hello\n")))
	// Output:
	// <Request '$.Actor.Ask', id=[0:342], from=113, flags=0x1 (REQ), data='Why?'>
	// <Announcement '$.Actor.Speak', data='Hello\n'>
}

// README's first program: a tuner answers requests, a client asks it. The
// guest runs it against the module (specs/api), so the README's program
// is one that works.
func Example_firstProgram() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dev, err := kbus.DefaultDevice() // $KBUS_DEVICE, else 0: /dev/kbus0
	if err != nil {
		log.Fatal(err)
	}

	tuner, err := kbus.Open(dev, kbus.ReadWrite)
	if err != nil {
		log.Fatal(err) // EACCES: join the kbus group (docs/kbus.md §18.5)
	}
	defer tuner.Close()
	if err := tuner.BindReplier("$.Tuner.Tune"); err != nil {
		log.Fatal(err)
	}
	go tuner.Serve(ctx, func(_ context.Context, req *kbus.Message) ([]byte, error) {
		return []byte("tuned to " + string(req.Data)), nil
	})

	client, err := kbus.Open(dev, kbus.ReadWrite)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	reply, err := client.Request(ctx, kbus.NewRequest("$.Tuner.Tune", []byte("BBC One")))
	if err != nil {
		log.Fatal(err) // KBUS guarantees an answer: a reply, or a status that says why not
	}
	fmt.Println(string(reply.Data))
	// Output: tuned to BBC One
}
