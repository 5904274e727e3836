// Package raw is KBUS's binary interface: the message header in its 32-bit
// (ILP32) and 64-bit (LP64) layouts, the "entire" and "pointy" message
// forms, the bind structures and the ioctl numbers. It is independent of
// the Ksock API so that tests can build and check byte layouts by hand.
//
// All integers are in the host's byte order (little-endian on every
// architecture the rig targets).
package raw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Guards around every message header and at the end of an entire message.
const (
	StartGuard uint32 = 0x7375624B
	EndGuard   uint32 = 0x4B627573
)

// Names of the messages KBUS itself sends: the module's list is
// the KBUS_MSG_NAME_* macros of the uapi header, and a test checks that
// the two agree.
const (
	NameReplierBindEvent   = "$.KBUS.ReplierBindEvent"
	NameReplierUnbound     = "$.KBUS.Replier.Unbound"
	NameReplierGoneAway    = "$.KBUS.Replier.GoneAway"
	NameReplierIgnored     = "$.KBUS.Replier.Ignored"
	NameReplierDisappeared = "$.KBUS.Replier.Disappeared"
	NameErrorSending       = "$.KBUS.ErrorSending"
	NameUnbindEventsLost   = "$.KBUS.UnbindEventsLost"
)

// MaxNameLen is the longest message name KBUS accepts.
const MaxNameLen = 1000

// Message flags.
const (
	FlagWantAReply     uint32 = 0x00000001
	FlagWantYouToReply uint32 = 0x00000002
	FlagSynthetic      uint32 = 0x00000004
	FlagUrgent         uint32 = 0x00000008
	FlagAllOrWait      uint32 = 0x00000100
	FlagAllOrFail      uint32 = 0x00000200
)

// Order is the byte order of the ABI on the rig's targets.
var Order = binary.LittleEndian

// Layout is the header layout for one pointer width.
type Layout struct {
	PtrSize int // 4 (ILP32) or 8 (LP64)
}

// Native is the layout of the running program. A 32-bit program on a
// 64-bit kernel uses its own (ILP32) layout: the module translates.
var Native = Layout{PtrSize: int(unsafe.Sizeof(uintptr(0)))}

// Layouts by name, for tests.
var (
	ILP32 = Layout{PtrSize: 4}
	LP64  = Layout{PtrSize: 8}
)

// Offsets of the header fields that do not depend on the pointer size.
const (
	offStartGuard   = 0
	offIDNetwork    = 4
	offIDSerial     = 8
	offReplyNetwork = 12
	offReplySerial  = 16
	offTo           = 20
	offFrom         = 24
	offOrigNetwork  = 28
	offOrigLocal    = 32
	offFinalNetwork = 36
	offFinalLocal   = 40
	offExtra        = 44
	offFlags        = 48
	offNameLen      = 52
	offDataLen      = 56
)

// NameOffset is the offset of the name pointer.
func (l Layout) NameOffset() int {
	if l.PtrSize == 8 {
		return 64
	}
	return 60
}

// DataOffset is the offset of the data pointer.
func (l Layout) DataOffset() int { return l.NameOffset() + l.PtrSize }

// EndGuardOffset is the offset of the header's end guard.
func (l Layout) EndGuardOffset() int { return l.DataOffset() + l.PtrSize }

// HeaderSize is sizeof(struct kbus_message_header): 72 or 88.
func (l Layout) HeaderSize() int {
	if l.PtrSize == 8 {
		return 88
	}
	return 72
}

// PaddedNameLen is the name's length with its NUL, rounded up to 4.
func PaddedNameLen(n uint32) uint32 { return 4 * ((n + 1 + 3) / 4) }

// PaddedDataLen is the data's length rounded up to 4.
func PaddedDataLen(n uint32) uint32 { return 4 * ((n + 3) / 4) }

// EntireLen is the length of a message in entire form.
func (l Layout) EntireLen(nameLen, dataLen uint32) int {
	return l.HeaderSize() + int(PaddedNameLen(nameLen)) + int(PaddedDataLen(dataLen)) + 4
}

// MsgID is a message id: {0,0} means none.
type MsgID struct{ Network, Serial uint32 }

// OrigFrom names a Ksock on a (possibly remote) bus.
type OrigFrom struct{ Network, Local uint32 }

// Header is the header's content, without guards and pointers.
type Header struct {
	ID        MsgID
	InReplyTo MsgID
	To        uint32
	From      uint32
	OrigFrom  OrigFrom
	FinalTo   OrigFrom
	Extra     uint32
	Flags     uint32
	NameLen   uint32
	DataLen   uint32
}

// Errors from Decode.
var (
	ErrShort      = errors.New("kbus/raw: message shorter than its header says")
	ErrStartGuard = errors.New("kbus/raw: bad start guard")
	ErrEndGuard   = errors.New("kbus/raw: bad end guard")
	ErrPointy     = errors.New("kbus/raw: pointy message where an entire one was expected")
)

// PutHeader writes h with guards into b (at least HeaderSize bytes), with
// the name and data pointers given (0 for the entire form).
func (l Layout) PutHeader(b []byte, h Header, namePtr, dataPtr uint64) {
	Order.PutUint32(b[offStartGuard:], StartGuard)
	Order.PutUint32(b[offIDNetwork:], h.ID.Network)
	Order.PutUint32(b[offIDSerial:], h.ID.Serial)
	Order.PutUint32(b[offReplyNetwork:], h.InReplyTo.Network)
	Order.PutUint32(b[offReplySerial:], h.InReplyTo.Serial)
	Order.PutUint32(b[offTo:], h.To)
	Order.PutUint32(b[offFrom:], h.From)
	Order.PutUint32(b[offOrigNetwork:], h.OrigFrom.Network)
	Order.PutUint32(b[offOrigLocal:], h.OrigFrom.Local)
	Order.PutUint32(b[offFinalNetwork:], h.FinalTo.Network)
	Order.PutUint32(b[offFinalLocal:], h.FinalTo.Local)
	Order.PutUint32(b[offExtra:], h.Extra)
	Order.PutUint32(b[offFlags:], h.Flags)
	Order.PutUint32(b[offNameLen:], h.NameLen)
	Order.PutUint32(b[offDataLen:], h.DataLen)
	for i := offDataLen + 4; i < l.HeaderSize(); i++ {
		b[i] = 0
	}
	l.putPtr(b[l.NameOffset():], namePtr)
	l.putPtr(b[l.DataOffset():], dataPtr)
	Order.PutUint32(b[l.EndGuardOffset():], EndGuard)
}

func (l Layout) putPtr(b []byte, p uint64) {
	if l.PtrSize == 8 {
		Order.PutUint64(b, p)
	} else {
		Order.PutUint32(b, uint32(p))
	}
}

func (l Layout) ptr(b []byte) uint64 {
	if l.PtrSize == 8 {
		return Order.Uint64(b)
	}
	return uint64(Order.Uint32(b))
}

// EncodeEntire returns the entire form of a message.
func (l Layout) EncodeEntire(h Header, name string, data []byte) []byte {
	h.NameLen = uint32(len(name))
	h.DataLen = uint32(len(data))
	b := make([]byte, l.EntireLen(h.NameLen, h.DataLen))
	l.PutHeader(b, h, 0, 0)
	off := l.HeaderSize()
	copy(b[off:], name)
	off += int(PaddedNameLen(h.NameLen))
	copy(b[off:], data)
	off += int(PaddedDataLen(h.DataLen))
	Order.PutUint32(b[off:], EndGuard)
	return b
}

// EncodePointy returns a pointy header: name and data live elsewhere, at
// the given addresses.
func (l Layout) EncodePointy(h Header, namePtr, dataPtr uint64) []byte {
	b := make([]byte, l.HeaderSize())
	l.PutHeader(b, h, namePtr, dataPtr)
	return b
}

// DecodeHeader reads a header, checking both guards, and returns the name
// and data pointers too.
func (l Layout) DecodeHeader(b []byte) (h Header, namePtr, dataPtr uint64, err error) {
	if len(b) < l.HeaderSize() {
		return h, 0, 0, ErrShort
	}
	if g := Order.Uint32(b[offStartGuard:]); g != StartGuard {
		return h, 0, 0, fmt.Errorf("%w 0x%08x", ErrStartGuard, g)
	}
	if g := Order.Uint32(b[l.EndGuardOffset():]); g != EndGuard {
		return h, 0, 0, fmt.Errorf("%w 0x%08x in the header", ErrEndGuard, g)
	}
	h = Header{
		ID:        MsgID{Order.Uint32(b[offIDNetwork:]), Order.Uint32(b[offIDSerial:])},
		InReplyTo: MsgID{Order.Uint32(b[offReplyNetwork:]), Order.Uint32(b[offReplySerial:])},
		To:        Order.Uint32(b[offTo:]),
		From:      Order.Uint32(b[offFrom:]),
		OrigFrom:  OrigFrom{Order.Uint32(b[offOrigNetwork:]), Order.Uint32(b[offOrigLocal:])},
		FinalTo:   OrigFrom{Order.Uint32(b[offFinalNetwork:]), Order.Uint32(b[offFinalLocal:])},
		Extra:     Order.Uint32(b[offExtra:]),
		Flags:     Order.Uint32(b[offFlags:]),
		NameLen:   Order.Uint32(b[offNameLen:]),
		DataLen:   Order.Uint32(b[offDataLen:]),
	}
	return h, l.ptr(b[l.NameOffset():]), l.ptr(b[l.DataOffset():]), nil
}

// DecodeEntire reads a message in entire form: header, name, data.
func (l Layout) DecodeEntire(b []byte) (h Header, name string, data []byte, err error) {
	h, np, dp, err := l.DecodeHeader(b)
	if err != nil {
		return h, "", nil, err
	}
	if np != 0 || dp != 0 {
		return h, "", nil, ErrPointy
	}
	if h.NameLen > MaxNameLen {
		return h, "", nil, fmt.Errorf("kbus/raw: name length %d exceeds %d", h.NameLen, MaxNameLen)
	}
	if len(b) < l.EntireLen(h.NameLen, h.DataLen) {
		return h, "", nil, ErrShort
	}
	off := l.HeaderSize()
	name = string(b[off : off+int(h.NameLen)])
	off += int(PaddedNameLen(h.NameLen))
	if h.DataLen > 0 {
		data = append([]byte(nil), b[off:off+int(h.DataLen)]...)
	}
	off += int(PaddedDataLen(h.DataLen))
	if g := Order.Uint32(b[off:]); g != EndGuard {
		return h, "", nil, fmt.Errorf("%w 0x%08x at the end", ErrEndGuard, g)
	}
	return h, name, data, nil
}
