package fuzz

import (
	"math/rand"
	"reflect"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		p := Generate(r)
		q, err := Decode(p.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("program %d changed in a round trip:\n%s\n%s", i, p.Encode(), q.Encode())
		}
	}
}

func TestGenerateIsSeeded(t *testing.T) {
	a := Generate(rand.New(rand.NewSource(7)))
	b := Generate(rand.New(rand.NewSource(7)))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two programs")
	}
}

func TestMutateStaysInRange(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	p := Generate(r)
	for i := 0; i < 2000; i++ {
		p = Mutate(r, p, Generate(r))
		if len(p) > 200 {
			t.Fatalf("a program grew to %d operations", len(p))
		}
		if _, err := Decode(p.Encode()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeRefusesOutOfRange(t *testing.T) {
	for _, s := range []string{`[{"op":"open","slot":4}]`, `[{"op":"open","slot":0,"thread":2}]`, `{`} {
		if _, err := Decode([]byte(s)); err == nil {
			t.Errorf("%s: decoded", s)
		}
	}
}

func TestCommittedCorpusDecodes(t *testing.T) {
	ps, err := Corpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 4 {
		t.Fatalf("%d programs in the committed corpus", len(ps))
	}
}
