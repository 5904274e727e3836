// The wire format between two Limpets (docs/kbus.md §15.3): after the HELO
// exchange, each message is sixteen big-endian u32 header words, the name
// zero-padded to a multiple of four with at least one NUL, the data
// likewise padded (only when there is data), and a final end guard.

package limpet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
)

// MaxFrameData bounds the data a peer may send in one frame, so that a
// malformed or hostile frame cannot make us allocate without limit.
const MaxFrameData = 1 << 20

// ErrFrame is wrapped by every error about a malformed frame.
var ErrFrame = errors.New("malformed limpet frame")

func frameErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrFrame, fmt.Sprintf(format, a...))
}

// WriteFrame writes m in the Limpet wire format. The data of a
// $.KBUS.ReplierBindEvent has its three u32 fields converted to network
// order, as docs/kbus.md §15.3 says.
func WriteFrame(w io.Writer, m *kbus.Message) error {
	data := m.Data
	if m.Name == kbus.NameReplierBindEvent && len(data) >= 12 {
		data = append([]byte(nil), data...)
		for i := 0; i < 12; i += 4 {
			binary.BigEndian.PutUint32(data[i:], raw.Order.Uint32(m.Data[i:]))
		}
	}
	nameLen, dataLen := uint32(len(m.Name)), uint32(len(data))
	size := 64 + raw.PaddedNameLen(nameLen) + 4
	if dataLen > 0 {
		size += raw.PaddedDataLen(dataLen)
	}
	b := make([]byte, size)
	words := []uint32{raw.StartGuard, m.ID.Network, m.ID.Serial, m.InReplyTo.Network, m.InReplyTo.Serial,
		m.To, m.From, m.OrigFrom.Network, m.OrigFrom.Local, m.FinalTo.Network, m.FinalTo.Local, 0,
		m.Flags, nameLen, dataLen, raw.EndGuard}
	for i, v := range words {
		binary.BigEndian.PutUint32(b[4*i:], v)
	}
	off := 64
	copy(b[off:], m.Name)
	off += int(raw.PaddedNameLen(nameLen))
	if dataLen > 0 {
		copy(b[off:], data)
		off += int(raw.PaddedDataLen(dataLen))
	}
	binary.BigEndian.PutUint32(b[off:], raw.EndGuard)
	_, err := w.Write(b)
	return err
}

// ReadFrame reads one message. Any malformation is an error wrapping
// ErrFrame; an orderly end of the stream before a frame is io.EOF.
func ReadFrame(r io.Reader) (*kbus.Message, error) {
	var h [64]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, frameErr("truncated header")
		}
		return nil, err
	}
	w := func(i int) uint32 { return binary.BigEndian.Uint32(h[4*i:]) }
	if w(0) != raw.StartGuard {
		return nil, frameErr("start guard %#08x", w(0))
	}
	if w(15) != raw.EndGuard {
		return nil, frameErr("header end guard %#08x", w(15))
	}
	nameLen, dataLen := w(13), w(14)
	if nameLen == 0 || nameLen > raw.MaxNameLen {
		return nil, frameErr("name length %d", nameLen)
	}
	if dataLen > MaxFrameData {
		return nil, frameErr("data length %d over %d", dataLen, MaxFrameData)
	}
	rest := raw.PaddedNameLen(nameLen) + 4
	if dataLen > 0 {
		rest += raw.PaddedDataLen(dataLen)
	}
	b := make([]byte, rest)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, frameErr("truncated body: %v", err)
	}
	if g := binary.BigEndian.Uint32(b[len(b)-4:]); g != raw.EndGuard {
		return nil, frameErr("final end guard %#08x", g)
	}
	name := string(b[:nameLen])
	if err := kbus.ValidateName(name, false); err != nil {
		return nil, frameErr("%v", err)
	}
	m := &kbus.Message{
		ID:        kbus.MessageID{Network: w(1), Serial: w(2)},
		InReplyTo: kbus.MessageID{Network: w(3), Serial: w(4)},
		To:        w(5), From: w(6),
		OrigFrom: kbus.OrigFrom{Network: w(7), Local: w(8)},
		FinalTo:  kbus.OrigFrom{Network: w(9), Local: w(10)},
		Flags:    w(12),
		Name:     name,
	}
	if dataLen > 0 {
		off := raw.PaddedNameLen(nameLen)
		m.Data = append([]byte(nil), b[off:off+dataLen]...)
	}
	if m.Name == kbus.NameReplierBindEvent && len(m.Data) >= 12 {
		for i := 0; i < 12; i += 4 {
			raw.Order.PutUint32(m.Data[i:], binary.BigEndian.Uint32(m.Data[i:]))
		}
	}
	return m, nil
}
