package kbus

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/kbus-project/kbus/kbus/raw"
)

func TestPrintedFormsFromTheReference(t *testing.T) {
	cases := []struct {
		m    *Message
		want string
	}{
		{&Message{Name: "$.Actor.Speak", ID: MessageID{0, 338}, From: 113, Data: []byte("Ahem")},
			`<Announcement '$.Actor.Speak', id=[0:338], from=113, data='Ahem'>`},
		{&Message{Name: "$.Actor.Ask", ID: MessageID{0, 342}, From: 113, Flags: 3, Data: []byte("Why?")},
			`<Request '$.Actor.Ask', id=[0:342], from=113, flags=0x3 (REQ,YOU), data='Why?'>`},
		{&Message{Name: "$.Actor.Ask", ID: MessageID{0, 343}, To: 113, From: 115, InReplyTo: MessageID{0, 342},
			Data: []byte("Because")},
			`<Reply '$.Actor.Ask', id=[0:343], to=113, from=115, in_reply_to=[0:342], data='Because'>`},
		{&Message{Name: NameReplierGoneAway, ID: MessageID{0, 12}, To: 5, From: 6, InReplyTo: MessageID{0, 10},
			Flags: FlagSynthetic},
			`<Status '$.KBUS.Replier.GoneAway', id=[0:12], to=5, from=6, in_reply_to=[0:10], flags=0x4 (SYN)>`},
		{&Message{Name: NameReplierBindEvent, ID: MessageID{0, 20}, Flags: 0x204,
			Data: raw.EncodeBindEvent(raw.BindEvent{IsBind: true, Binder: 6, Name: "$.Fred"})},
			`<ReplierBindEvent id=[0:20], flags=0x204 (SYN,aFL), [Bind '$.Fred' for 6]>`},
		{&Message{Name: "$.Actor.Ask.Guildenstern", ID: MessageID{0, 342}, From: 113, Flags: 3,
			Data: []byte("Were you speaking to me?")},
			`<Request '$.Actor.Ask.Guildenstern', id=[0:342], from=113, flags=0x3 (REQ,YOU), data='Were you speaking to me?'>`},
		{&Message{Name: "$.X", OrigFrom: OrigFrom{1, 2}, FinalTo: OrigFrom{3, 4}, Flags: 0x10000, Data: []byte("it's\n\x00")},
			`<Announcement '$.X', orig_from=(1,2), final_to=(3,4), flags=0x10000, data="it's\n\x00">`},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.want {
			t.Errorf("\n got %s\nwant %s", got, c.want)
		}
	}
}

func TestReplyToAndStatefulRequest(t *testing.T) {
	req := &Message{Name: "$.Ask", ID: MessageID{0, 7}, From: 3, Flags: FlagWantAReply | FlagWantYouToReply}
	rep, err := ReplyTo(req, []byte("yes"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.To != 3 || rep.InReplyTo != req.ID || rep.Name != "$.Ask" || rep.IsRequest() || rep.Kind() != KindReply {
		t.Errorf("reply %v", rep)
	}
	if _, err := ReplyTo(&Message{Name: "$.Ask", Flags: FlagWantAReply}, nil); !errors.Is(err, ErrNotForUs) {
		t.Errorf("listener copy: %v", err)
	}
	rep.From, rep.OrigFrom = 9, OrigFrom{2, 11}
	st, err := StatefulRequest(rep, "$.Ask.Again", nil)
	if err != nil || st.To != 9 || st.FinalTo != (OrigFrom{2, 11}) || !st.IsStatefulRequest() {
		t.Errorf("stateful %v %v", st, err)
	}
	st2, err := StatefulRequest(st, "$.Ask.Third", nil)
	if err != nil || st2.To != 9 || st2.FinalTo != st.FinalTo {
		t.Errorf("from a stateful request: %v %v", st2, err)
	}
	if _, err := StatefulRequest(NewAnnouncement("$.A", nil), "$.B", nil); !errors.Is(err, ErrNotStateful) {
		t.Errorf("from an announcement: %v", err)
	}
}

func TestMessageBytesRoundTrip(t *testing.T) {
	m := &Message{ID: MessageID{1, 2}, InReplyTo: MessageID{3, 4}, To: 5, From: 6, OrigFrom: OrigFrom{7, 8},
		FinalTo: OrigFrom{9, 10}, Flags: 0x10001, Name: "$.Round.Trip", Data: []byte{1, 2, 3}}
	got, err := FromBytes(m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != m.String() {
		t.Errorf("got %v, want %v", got, m)
	}
}

func TestErrorsWorkWithErrorsIs(t *testing.T) {
	err := wrap("send", 0, syscall.EADDRNOTAVAIL)
	if !errors.Is(err, ErrNoReplier) || !errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, ErrQueueFull) {
		t.Errorf("errors.Is does not see through %v", err)
	}
	want := "kbus0: send: EADDRNOTAVAIL: no replier is bound for the request, or the Ksock the reply is for has gone"
	if err.Error() != want {
		t.Errorf("message %q", err.Error())
	}
	seen := map[Errno]bool{}
	for _, e := range Errnos() {
		if seen[e] {
			t.Errorf("errno %v listed twice", e.Name())
		}
		seen[e] = true
		if got, ok := ErrnoFor(syscall.Errno(e)); !ok || got != e || e.Meaning() == "" {
			t.Errorf("%s", e.Name())
		}
	}
	if doc := documentedErrnos(t); len(doc) != len(seen) {
		t.Errorf("%d errnos, docs/kbus.md §13 names %d", len(seen), len(doc))
	} else {
		for _, e := range Errnos() {
			if !doc[e.Name()] {
				t.Errorf("%s is not in docs/kbus.md §13", e.Name())
			}
		}
	}
	if _, ok := ErrnoFor(syscall.ESRCH); ok {
		t.Error("ESRCH is not one of KBUS's errnos")
	}
	if got := Errno(syscall.ESRCH).Error(); got != syscall.ESRCH.Error() {
		t.Errorf("an errno KBUS does not use reads %q", got)
	}
}

func TestEveryErrnoHasSituations(t *testing.T) {
	for _, e := range Errnos() {
		if len(e.Situations()) == 0 {
			t.Errorf("%s has no situations", e.Name())
		}
	}
}

// documentedErrnos are the errnos of docs/kbus.md §13's table, by name;
// ERESTARTSYS is the kernel's name for an EINTR that KBUS restarts.
func documentedErrnos(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../docs/kbus.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## 13. Errors\n")
	if !ok {
		t.Fatal("docs/kbus.md has no §13")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	names := map[string]bool{}
	for _, line := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(line, "| E") {
			continue
		}
		name := strings.Fields(strings.TrimPrefix(line, "| "))[0]
		if name != "ERESTARTSYS" {
			names[name] = true
		}
	}
	return names
}
