package limpet

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrAuth means the peer could not prove it knows the pre-shared key.
var ErrAuth = errors.New("limpet peer failed authentication")

// ErrHandshake is wrapped by every other handshake failure.
var ErrHandshake = errors.New("limpet handshake failed")

const nonceSize = 16

// handshake exchanges HELO and network ids (docs/kbus.md §15.2), then proves
// to each other that both sides hold key: each sends a random nonce and
// answers the other's with HMAC-SHA256(key, nonce | its id | the other's
// id). A stranger without the key is refused before any message passes.
func handshake(rw io.ReadWriter, ourID uint32, key []byte) (peerID uint32, err error) {
	var hello [8]byte
	copy(hello[:4], "HELO")
	binary.BigEndian.PutUint32(hello[4:], ourID)
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return 0, err
	}
	if _, err := rw.Write(append(hello[:], nonce[:]...)); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	var peer [8 + nonceSize]byte
	if _, err := io.ReadFull(rw, peer[:]); err != nil {
		return 0, fmt.Errorf("%w: reading HELO: %v", ErrHandshake, err)
	}
	if string(peer[:4]) != "HELO" {
		return 0, fmt.Errorf("%w: peer said %q, not HELO", ErrHandshake, peer[:4])
	}
	peerID = binary.BigEndian.Uint32(peer[4:8])
	if peerID == 0 || peerID == ourID {
		return 0, fmt.Errorf("%w: peer network id %d (ours is %d): ids must differ and not be 0", ErrHandshake, peerID, ourID)
	}
	if _, err := rw.Write(proof(key, peer[8:], ourID, peerID)); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	got := make([]byte, sha256.Size)
	if _, err := io.ReadFull(rw, got); err != nil {
		return 0, fmt.Errorf("%w: reading the proof: %v", ErrAuth, err)
	}
	if !hmac.Equal(got, proof(key, nonce[:], peerID, ourID)) {
		return 0, ErrAuth
	}
	return peerID, nil
}

func proof(key, nonce []byte, prover, verifier uint32) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kbus-limpet-v1"))
	m.Write(nonce)
	var ids [8]byte
	binary.BigEndian.PutUint32(ids[:4], prover)
	binary.BigEndian.PutUint32(ids[4:], verifier)
	m.Write(ids[:])
	return m.Sum(nil)
}
