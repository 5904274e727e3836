// Package pair_test is the two-machine run: a set-top box and a service
// box, each a QEMU guest with its own KBUS, joined by a Limpet pair over TCP
// on a network between the two guests. Both machines run this suite; the
// labels pair-service and pair-client choose each one's side, and the rig
// gives the other machine's address as $KBUS_RIG_PEER.
package pair_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestPair(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Two machines joined by a Limpet pair", Label("pair"))
}
