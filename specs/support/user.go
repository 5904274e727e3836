package support

import (
	. "github.com/onsi/ginkgo/v2"

	"github.com/kbus-project/kbus/internal/creds"
)

// Nobody is the unprivileged user and group the specs act as.
const Nobody = creds.Nobody

// AsUser runs f on an operating-system thread of its own whose user and
// group ids are uid and gid, with no supplementary groups and so no
// capabilities, and waits for it (internal/creds). The rest of the spec
// process stays root, and descriptors are shared, so f may use a Ksock the
// spec opened as root and see what an unprivileged holder of it would
// (docs/kbus.md §18.5). A failed assertion in f fails the spec.
func AsUser(uid, gid int, f func()) {
	GinkgoHelper()
	if err := creds.Do(uid, gid, f); err != nil {
		Fail(err.Error())
	}
}
