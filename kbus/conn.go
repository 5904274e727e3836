package kbus

import (
	"context"
	"iter"
)

// Conn is what an application needs of a Ksock to take part in a bus:
// bind, send, ask and answer, receive, serve. *Ksock is one, on a KBUS
// device; package kbus/kbustest has another, an in-process bus that
// behaves as docs/kbus.md says KBUS does, for testing an application's
// KBUS logic with go test and no kernel. Write the logic against Conn to
// get both: the same calls, the same errors (*OpError wrapping the same
// Errno values, *StatusError, *AppError).
//
// A listener bound to a wildcard hears every message whose name matches,
// its own included: a Conn listening to "$.Tuner.*" that sends a request
// to "$.Tuner.Tune" receives a copy of that request, and of the reply
// (docs/kbus.md §9). Request sets such copies aside for the next Receive;
// code that takes the first message it receives gets the echo first.
type Conn interface {
	ID() (uint32, error)
	BindListener(name string) error
	BindReplier(name string) error
	UnbindListener(name string) error
	UnbindReplier(name string) error
	FindReplier(name string) (id uint32, found bool, err error)
	Send(m *Message) (MessageID, error)
	SendWait(ctx context.Context, m *Message) (MessageID, error)
	Request(ctx context.Context, req *Message) (*Message, error)
	Reply(req *Message, data []byte) (MessageID, error)
	Receive(ctx context.Context) (*Message, error)
	TryReceive() (*Message, error)
	Messages(ctx context.Context) iter.Seq2[*Message, error]
	Serve(ctx context.Context, h Handler) error
	MaxMessages() (uint32, error)
	SetMaxMessages(n uint32) (uint32, error)
	OnlyOnce() (bool, error)
	SetOnlyOnce(on bool) (bool, error)
	// Replier bind events (docs/kbus.md §11): a switch of the whole
	// device, which only its owner or CAP_SYS_ADMIN may set (§18.5); the
	// events come to listeners of NameReplierBindEvent, read with
	// Message.BindEvent.
	ReportReplierBinds() (bool, error)
	SetReportReplierBinds(on bool) (bool, error)
	Close() error
}

var _ Conn = (*Ksock)(nil)
