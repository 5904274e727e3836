package limpet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/kbus-project/kbus/kbus"
)

// Config is one end of a Limpet pair.
type Config struct {
	NetworkID uint32 // ours: non-zero, unique among every Limpet a message can reach
	Forward   string // the names proxied to the peer (default "$.*")
	Key       []byte // the pre-shared key both ends hold
	Logf      func(format string, a ...any)
}

// Limpet joins one KBUS Ksock to a peer Limpet over a stream.
type Limpet struct {
	cfg    Config
	ks     *kbus.Ksock
	conn   io.ReadWriter
	peerID uint32
	ourKs  uint32

	wmu      sync.Mutex                // serialises frames to the peer
	mu       sync.Mutex                // guards requests and proxies
	requests map[kbus.MessageID]uint32 // request id as read → its sender, for the reply
	proxies  map[string]bool           // names we are proxy replier for
	local    repliers                  // the replier bindings of our bus
}

// Run proxies between ks and the peer on conn until either side fails or
// ctx ends. The caller then closes ks: KBUS answers every request the
// Limpet still owed (GoneAway, Ignored) and drops its proxy bindings, so
// the reply guarantee holds across a lost link.
func Run(ctx context.Context, ks *kbus.Ksock, conn io.ReadWriteCloser, cfg Config) error {
	if cfg.Forward == "" {
		cfg.Forward = "$.*"
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if len(cfg.Key) == 0 {
		return errors.New("limpet: a pre-shared key is required")
	}
	peerID, err := handshake(conn, cfg.NetworkID, cfg.Key)
	if err != nil {
		return err
	}
	id, err := ks.ID()
	if err != nil {
		return err
	}
	l := &Limpet{cfg: cfg, ks: ks, conn: conn, peerID: peerID, ourKs: id,
		requests: map[kbus.MessageID]uint32{}, proxies: map[string]bool{}}
	cfg.Logf("limpet %d: joined to peer %d", cfg.NetworkID, peerID)

	if _, err := ks.SetOnlyOnce(true); err != nil {
		return err
	}
	// Our presence on this bus: the other Limpets here learn our network
	// id from its bind event, and two Limpets cannot share an id.
	if err := ks.BindReplier(presenceName(cfg.NetworkID)); err != nil {
		if errors.Is(err, kbus.ErrReplierExists) {
			return fmt.Errorf("limpet: network id %d is already used by a Limpet on this bus: %w", cfg.NetworkID, err)
		}
		return err
	}
	if err := ks.BindListener(cfg.Forward); err != nil {
		return err
	}
	if err := ks.BindListener(kbus.NameReplierBindEvent); err != nil {
		return err
	}
	if _, err := ks.SetReportReplierBinds(true); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- l.fromBus(ctx) }()
	go func() { errs <- l.fromPeer(ctx) }()
	select {
	case err = <-errs:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	conn.Close() // ends the other direction
	return err
}

func (l *Limpet) logf(format string, a ...any) {
	l.cfg.Logf("limpet %d: "+format, append([]any{l.cfg.NetworkID}, a...)...)
}

func (l *Limpet) toPeer(m *kbus.Message) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return WriteFrame(l.conn, m)
}

// fromBus forwards what the local bus gives us (docs/kbus.md §15.4). The
// replies to the requests it forwards come back later, from the peer.
func (l *Limpet) fromBus(ctx context.Context) error {
	err := l.ks.Serve(ctx, func(_ context.Context, m *kbus.Message) ([]byte, error) {
		if err := l.forward(m); err != nil {
			return nil, err
		}
		return nil, kbus.ErrReplyLater
	})
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// forward sends one message from the local bus to the peer, unless it is
// one not to forward.
func (l *Limpet) forward(m *kbus.Message) error {
	if m.Name == kbus.NameReplierBindEvent {
		if ev, err := m.BindEvent(); err == nil {
			l.local.update(ev)
			if ev.Binder == l.ourKs || !l.proxiable(ev.Name) {
				return nil // our own proxy binding, or not one to proxy
			}
		}
	}
	if m.WantsUsToReply() {
		l.mu.Lock()
		l.requests[m.ID] = m.From
		l.mu.Unlock()
	} else if m.IsRequest() {
		// A listener copy of a request: its replier is on this bus
		// or reached through us anyway; far listeners hear it as an
		// announcement, so nobody there takes it for a request to
		// answer (docs/kbus.md §16.19).
		m.Flags &^= kbus.FlagWantAReply
	}
	if m.From == l.ourKs || m.ID.Network == l.peerID {
		return nil // we put it on this bus for the peer: never send it back
	}
	if m.ID.Network == l.cfg.NetworkID {
		// We forwarded it once already: it came back to our bus
		// around a loop in the topology.
		l.logf("loop: %v %s came back to network %d; dropped", m.ID, m.Name, l.cfg.NetworkID)
		return nil
	}
	if m.ID.Network == 0 {
		m.ID.Network = l.cfg.NetworkID
	}
	if m.OrigFrom.Network == 0 {
		m.OrigFrom = kbus.OrigFrom{Network: l.cfg.NetworkID, Local: m.From}
	}
	if err := l.toPeer(m); err != nil {
		return fmt.Errorf("limpet: writing to the peer: %w", err)
	}
	return nil
}

// send sends m on our bus. An ALL_OR_WAIT message waits (in poll) until
// every local recipient has room: back-pressure across the link, instead of
// the original's stuck "sending" state.
func (l *Limpet) send(ctx context.Context, m *kbus.Message) error {
	_, err := l.ks.SendWait(ctx, m)
	return err
}

// fromPeer acts on what the peer sends (docs/kbus.md §15.5).
func (l *Limpet) fromPeer(ctx context.Context) error {
	for {
		m, err := ReadFrame(l.conn)
		if err != nil {
			if errors.Is(err, ErrFrame) {
				l.logf("dropping the link: %v", err)
			}
			return err
		}
		if m.ID.Network == l.cfg.NetworkID {
			l.logf("loop: %v came back to the network it started from; dropped", m.ID)
			continue
		}
		if l.onOurBus(m.ID.Network) {
			l.logf("loop: %v %s came back to its own bus (network %d is a Limpet here); dropped", m.ID, m.Name, m.ID.Network)
			continue
		}
		switch {
		case m.Name == kbus.NameReplierBindEvent:
			l.proxyBinding(m)
		case m.IsReply():
			l.reply(ctx, m)
		case m.WantsUsToReply():
			l.request(ctx, m)
		default:
			m.Flags &^= kbus.FlagWantYouToReply
			if err := l.send(ctx, m); err != nil && !errors.Is(err, kbus.ErrNoReplier) {
				l.logf("sending %v %s: %v", m.ID, m.Name, err)
			}
		}
	}
}

// proxyBinding mirrors a replier binding of the far bus on ours.
func (l *Limpet) proxyBinding(m *kbus.Message) {
	ev, err := m.BindEvent()
	if err != nil {
		l.logf("bad bind event: %v", err)
		return
	}
	if !l.proxiable(ev.Name) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ev.IsBind {
		if l.proxies[ev.Name] {
			return
		}
		if err := l.ks.BindReplier(ev.Name); err != nil {
			l.logf("proxying replier %s: %v", ev.Name, err)
			return
		}
		l.proxies[ev.Name] = true
		return
	}
	if l.proxies[ev.Name] {
		delete(l.proxies, ev.Name)
		if err := l.ks.UnbindReplier(ev.Name); err != nil {
			l.logf("withdrawing replier %s: %v", ev.Name, err)
		}
	}
}

// reply delivers a reply (or status) from the far bus to the local sender
// of the request it answers.
func (l *Limpet) reply(ctx context.Context, m *kbus.Message) {
	if m.InReplyTo.Network == l.cfg.NetworkID {
		m.InReplyTo.Network = 0
	}
	l.mu.Lock()
	from, ok := l.requests[m.InReplyTo]
	delete(l.requests, m.InReplyTo)
	l.mu.Unlock()
	if !ok {
		return // a listener's copy, or already answered
	}
	m.To, m.ID = from, kbus.MessageID{}
	m.Flags &^= kbus.FlagWantYouToReply | kbus.FlagSynthetic
	if err := l.send(ctx, m); err != nil {
		l.logf("delivering the reply to %v: %v", m.InReplyTo, err)
	}
}

// request re-issues on our bus a request the far Limpet received as proxy
// replier; if that fails the far sender gets a status reply instead.
func (l *Limpet) request(ctx context.Context, m *kbus.Message) {
	m.Flags &^= kbus.FlagWantYouToReply
	if m.IsStatefulRequest() {
		local := m.FinalTo.Network == l.cfg.NetworkID
		if local {
			m.FinalTo.Network = 0
		}
		replier, found := l.replierFor(m.Name)
		switch {
		case !found:
			l.status(m, kbus.NameReplierGoneAway)
			return
		case local && replier != m.FinalTo.Local:
			l.status(m, kbus.NameReplierNotSameKsock)
			return
		case local:
			m.To = m.FinalTo.Local
		default:
			m.To = replier
		}
	}
	if err := l.send(ctx, m); err != nil {
		cause := "Unknown"
		var e kbus.Errno
		if errors.As(err, &e) {
			cause = e.Name()
		}
		l.status(m, kbus.NameRemoteErrorPrefix+cause)
	}
}

// proxiable reports whether a replier binding is one to proxy: the name,
// or every name a wildcard covers, lies within the forward filter, and it
// is not a Limpet's presence, which belongs to its own bus.
func (l *Limpet) proxiable(name string) bool {
	return !isPresence(name) && kbus.Matches(l.cfg.Forward, name)
}

// presencePrefix names the replier binding each Limpet holds on its bus,
// followed by its network id: "$.Limpet.Network.7". Never proxied.
const presencePrefix = "$.Limpet.Network."

func presenceName(id uint32) string { return presencePrefix + strconv.FormatUint(uint64(id), 10) }

func isPresence(name string) bool { return strings.HasPrefix(name, presencePrefix) }

// onOurBus reports whether a Limpet with network id net sits on our bus:
// a message carrying that id started here, so one arriving from the peer
// has gone round a loop in the topology. Messages that started on the
// peer's bus (most of them) cost nothing; for the others KBUS is asked,
// which is exact and current.
func (l *Limpet) onOurBus(net uint32) bool {
	if net == 0 || net == l.peerID {
		return false
	}
	_, found, err := l.ks.FindReplier(presenceName(net))
	return err == nil && found
}

// replierFor returns the replier of name on our bus: KBUS's answer for an
// exact binding, else the wildcard binding our mirror of the bus's
// bindings resolves.
func (l *Limpet) replierFor(name string) (uint32, bool) {
	if id, found, err := l.ks.FindReplier(name); err == nil && found {
		return id, true
	}
	return l.local.resolve(name)
}

// status answers a request from the far bus on the Limpet's behalf.
func (l *Limpet) status(req *kbus.Message, name string) {
	st := &kbus.Message{Name: name, To: req.From, InReplyTo: req.ID}
	l.logf("%s for %v", name, req.ID)
	if err := l.toPeer(st); err != nil {
		l.logf("sending %s: %v", name, err)
	}
}
