package kbus

import (
	"errors"
	"strings"
	"testing"
)

func TestEveryStatusIsItsSentinel(t *testing.T) {
	for name, want := range map[string]error{
		NameReplierGoneAway:             ErrGoneAway,
		NameReplierIgnored:              ErrIgnored,
		NameReplierUnbound:              ErrUnbound,
		NameReplierDisappeared:          ErrDisappeared,
		NameErrorSending:                ErrNotDelivered,
		NameReplierNotSameKsock:         ErrNotSameKsock,
		NameRemoteErrorPrefix + "EPIPE": ErrRemoteError,
	} {
		st := &Message{Name: name, InReplyTo: MessageID{0, 7}, Flags: FlagSynthetic}
		err := st.Err()
		var se *StatusError
		if !errors.As(err, &se) || se.Status != st || se.Request != (MessageID{0, 7}) {
			t.Fatalf("%s: Err() = %v", name, err)
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: %v is not %v", name, err, want)
		}
		for _, other := range []error{ErrGoneAway, ErrIgnored, ErrUnbound} {
			if other != want && errors.Is(err, other) {
				t.Errorf("%s matches %v too", name, other)
			}
		}
		if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "[0:7]") {
			t.Errorf("%q does not name the status and the request", err)
		}
	}
}

func TestOnlyStatusesAreErrors(t *testing.T) {
	for _, m := range []*Message{
		NewAnnouncement("$.KBUS.Replier.GoneAway", nil), // not a reply: an announcement
		{Name: "$.Answer", InReplyTo: MessageID{0, 1}},  // a reply
		NewRequest("$.Ask", nil),
	} {
		if err := m.Err(); err != nil {
			t.Errorf("%v: Err() = %v", m, err)
		}
	}
	unknown := &Message{Name: "$.KBUS.Something.New", InReplyTo: MessageID{0, 2}}
	if err := unknown.Err(); err == nil || errors.Unwrap(err) != nil {
		t.Errorf("an unknown status: %v", err)
	}
}

func TestKindStringNeverPanics(t *testing.T) {
	if s := Kind(42).String(); s != "Kind(42)" {
		t.Errorf("%q", s)
	}
	if s := Kind(-1).String(); s != "Kind(-1)" {
		t.Errorf("%q", s)
	}
	if s := KindStatus.String(); s != "Status" {
		t.Errorf("%q", s)
	}
}
