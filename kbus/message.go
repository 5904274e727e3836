package kbus

import (
	"fmt"
	"strings"

	"github.com/kbus-project/kbus/kbus/raw"
)

// MessageID identifies a message: {0,0} means none.
type MessageID struct{ Network, Serial uint32 }

// IsZero reports whether id is the "no id" value.
func (id MessageID) IsZero() bool { return id == MessageID{} }

// String prints [network:serial], e.g. [0:338].
func (id MessageID) String() string { return fmt.Sprintf("[%d:%d]", id.Network, id.Serial) }

// Less orders ids by network, then serial.
func (id MessageID) Less(o MessageID) bool {
	return id.Network < o.Network || (id.Network == o.Network && id.Serial < o.Serial)
}

// OrigFrom names a Ksock on a (possibly remote) bus, for Limpets.
type OrigFrom struct{ Network, Local uint32 }

// IsZero reports whether o is unset.
func (o OrigFrom) IsZero() bool { return o == OrigFrom{} }

// String prints (network,local).
func (o OrigFrom) String() string { return fmt.Sprintf("(%d,%d)", o.Network, o.Local) }

// Names of the messages KBUS itself sends.
const (
	NameReplierBindEvent   = raw.NameReplierBindEvent
	NameReplierUnbound     = raw.NameReplierUnbound
	NameReplierGoneAway    = raw.NameReplierGoneAway
	NameReplierIgnored     = raw.NameReplierIgnored
	NameReplierDisappeared = raw.NameReplierDisappeared
	NameErrorSending       = raw.NameErrorSending
	NameUnbindEventsLost   = raw.NameUnbindEventsLost
)

// Names of the status messages a Limpet sends for a proxied request.
const (
	// NameReplierNotSameKsock: a stateful request reached its final bus,
	// but another Ksock is now the replier there.
	NameReplierNotSameKsock = "$.KBUS.Replier.NotSameKsock"
	// NameRemoteErrorPrefix, followed by the errno's name (EPIPE) or
	// "Unknown": the far Limpet's send of the request failed.
	NameRemoteErrorPrefix = "$.KBUS.RemoteError."
)

// Flags of a message.
const (
	FlagWantAReply     = raw.FlagWantAReply
	FlagWantYouToReply = raw.FlagWantYouToReply
	FlagSynthetic      = raw.FlagSynthetic
	FlagUrgent         = raw.FlagUrgent
	FlagAllOrWait      = raw.FlagAllOrWait
	FlagAllOrFail      = raw.FlagAllOrFail
)

// Message is a KBUS message. Build one with NewAnnouncement, NewRequest,
// ReplyTo or StatefulRequest; read ones come from a Ksock.
type Message struct {
	ID        MessageID
	InReplyTo MessageID
	To        uint32
	From      uint32
	OrigFrom  OrigFrom
	FinalTo   OrigFrom
	Flags     uint32
	Name      string
	Data      []byte
}

// Kind classifies a message as its printed form does (docs/kbus.md §14.4).
type Kind int

// Message kinds.
const (
	KindAnnouncement Kind = iota
	KindRequest
	KindReply
	KindStatus
	KindReplierBindEvent
)

var kindNames = [...]string{"Announcement", "Request", "Reply", "Status", "ReplierBindEvent"}

// String names the kind, as the printed form of a message does.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Kind of the message: a ReplierBindEvent by name; a Status if it is a
// reply named $.KBUS.…; a Reply; a Request; otherwise an Announcement.
func (m *Message) Kind() Kind {
	switch {
	case m.Name == NameReplierBindEvent:
		return KindReplierBindEvent
	case m.IsReply() && strings.HasPrefix(m.Name, "$.KBUS."):
		return KindStatus
	case m.IsReply():
		return KindReply
	case m.IsRequest():
		return KindRequest
	default:
		return KindAnnouncement
	}
}

// IsReply reports whether the message answers a request.
func (m *Message) IsReply() bool { return !m.InReplyTo.IsZero() }

// IsRequest reports whether the message wants a reply.
func (m *Message) IsRequest() bool { return m.Flags&FlagWantAReply != 0 }

// IsStatefulRequest reports whether the request is addressed to one Ksock.
func (m *Message) IsStatefulRequest() bool { return m.IsRequest() && m.To != 0 }

// WantsUsToReply reports whether this copy was delivered to its replier.
func (m *Message) WantsUsToReply() bool {
	return m.Flags&(FlagWantAReply|FlagWantYouToReply) == FlagWantAReply|FlagWantYouToReply
}

// IsSynthetic reports whether KBUS generated the message.
func (m *Message) IsSynthetic() bool { return m.Flags&FlagSynthetic != 0 }

// IsUrgent reports whether the message jumps the queue.
func (m *Message) IsUrgent() bool { return m.Flags&FlagUrgent != 0 }

// NewAnnouncement returns an announcement: no reply wanted.
func NewAnnouncement(name string, data []byte) *Message {
	return &Message{Name: name, Data: data}
}

// NewRequest returns a request: its replier must answer it.
func NewRequest(name string, data []byte) *Message {
	return &Message{Name: name, Data: data, Flags: FlagWantAReply}
}

// ErrNotForUs is returned by ReplyTo for a message that this Ksock is not
// the replier of.
const ErrNotForUs = sentinel("kbus: the message is not a request we are to reply to")

// ErrNotStateful is returned by StatefulRequest for a message that is
// neither a reply nor a stateful request.
const ErrNotStateful = sentinel("kbus: a stateful request needs a reply or a stateful request to follow")

// ReplyTo returns the reply to req, which must have been delivered to us as
// its replier: same name, to its sender, in reply to its id.
func ReplyTo(req *Message, data []byte) (*Message, error) {
	if !req.WantsUsToReply() {
		return nil, ErrNotForUs
	}
	return &Message{Name: req.Name, Data: data, To: req.From, InReplyTo: req.ID}, nil
}

// StatefulRequest returns a request addressed to the Ksock that sent the
// reply earlier (or that the stateful request earlier was addressed to):
// if another Ksock has become the replier meanwhile, SEND fails with EPIPE.
func StatefulRequest(earlier *Message, name string, data []byte) (*Message, error) {
	m := &Message{Name: name, Data: data, Flags: FlagWantAReply}
	switch {
	case earlier.IsReply():
		m.To, m.FinalTo = earlier.From, earlier.OrigFrom
	case earlier.IsStatefulRequest():
		m.To, m.FinalTo = earlier.To, earlier.FinalTo
	default:
		return nil, ErrNotStateful
	}
	return m, nil
}

// BindEvent decodes a ReplierBindEvent's data.
func (m *Message) BindEvent() (raw.BindEvent, error) {
	if m.Name != NameReplierBindEvent {
		return raw.BindEvent{}, fmt.Errorf("kbus: %s is not a %s", m.Name, NameReplierBindEvent)
	}
	return raw.DecodeBindEvent(m.Data)
}

func (m *Message) header() raw.Header {
	return raw.Header{
		ID:        raw.MsgID{Network: m.ID.Network, Serial: m.ID.Serial},
		InReplyTo: raw.MsgID{Network: m.InReplyTo.Network, Serial: m.InReplyTo.Serial},
		To:        m.To, From: m.From,
		OrigFrom: raw.OrigFrom{Network: m.OrigFrom.Network, Local: m.OrigFrom.Local},
		FinalTo:  raw.OrigFrom{Network: m.FinalTo.Network, Local: m.FinalTo.Local},
		Flags:    m.Flags,
	}
}

// Bytes returns the message's entire form for this program's layout.
func (m *Message) Bytes() []byte { return raw.Native.EncodeEntire(m.header(), m.Name, m.Data) }

// FromBytes decodes a message in entire form.
func FromBytes(b []byte) (*Message, error) {
	h, name, data, err := raw.Native.DecodeEntire(b)
	if err != nil {
		return nil, err
	}
	return &Message{
		ID:        MessageID{h.ID.Network, h.ID.Serial},
		InReplyTo: MessageID{h.InReplyTo.Network, h.InReplyTo.Serial},
		To:        h.To, From: h.From,
		OrigFrom: OrigFrom{h.OrigFrom.Network, h.OrigFrom.Local},
		FinalTo:  OrigFrom{h.FinalTo.Network, h.FinalTo.Local},
		Flags:    h.Flags, Name: name, Data: data,
	}, nil
}

var flagWords = []struct {
	bit  uint32
	word string
}{
	{FlagWantAReply, "REQ"}, {FlagWantYouToReply, "YOU"}, {FlagSynthetic, "SYN"},
	{FlagUrgent, "URG"}, {FlagAllOrFail, "aFL"}, {FlagAllOrWait, "aWT"},
}

// String renders the message in KBUS's printed form (docs/kbus.md §14.4), e.g.
// <Request '$.Actor.Ask', id=[0:342], from=113, flags=0x3 (REQ,YOU), data='Why?'>.
func (m *Message) String() string {
	kind := m.Kind()
	var parts []string
	if kind != KindReplierBindEvent {
		parts = append(parts, pyRepr([]byte(m.Name)))
	}
	if !m.ID.IsZero() {
		parts = append(parts, "id="+m.ID.String())
	}
	if m.To != 0 {
		parts = append(parts, fmt.Sprintf("to=%d", m.To))
	}
	if m.From != 0 {
		parts = append(parts, fmt.Sprintf("from=%d", m.From))
	}
	if !m.OrigFrom.IsZero() {
		parts = append(parts, "orig_from="+m.OrigFrom.String())
	}
	if !m.FinalTo.IsZero() {
		parts = append(parts, "final_to="+m.FinalTo.String())
	}
	if !m.InReplyTo.IsZero() {
		parts = append(parts, "in_reply_to="+m.InReplyTo.String())
	}
	if m.Flags != 0 {
		var words []string
		for _, f := range flagWords {
			if m.Flags&f.bit != 0 {
				words = append(words, f.word)
			}
		}
		s := fmt.Sprintf("flags=0x%x", m.Flags)
		if len(words) > 0 {
			s += " (" + strings.Join(words, ",") + ")"
		}
		parts = append(parts, s)
	}
	if kind == KindReplierBindEvent {
		if ev, err := raw.DecodeBindEvent(m.Data); err == nil {
			what := "Unbind"
			if ev.IsBind {
				what = "Bind"
			}
			parts = append(parts, fmt.Sprintf("[%s %s for %d]", what, pyRepr([]byte(ev.Name)), ev.Binder))
		}
	} else if len(m.Data) > 0 {
		parts = append(parts, "data="+pyRepr(m.Data))
	}
	return "<" + kind.String() + " " + strings.Join(parts, ", ") + ">"
}

// pyRepr quotes bytes the way Python's repr quotes a (byte) string.
func pyRepr(b []byte) string {
	quote := byte('\'')
	if strings.IndexByte(string(b), '\'') >= 0 && strings.IndexByte(string(b), '"') < 0 {
		quote = '"'
	}
	var sb strings.Builder
	sb.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(quote)
	return sb.String()
}
