package core_test

import (
	"strconv"
	"unsafe"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/onsi/gomega"
)

func ptrU32(v *uint32) unsafe.Pointer { return unsafe.Pointer(v) }

func readable(ks *kbus.Ksock) bool {
	ok, err := ks.Readable()
	Expect(err).NotTo(HaveOccurred())
	return ok
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
