package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// sendAll sends n announcements of size bytes, waiting (ALL_OR_WAIT and
// poll) whenever a listener is full, so that nothing is lost.
func sendAll(ctx context.Context, ks *kbus.Ksock, name string, size, n int) error {
	m := kbus.NewAnnouncement(name, make([]byte, size))
	m.Flags = kbus.FlagAllOrWait
	b := m.Bytes()
	for i := 0; i < n; i++ {
		if _, err := ks.Syscalls().Write(b); err != nil {
			return err
		}
		if _, err := ks.Syscalls().SendWait(ctx); err != nil {
			return err
		}
	}
	return nil
}

// readAll reads n messages, waiting as needed.
func readAll(ctx context.Context, ks *kbus.Ksock, n int) error {
	buf := make([]byte, 8192)
	for got := 0; got < n; {
		l, err := ks.Syscalls().NextMsg()
		if err != nil {
			return err
		}
		if l == 0 {
			if _, err := ks.Receive(ctx); err != nil {
				return fmt.Errorf("after %d of %d messages: %w", got, n, err)
			}
			got++
			continue
		}
		for l > 0 {
			k, err := ks.Syscalls().Read(buf[:min(int(l), len(buf))])
			if err != nil {
				return err
			}
			l -= uint32(k)
		}
		got++
	}
	return nil
}

func open(dev int) (*kbus.Ksock, error) { return kbus.Open(dev, kbus.ReadWrite) }

// Throughput measures announcements delivered per second from one sender
// to one listener, with unrelated bindings on the device.
func Throughput(ctx context.Context, dev, size, n, unrelated int) (float64, error) {
	var extra []*kbus.Ksock
	defer func() {
		for _, k := range extra {
			k.Close()
		}
	}()
	if unrelated > 0 {
		k, err := open(dev)
		if err != nil {
			return 0, err
		}
		extra = append(extra, k)
		for i := 0; i < unrelated; i++ {
			bind := k.BindListener
			if i%2 == 0 && i < 2000 {
				bind = k.BindReplier
			}
			if err := bind(fmt.Sprintf("$.Unrelated.B%d.Name%d", i%97, i)); err != nil {
				return 0, err
			}
		}
	}
	sender, err := open(dev)
	if err != nil {
		return 0, err
	}
	defer sender.Close()
	listener, err := open(dev)
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	if err := listener.BindListener("$.Bench.Flow"); err != nil {
		return 0, err
	}
	return timed(n,
		func() error { return sendAll(ctx, sender, "$.Bench.Flow", size, n) },
		func() error { return readAll(ctx, listener, n) })
}

// FanOut sends n announcements to l listeners whose queues hold them all,
// and returns the sender's time per send (µs) and the time per delivery
// including every listener's reads (µs).
func FanOut(ctx context.Context, dev, l, n int) (perSend, perDelivery float64, err error) {
	sender, err := open(dev)
	if err != nil {
		return 0, 0, err
	}
	defer sender.Close()
	listeners := make([]*kbus.Ksock, l)
	for i := range listeners {
		if listeners[i], err = open(dev); err != nil {
			return 0, 0, err
		}
		defer listeners[i].Close()
		if err := listeners[i].BindListener("$.Bench.Fan"); err != nil {
			return 0, 0, err
		}
		if _, err := listeners[i].SetMaxMessages(uint32(n)); err != nil {
			return 0, 0, err
		}
	}
	start := time.Now()
	if err := sendAll(ctx, sender, "$.Bench.Fan", 64, n); err != nil {
		return 0, 0, err
	}
	sent := time.Since(start)
	var wg sync.WaitGroup
	errs := make([]error, l)
	for i, k := range listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = readAll(ctx, k, n)
		}()
	}
	wg.Wait()
	total := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	return perOp(sent, n), perOp(total, n*l), nil
}

// openOn opens a Ksock that sends and receives through the one-call
// ioctls, or through the original calls.
func openOn(dev int, oneCall bool) (*kbus.Ksock, error) {
	ks, err := open(dev)
	if err != nil {
		return nil, err
	}
	if err := ks.Syscalls().SetOneCall(oneCall); err != nil {
		ks.Close()
		return nil, err
	}
	return ks, nil
}

// APIThroughput measures announcements delivered per second from one
// sender to one listener through the Go API's Send and Receive.
func APIThroughput(ctx context.Context, dev, size, n int, oneCall bool) (float64, error) {
	sender, err := openOn(dev, oneCall)
	if err != nil {
		return 0, err
	}
	defer sender.Close()
	listener, err := openOn(dev, oneCall)
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	if err := listener.BindListener("$.Bench.API"); err != nil {
		return 0, err
	}
	m := kbus.NewAnnouncement("$.Bench.API", make([]byte, size))
	m.Flags = kbus.FlagAllOrWait
	return timed(n, func() error {
		for i := 0; i < n; i++ {
			if _, err := sender.SendWait(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}, func() error {
		for i := 0; i < n; i++ {
			if _, err := listener.Receive(ctx); err != nil {
				return fmt.Errorf("after %d of %d messages: %w", i, n, err)
			}
		}
		return nil
	})
}

// RoundTrips measures request→reply round trips per second through the
// Go API, on either call sequence.
func RoundTrips(ctx context.Context, dev, n int, oneCall bool) (float64, error) {
	client, err := openOn(dev, oneCall)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	server, err := openOn(dev, oneCall)
	if err != nil {
		return 0, err
	}
	defer server.Close()
	if err := server.BindReplier("$.Bench.Ping"); err != nil {
		return 0, err
	}
	req := kbus.NewRequest("$.Bench.Ping", make([]byte, 64))
	return timed(n, func() error {
		for i := 0; i < n; i++ {
			if _, err := client.Send(req); err != nil {
				return err
			}
			rep, err := client.Receive(ctx)
			if err != nil {
				return err
			}
			if !rep.IsReply() || rep.Kind() != kbus.KindReply {
				return fmt.Errorf("round trip %d: got %v", i, rep)
			}
		}
		return nil
	}, func() error {
		for i := 0; i < n; i++ {
			req, err := server.Receive(ctx)
			if err != nil {
				return err
			}
			rep, err := kbus.ReplyTo(req, req.Data)
			if err == nil {
				_, err = server.Send(rep)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
