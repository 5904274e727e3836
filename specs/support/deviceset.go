package support

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// The guest runs suites side by side (docs/testing.md, "Suites side by
// side"), and the set of devices is the one thing they all share: a spec
// that counts devices must not see another suite's NEWDEVICE in the
// middle. A lock file in the guest's temporary folder orders them: specs
// that create devices hold it shared (they may run together), specs that
// count them hold it alone.
var deviceSetLock = filepath.Join(os.TempDir(), "kbus-specs-device-set.lock")

// CreatingDevices runs f, which creates devices, while no spec counts them.
func CreatingDevices(f func()) { withDeviceSet(unix.LOCK_SH, f) }

// CountingDevices runs f, which counts devices, while no spec creates one.
func CountingDevices(f func()) { withDeviceSet(unix.LOCK_EX, f) }

func withDeviceSet(how int, f func()) {
	GinkgoHelper()
	// Read-only is enough to lock, so suites that run as another user
	// (docs/kbus.md §18.5) share the file whoever made it.
	lock, err := os.OpenFile(deviceSetLock, os.O_RDONLY|os.O_CREATE, 0o644)
	Expect(err).NotTo(HaveOccurred())
	defer lock.Close()
	Expect(unix.Flock(int(lock.Fd()), how)).To(Succeed(), "locking %s", deviceSetLock)
	f()
}
