package usermem

import (
	"testing"
	"time"
)

// A page filled with ResolveWith gives its reader those bytes; after Drop
// the next read waits again, for the next ResolveWith.
func TestResolveWithAndDrop(t *testing.T) {
	u, err := NewUserfault(1)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for _, want := range []string{"abcd", "wxyz"} {
		got := make(chan string, 1)
		go func() { got <- string(u.Mem()[:4]) }()
		if !u.WaitFaulted(5 * time.Second) {
			t.Fatalf("%s: the read did not wait for its page", want)
		}
		if err := u.ResolveWith([]byte(want)); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			if g != want {
				t.Errorf("read %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the read still waits")
		}
		if err := u.Drop(); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.ResolveWith([]byte("x")); err != nil {
		t.Errorf("filling a page nobody waits for: %v", err)
	}
	if err := u.ResolveWith([]byte("y")); err != nil {
		t.Errorf("filling a page already there: %v", err)
	}
}
