package limpet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
)

func TestFrameRoundTrip(t *testing.T) {
	msgs := []*kbus.Message{
		{ID: kbus.MessageID{Network: 2, Serial: 7}, From: 3, Name: "$.Fred", Flags: 1, Data: []byte("12345")},
		{InReplyTo: kbus.MessageID{Network: 1, Serial: 9}, To: 4, OrigFrom: kbus.OrigFrom{Network: 2, Local: 5}, Name: "$.A.B"},
		{Name: kbus.NameReplierBindEvent, Flags: 0x204, Data: raw.EncodeBindEvent(raw.BindEvent{IsBind: true, Binder: 6, Name: "$.S.*"})},
	}
	var buf bytes.Buffer
	for _, m := range msgs {
		if err := WriteFrame(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range msgs {
		got, err := ReadFrame(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("got %v\nwant %v", got, want)
		}
	}
	if _, err := ReadFrame(&buf); err != io.EOF {
		t.Errorf("end of stream: %v", err)
	}
}

func TestFrameLayoutIsBigEndian(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFrame(&buf, &kbus.Message{ID: kbus.MessageID{Serial: 0x01020304}, Name: "$.Fred", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) != 64+8+4+4 {
		t.Fatalf("length %d", len(b))
	}
	if !bytes.Equal(b[:4], []byte{0x73, 0x75, 0x62, 0x4B}) || !bytes.Equal(b[8:12], []byte{1, 2, 3, 4}) {
		t.Errorf("header % x", b[:12])
	}
	if binary.BigEndian.Uint32(b[len(b)-4:]) != raw.EndGuard {
		t.Error("final guard")
	}
}

func TestMalformedFramesAreRefused(t *testing.T) {
	var good bytes.Buffer
	WriteFrame(&good, &kbus.Message{Name: "$.Fred", Data: []byte("data")})
	cases := map[string]func([]byte) []byte{
		"start guard":  func(b []byte) []byte { b[0]++; return b },
		"header guard": func(b []byte) []byte { b[60]++; return b },
		"final guard":  func(b []byte) []byte { b[len(b)-1]++; return b },
		"name length":  func(b []byte) []byte { binary.BigEndian.PutUint32(b[52:], 5000); return b },
		"data length":  func(b []byte) []byte { binary.BigEndian.PutUint32(b[56:], MaxFrameData+1); return b },
		"bad name":     func(b []byte) []byte { b[66] = '-'; return b },
		"truncated":    func(b []byte) []byte { return b[:70] },
	}
	for name, mutate := range cases {
		b := mutate(append([]byte(nil), good.Bytes()...))
		if _, err := ReadFrame(bytes.NewReader(b)); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	var b bytes.Buffer
	WriteFrame(&b, &kbus.Message{Name: "$.Fred", Data: []byte("seed")})
	f.Add(b.Bytes())
	b.Reset()
	WriteFrame(&b, &kbus.Message{Name: kbus.NameReplierBindEvent, Data: raw.EncodeBindEvent(raw.BindEvent{Name: "$.X"})})
	f.Add(b.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ReadFrame(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteFrame(&out, m); err != nil {
			t.Fatal(err)
		}
		again, err := ReadFrame(&out)
		if err != nil || again.String() != m.String() {
			t.Fatalf("re-encoding changed %v into %v (%v)", m, again, err)
		}
	})
}
