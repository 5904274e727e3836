// Package api_test checks the Go API's own promises against the real
// module in the guest: what the kbus package does around the system calls
// (closing under a waiter, for now).
package api_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "KBUS Go API")
}
