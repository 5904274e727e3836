package raw

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"
)

func TestHeaderLayouts(t *testing.T) {
	cases := []struct {
		l                                   Layout
		size, name, data, guard, bindStruct int
	}{
		{ILP32, 72, 60, 64, 68, 12},
		{LP64, 88, 64, 72, 80, 16},
	}
	for _, c := range cases {
		if c.l.HeaderSize() != c.size || c.l.NameOffset() != c.name || c.l.DataOffset() != c.data ||
			c.l.EndGuardOffset() != c.guard || c.l.BindRequestSize() != c.bindStruct {
			t.Errorf("ptr %d: size %d name %d data %d guard %d bind %d", c.l.PtrSize, c.l.HeaderSize(),
				c.l.NameOffset(), c.l.DataOffset(), c.l.EndGuardOffset(), c.l.BindRequestSize())
		}
	}
}

func TestEntireLengthsFromTheReference(t *testing.T) {
	for _, c := range []struct {
		l        Layout
		data     uint32
		expected int
	}{{ILP32, 0, 84}, {LP64, 0, 100}, {ILP32, 7, 92}, {LP64, 7, 108}} {
		if got := c.l.EntireLen(6, c.data); got != c.expected {
			t.Errorf("ptr %d, $.Fred with %d data bytes: %d, want %d", c.l.PtrSize, c.data, got, c.expected)
		}
	}
	if PaddedNameLen(3) != 4 || PaddedNameLen(4) != 8 || PaddedDataLen(0) != 0 || PaddedDataLen(5) != 8 {
		t.Error("padding formulas")
	}
}

// The entire form of "$.Fred" with data "1234567", built byte by byte as
// docs/kbus.md §4.1 describes it, for the 32-bit layout.
func TestEncodeEntireByteForByteILP32(t *testing.T) {
	h := Header{ID: MsgID{0, 5}, To: 7, From: 9, Flags: FlagWantAReply | 0x10000}
	got := ILP32.EncodeEntire(h, "$.Fred", []byte("1234567"))
	var want bytes.Buffer
	u32 := func(v uint32) { want.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}) }
	u32(0x7375624B)                    // start guard
	u32(0)                             // id.network_id
	u32(5)                             // id.serial_num
	u32(0)                             // in_reply_to
	u32(0)                             //
	u32(7)                             // to
	u32(9)                             // from
	u32(0)                             // orig_from
	u32(0)                             //
	u32(0)                             // final_to
	u32(0)                             //
	u32(0)                             // extra
	u32(0x10001)                       // flags
	u32(6)                             // name_len
	u32(7)                             // data_len
	u32(0)                             // name pointer
	u32(0)                             // data pointer
	u32(0x4B627573)                    // end guard
	want.WriteString("$.Fred\x00\x00") // name, NUL and padding to 8
	want.WriteString("1234567\x00")    // data and padding to 8
	u32(0x4B627573)                    // final end guard
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("encoding differs:\n got %x\nwant %x", got, want.Bytes())
	}
	if len(got) != 92 {
		t.Errorf("length %d, want 92", len(got))
	}
}

func TestEncodeEntireLP64HasPaddingAndWidePointers(t *testing.T) {
	b := LP64.EncodeEntire(Header{}, "$.Fred", nil)
	if len(b) != 100 {
		t.Fatalf("length %d", len(b))
	}
	for i := 60; i < 80; i++ {
		if b[i] != 0 {
			t.Errorf("byte %d = %#x, want 0 (padding and NULL pointers)", i, b[i])
		}
	}
	if Order.Uint32(b[80:]) != EndGuard || Order.Uint32(b[96:]) != EndGuard {
		t.Error("guards misplaced")
	}
}

func TestDecodeEntireRoundTrip(t *testing.T) {
	for _, l := range []Layout{ILP32, LP64} {
		h := Header{ID: MsgID{1, 2}, InReplyTo: MsgID{3, 4}, To: 5, From: 6, OrigFrom: OrigFrom{7, 8},
			FinalTo: OrigFrom{9, 10}, Flags: 0xFFFF0003}
		b := l.EncodeEntire(h, "$.A.B", []byte{0, 1, 2, 0xff})
		got, name, data, err := l.DecodeEntire(b)
		if err != nil {
			t.Fatal(err)
		}
		h.NameLen, h.DataLen = 5, 4
		if got != h || name != "$.A.B" || !bytes.Equal(data, []byte{0, 1, 2, 0xff}) {
			t.Errorf("ptr %d: got %+v %q %x", l.PtrSize, got, name, data)
		}
	}
}

func TestDecodeRejectsBrokenMessages(t *testing.T) {
	good := LP64.EncodeEntire(Header{}, "$.Fred", []byte("x"))
	cases := map[string]func([]byte) []byte{
		"start guard": func(b []byte) []byte { b[0] ^= 1; return b },
		"header end":  func(b []byte) []byte { b[80] ^= 1; return b },
		"final guard": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"short":       func(b []byte) []byte { return b[:len(b)-4] },
		"pointy":      func(b []byte) []byte { b[64] = 1; return b },
	}
	want := map[string]error{"start guard": ErrStartGuard, "header end": ErrEndGuard,
		"final guard": ErrEndGuard, "short": ErrShort, "pointy": ErrPointy}
	for name, mutate := range cases {
		b := mutate(append([]byte(nil), good...))
		if _, _, _, err := LP64.DecodeEntire(b); !errors.Is(err, want[name]) {
			t.Errorf("%s: err %v, want %v", name, err, want[name])
		}
	}
}

func TestPointyHeaderCarriesPointers(t *testing.T) {
	b := ILP32.EncodePointy(Header{NameLen: 6}, 0x1000, 0x2000)
	_, np, dp, err := ILP32.DecodeHeader(b)
	if err != nil || np != 0x1000 || dp != 0x2000 {
		t.Errorf("pointers %#x %#x, %v", np, dp, err)
	}
	if Order.Uint32(b[60:]) != 0x1000 || Order.Uint32(b[64:]) != 0x2000 {
		t.Error("ILP32 pointers not at offsets 60 and 64")
	}
}

func TestIoctlNumbersFromTheReference(t *testing.T) {
	lp64 := map[int]uint32{1: 0x00006B01, 2: 0x40086B02, 3: 0x40086B03, 4: 0x80086B04, 5: 0xC0086B05,
		6: 0x80086B06, 7: 0x80086B07, 8: 0x80086B08, 9: 0x00006B09, 10: 0x80086B0A, 11: 0xC0086B0B,
		12: 0x80086B0C, 13: 0x80086B0D, 14: 0xC0086B0E, 15: 0xC0086B0F, 16: 0x80086B10,
		17: 0xC0086B11, 18: 0xC0086B12, 19: 0xC0086B13, 20: 0xC0086B14, 21: 0xC0086B15}
	ilp32 := map[int]uint32{1: 0x00006B01, 2: 0x40046B02, 3: 0x40046B03, 4: 0x80046B04, 5: 0xC0046B05,
		6: 0x80046B06, 7: 0x80046B07, 8: 0x80046B08, 9: 0x00006B09, 10: 0x80046B0A, 11: 0xC0046B0B,
		12: 0x80046B0C, 13: 0x80046B0D, 14: 0xC0046B0E, 15: 0xC0046B0F, 16: 0x80046B10,
		17: 0xC0046B11, 18: 0xC0046B12, 19: 0xC0046B13, 20: 0xC0046B14, 21: 0xC0046B15}
	for nr := 1; nr <= MaxNrExt; nr++ {
		if got := LP64.Ioctl(nr); got != lp64[nr] {
			t.Errorf("LP64 nr %d: %#08x, want %#08x", nr, got, lp64[nr])
		}
		if got := ILP32.Ioctl(nr); got != ilp32[nr] {
			t.Errorf("ILP32 nr %d: %#08x, want %#08x", nr, got, ilp32[nr])
		}
	}
}

func TestBindEventRoundTrip(t *testing.T) {
	e := BindEvent{IsBind: true, Binder: 6, Name: "$.Fred"}
	b := EncodeBindEvent(e)
	if len(b) != 12+8 {
		t.Errorf("length %d, want 20", len(b))
	}
	got, err := DecodeBindEvent(b)
	if err != nil || got != e {
		t.Errorf("%+v %v", got, err)
	}
	if _, err := DecodeBindEvent(b[:10]); !errors.Is(err, ErrShort) {
		t.Errorf("short data: %v", err)
	}
}

func TestTheGoMirrorsHaveTheCLayout(t *testing.T) {
	if got := int(unsafe.Sizeof(BindRequest{})); got != Native.BindRequestSize() {
		t.Errorf("BindRequest is %d bytes, struct kbus_bind_request %d", got, Native.BindRequestSize())
	}
	if got := int(unsafe.Sizeof(Receive{})); got != Native.ReceiveSize() {
		t.Errorf("Receive is %d bytes, struct kbus_receive %d", got, Native.ReceiveSize())
	}
	if off := unsafe.Offsetof(Receive{}.Buf); off != 8 {
		t.Errorf("Receive.Buf at %d", off)
	}
}

func TestSplitEntireCutsBackToBackMessages(t *testing.T) {
	for name, l := range map[string]Layout{"ILP32": ILP32, "LP64": LP64} {
		var buf []byte
		for i, msg := range []string{"", "a", "abcd", "abcde"} {
			buf = append(buf, l.EncodeEntire(Header{Extra: uint32(i), NameLen: 3, DataLen: uint32(len(msg))},
				"$.x", []byte(msg))...)
		}
		buf = append(buf, 0xEE)
		msgs, rest, err := l.SplitEntire(buf, 4)
		if err != nil || len(msgs) != 4 || len(rest) != 1 {
			t.Fatalf("%s: %d messages, %d bytes left, %v", name, len(msgs), len(rest), err)
		}
		for i, m := range msgs {
			h, _, data, err := l.DecodeEntire(m)
			if err != nil || h.Extra != uint32(i) || cap(m) != len(m) {
				t.Errorf("%s: message %d: extra %d, %q, cap %d of %d, %v", name, i, h.Extra, data, cap(m), len(m), err)
			}
		}
		if _, _, err := l.SplitEntire(buf[:len(buf)-5], 4); !errors.Is(err, ErrShort) {
			t.Errorf("%s: a cut last message: %v, want ErrShort", name, err)
		}
		if msgs, _, err := l.SplitEntire(buf, 5); err == nil || len(msgs) != 4 {
			t.Errorf("%s: one more than there are: %d messages, %v", name, len(msgs), err)
		}
	}
}
