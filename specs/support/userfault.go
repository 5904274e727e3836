package support

import (
	"github.com/kbus-project/kbus/internal/usermem"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Userfault is memory whose pages wait until the spec fills them
// (usermem.Userfault): Resolve fills every page; the spec's cleanup does
// too, so nothing is left waiting.
type Userfault struct{ *usermem.Userfault }

// NewUserfault maps n pages registered with a new userfaultfd, closed
// when the spec ends.
func NewUserfault(n int) *Userfault {
	GinkgoHelper()
	u, err := usermem.NewUserfault(n)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(u.Close)
	return &Userfault{u}
}
