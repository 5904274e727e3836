// Package soak_test runs the set-top box under load for minutes, with
// repliers killed and restarted, and checks that nothing is lost, doubled,
// reordered or leaked. Off by default (label soak); make test runs it.
package soak_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestSoak(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Soak", Label("soak"))
}
