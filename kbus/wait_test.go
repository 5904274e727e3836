package kbus

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAReceiveEndsWithItsContext(t *testing.T) {
	ks := fifo(t)
	defer ks.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ks.Receive(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive: %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	// The deadline that ended it is gone: the next wait waits.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if _, err := ks.Receive(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Receive: %v", err)
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("the second Receive returned after %v, before its own deadline", d)
	}
}

func TestAReceiveWaitingForItsTurnEndsWithItsContext(t *testing.T) {
	ks := fifo(t)
	defer ks.Close()
	first, stop := context.WithCancel(context.Background())
	defer stop()
	go ks.Receive(first)
	time.Sleep(20 * time.Millisecond) // the first holds the turn
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := ks.Receive(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive: %v", err)
	}
	if m, err := ks.TryReceive(); m != nil || err != nil {
		t.Errorf("TryReceive while another receives: %v, %v", m, err)
	}
}

func TestMessagesAndServeEndQuietlyWithTheirContext(t *testing.T) {
	ks := fifo(t)
	defer ks.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	for m, err := range ks.Messages(ctx) {
		t.Fatalf("Messages gave %v, %v", m, err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := ks.Serve(ctx, func(context.Context, *Message) ([]byte, error) {
		t.Error("the handler ran")
		return nil, nil
	}); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestMessagesEndsWithErrClosed(t *testing.T) {
	ks := fifo(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		ks.Close()
	}()
	var got []error
	for _, err := range ks.Messages(context.Background()) {
		got = append(got, err)
	}
	if len(got) != 1 || !errors.Is(got[0], ErrClosed) {
		t.Errorf("Messages yielded %v, want one ErrClosed", got)
	}
}
