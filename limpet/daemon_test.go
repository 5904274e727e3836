package limpet

import (
	"testing"
	"time"
)

func TestBackoffDoublesToItsCeilingAndResetsAfterAStableLink(t *testing.T) {
	b := &Backoff{Min: 100 * time.Millisecond, Max: time.Second, Stable: 5 * time.Second}
	var got []time.Duration
	for i := 0; i < 6; i++ {
		got = append(got, b.After(0))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("waits %v, want %v ms", got, want)
		}
	}
	if d := b.After(time.Second); d != time.Second {
		t.Errorf("after a short link: %v, want the ceiling", d)
	}
	if d := b.After(6 * time.Second); d != 100*time.Millisecond {
		t.Errorf("after a stable link: %v, want the minimum again", d)
	}
}
