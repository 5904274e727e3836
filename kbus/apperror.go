package kbus

import "fmt"

// FlagAppError marks a reply that carries an application's error instead
// of its answer: the error's text is the reply's data (docs/kbus.md §14.1).
// It is bit 31, one of the bits KBUS leaves to its users (§4), so a
// replier in any language can send one and a requester in any language
// can tell; this package's Serve and Request do both.
const FlagAppError uint32 = 1 << 31

// AppError is an application's refusal of a request: a Serve handler
// returns one (or an error wrapping one) to answer with it and go on
// serving, and the requester's Request returns it, so that
// errors.As(err, &appErr) finds the replier's text.
type AppError struct {
	Text    string
	Request MessageID // the request refused; set on the requester's side
}

// Error says the replier refused, and why.
func (e *AppError) Error() string { return "kbus: the replier refused the request: " + e.Text }

// replyAppError answers req with e.
func replyAppError(c Conn, req *Message, e *AppError) error {
	rep, err := ReplyTo(req, []byte(e.Text))
	if err != nil {
		return fmt.Errorf("kbus: answering %v with an error: %w", req, err)
	}
	rep.Flags |= FlagAppError
	_, err = c.Send(rep)
	return err
}
