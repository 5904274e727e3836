package kbus

import "context"

// Conn is what an application needs of a Ksock to take part in a bus:
// bind, send, ask and answer, receive. *Ksock is one, on a KBUS device;
// package kbus/kbustest has another, an in-process bus that behaves as
// docs/kbus.md says KBUS does, for testing an application's KBUS logic
// with go test and no kernel. Write the logic against Conn to get both.
type Conn interface {
	ID() (uint32, error)
	BindListener(name string) error
	BindReplier(name string) error
	UnbindListener(name string) error
	UnbindReplier(name string) error
	FindReplier(name string) (id uint32, found bool, err error)
	Send(m *Message) (MessageID, error)
	Request(ctx context.Context, req *Message) (*Message, error)
	Reply(req *Message, data []byte) (MessageID, error)
	Receive(ctx context.Context) (*Message, error)
	TryReceive() (*Message, error)
	Close() error
}

var _ Conn = (*Ksock)(nil)
