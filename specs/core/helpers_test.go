package core_test

import (
	"context"
	"strconv"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// ctxFor returns a context that ends after the given number of seconds, or
// with the spec.
func ctxFor(seconds int) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	DeferCleanup(cancel)
	return ctx
}

func ptrU32(v *uint32) unsafe.Pointer { return unsafe.Pointer(v) }

func readable(ks *kbus.Ksock) bool {
	ok, err := ks.Readable()
	Expect(err).NotTo(HaveOccurred())
	return ok
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
