package limpet

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/kbus-project/kbus/kbus"
)

// Backoff spaces reconnection attempts: the first wait is Min, each
// failure doubles it up to Max, and a link that stayed up for Stable
// starts the sequence again at Min.
type Backoff struct {
	Min, Max, Stable time.Duration
	next             time.Duration
}

// DefaultBackoff retries after 100 ms at first and at most every 10 s.
func DefaultBackoff() *Backoff {
	return &Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second, Stable: 10 * time.Second}
}

// After returns how long to wait before the next attempt, given how long
// the last link was up (0 when the attempt failed outright).
func (b *Backoff) After(up time.Duration) time.Duration {
	if b.next == 0 || up >= b.Stable {
		b.next = b.Min
	}
	d := b.next
	b.next = min(2*b.next, b.Max)
	return d
}

// Daemon is a Limpet that outlives its links: it keeps one end of a pair
// up, on a fresh Ksock for every link.
type Daemon struct {
	Config Config
	// Device is the local KBUS device number.
	Device int
	// Next gives the next connection: a server accepts one, a client
	// dials its peer.
	Next func(ctx context.Context) (net.Conn, error)
	// Once stops at the first lost link instead of reconnecting.
	Once    bool
	Backoff *Backoff
}

// Run serves links until ctx ends (nil then) or, with Once, until the
// first link ends (its error). Each link runs on a Ksock of its own;
// closing it when the link ends is what makes KBUS answer every request
// the Limpet still owed and withdraw its proxy repliers.
func (d *Daemon) Run(ctx context.Context) error {
	logf := d.Config.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	b := d.Backoff
	if b == nil {
		b = DefaultBackoff()
	}
	for {
		start := time.Now()
		err := d.link(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrAuth) {
			logf("limpet %d: refused a peer that failed authentication", d.Config.NetworkID)
		}
		if d.Once {
			return err
		}
		wait := b.After(time.Since(start))
		logf("limpet %d: link down: %v; reconnecting in %v", d.Config.NetworkID, err, wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// link runs one connection: a Ksock, the handshake, the proxying.
func (d *Daemon) link(ctx context.Context) error {
	conn, err := d.Next(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	ks, err := kbus.Open(d.Device, kbus.ReadWrite)
	if err != nil {
		return err
	}
	defer ks.Close()
	return Run(ctx, ks, conn, d.Config)
}
