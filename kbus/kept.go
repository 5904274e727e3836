package kbus

import "sync"

// keptQueue holds the messages a Ksock took from KBUS but has not handed
// on yet: those Request received while it waited for its reply, and those
// a Messages loop that stopped early had not reached. They come before
// KBUS's queue for the next Receive. It has a lock of its own, not the
// Ksock's recv, so that a loop can give messages back while another
// goroutine waits in Receive (that Receive, already waiting on KBUS, is a
// second reader racing the first and gets the next message KBUS gives).
type keptQueue struct {
	mu sync.Mutex
	ms []*Message
}

// any says whether a message is kept.
func (q *keptQueue) any() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ms) > 0
}

// pop takes the first kept message, or nil.
func (q *keptQueue) pop() *Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ms) == 0 {
		return nil
	}
	m := q.ms[0]
	q.ms[0] = nil
	q.ms = q.ms[1:]
	return m
}

// popAll takes every kept message.
func (q *keptQueue) popAll() []*Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	ms := q.ms
	q.ms = nil
	return ms
}

// popReply takes the kept message that answers id, or nil.
func (q *keptQueue) popReply(id MessageID) *Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, m := range q.ms {
		if m.InReplyTo == id {
			q.ms = append(q.ms[:i:i], q.ms[i+1:]...)
			return m
		}
	}
	return nil
}

// push keeps m after the others.
func (q *keptQueue) push(m *Message) {
	q.mu.Lock()
	q.ms = append(q.ms, m)
	q.mu.Unlock()
}

// pushFront keeps ms, in order, before the others.
func (q *keptQueue) pushFront(ms []*Message) {
	if len(ms) == 0 {
		return
	}
	q.mu.Lock()
	q.ms = append(append([]*Message(nil), ms...), q.ms...)
	q.mu.Unlock()
}
