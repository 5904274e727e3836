package kbus

import (
	"fmt"
	"strings"
)

// StatusReason is the type of the errors a status message means: KBUS (or a
// Limpet) sent it instead of the reply that cannot come (docs/kbus.md §10).
type StatusReason string

// Error is the reason, prefixed with "kbus: ".
func (e StatusReason) Error() string { return "kbus: " + string(e) }

// StatusErr was StatusReason, too like StatusError, the error that holds
// the status message.
//
// Deprecated: StatusReason.
type StatusErr = StatusReason

// What a status message in place of a reply means. A *StatusError matches
// one of these with errors.Is.
const (
	ErrGoneAway     = StatusReason("the replier closed its Ksock before replying")
	ErrIgnored      = StatusReason("the replier read the request but closed its Ksock without replying")
	ErrUnbound      = StatusReason("the replier unbound from the name before reading the request")
	ErrDisappeared  = StatusReason("the replier was gone when KBUS came to deliver the request")
	ErrNotDelivered = StatusReason("KBUS could not deliver the request to its replier")
	// Sent by Limpets (docs/kbus.md §15.6).
	ErrNotSameKsock = StatusReason("the stateful request's replier on the far bus is no longer the same Ksock")
	ErrRemoteError  = StatusReason("the far Limpet could not send the request")
)

var statusErrs = map[string]StatusReason{
	NameReplierGoneAway:     ErrGoneAway,
	NameReplierIgnored:      ErrIgnored,
	NameReplierUnbound:      ErrUnbound,
	NameReplierDisappeared:  ErrDisappeared,
	NameErrorSending:        ErrNotDelivered,
	NameReplierNotSameKsock: ErrNotSameKsock,
}

// StatusError is a status message received in place of a reply.
type StatusError struct {
	Request MessageID // the request it answers
	Status  *Message  // the status message
}

// Error names the request and what its status means.
func (e *StatusError) Error() string {
	if s := e.Unwrap(); s != nil {
		return fmt.Sprintf("%v (%s, for request %v)", s, e.Status.Name, e.Request)
	}
	return fmt.Sprintf("kbus: status %s for request %v", e.Status.Name, e.Request)
}

// Unwrap returns the StatusReason the status's name means (nil for a name
// this package does not know).
func (e *StatusError) Unwrap() error {
	if s, ok := statusErrs[e.Status.Name]; ok {
		return s
	}
	if strings.HasPrefix(e.Status.Name, NameRemoteErrorPrefix) {
		return ErrRemoteError
	}
	return nil
}

// Err returns, for a status message, the *StatusError it means; for a
// reply flagged FlagAppError, the *AppError it carries; nil for any other
// message.
func (m *Message) Err() error {
	if m.Kind() == KindReply && m.Flags&FlagAppError != 0 {
		return &AppError{Text: string(m.Data), Request: m.InReplyTo}
	}
	if m.Kind() != KindStatus {
		return nil
	}
	return &StatusError{Request: m.InReplyTo, Status: m}
}
