// Package model_test compares the module with kbus/model, KBUS as
// docs/kbus.md describes it: seeded random programs of operations run on
// both must give the same result, operation by operation. A program that
// does not is shrunk to the shortest that still differs, and printed with
// its seed. The guest's kernel command line may fix the seed
// (difftest.seed=N: that one program only), the program length
// (difftest.ops=N) and the time budget (difftest.seconds=N).
package model_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestModel(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "KBUS against its model")
}
