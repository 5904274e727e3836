package limpet

import (
	"sync"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
)

// repliers mirrors the replier bindings of the Limpet's own bus as its
// ReplierBindEvents report them, most recent first like the device's list,
// so that a stateful request from the far bus reaches the replier a
// wildcard binding makes responsible. KBUS's REPLIER query matches the
// exact name string only (docs/kbus.md §7): the original Limpet answered
// GoneAway to every stateful request for a service bound with a wildcard.
type repliers struct {
	mu       sync.Mutex
	bindings []raw.BindEvent // IsBind is true for every entry
}

// update applies one bind event: a bind goes first in the list, an unbind
// removes the most recent identical binding.
func (r *repliers) update(ev raw.BindEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.IsBind {
		r.bindings = append([]raw.BindEvent{ev}, r.bindings...)
		return
	}
	for i, b := range r.bindings {
		if b.Binder == ev.Binder && b.Name == ev.Name {
			r.bindings = append(r.bindings[:i], r.bindings[i+1:]...)
			return
		}
	}
}

// resolve returns the Ksock KBUS would deliver a request for name to: the
// most specific matching binding, the most recent within a class
// (docs/kbus.md §2.3).
func (r *repliers) resolve(name string) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	best, class := uint32(0), 0
	for _, b := range r.bindings {
		if c := kbus.Specificity(b.Name); c > class && kbus.Matches(b.Name, name) {
			best, class = b.Binder, c
		}
	}
	return best, class > 0
}
