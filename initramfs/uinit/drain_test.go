package main

import (
	"os"
	"testing"
	"time"
)

func TestDrainReturnsAtOnceForWhatIsNoTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	start := time.Now()
	drain(int(w.Fd()), 10*time.Second)
	if took := time.Since(start); took > time.Second {
		t.Errorf("drain of a pipe took %v", took)
	}
}
