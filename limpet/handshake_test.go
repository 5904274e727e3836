package limpet

import (
	"errors"
	"net"
	"testing"
)

func pair(t *testing.T) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); acc <- c }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestHandshakeWithTheSameKey(t *testing.T) {
	a, b := pair(t)
	got := make(chan uint32, 1)
	go func() { id, _ := handshake(b, 2, []byte("secret")); got <- id }()
	id, err := handshake(a, 1, []byte("secret"))
	if err != nil || id != 2 || <-got != 1 {
		t.Fatalf("id %d err %v", id, err)
	}
}

func TestHandshakeRefusesAWrongKey(t *testing.T) {
	a, b := pair(t)
	go handshake(b, 2, []byte("guess"))
	if _, err := handshake(a, 1, []byte("secret")); !errors.Is(err, ErrAuth) {
		t.Fatalf("err %v, want ErrAuth", err)
	}
}

func TestHandshakeRefusesTheSameNetworkID(t *testing.T) {
	a, b := pair(t)
	go handshake(b, 1, []byte("k"))
	if _, err := handshake(a, 1, []byte("k")); !errors.Is(err, ErrHandshake) {
		t.Fatalf("err %v", err)
	}
}

func TestHandshakeRefusesAStranger(t *testing.T) {
	a, b := pair(t)
	go func() { b.Write([]byte("GET / HTTP/1.1\r\n\r\n")); b.Close() }()
	if _, err := handshake(a, 1, []byte("k")); !errors.Is(err, ErrHandshake) {
		t.Fatalf("err %v", err)
	}
}
