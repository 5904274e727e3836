package raw

import "fmt"

// SplitEntire cuts the first n messages in entire form that lie back to
// back at the start of b apart, as RECVMANY leaves them (docs/kbus.md
// §7.1). Each message is a slice of b whose capacity ends with it; rest
// is what follows the n-th. On an error, msgs holds the messages before
// the one that did not decode or did not fit.
func (l Layout) SplitEntire(b []byte, n int) (msgs [][]byte, rest []byte, err error) {
	msgs = make([][]byte, 0, n)
	for len(msgs) < n {
		h, _, _, err := l.DecodeHeader(b)
		if err != nil {
			return msgs, b, fmt.Errorf("message %d of %d: %w", len(msgs)+1, n, err)
		}
		size := l.EntireLen(h.NameLen, h.DataLen)
		if size > len(b) {
			return msgs, b, fmt.Errorf("message %d of %d needs %d bytes, %d left: %w",
				len(msgs)+1, n, size, len(b), ErrShort)
		}
		msgs = append(msgs, b[:size:size])
		b = b[size:]
	}
	return msgs, b, nil
}
