package device_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§6 The kbus module", func() {
	It("is loaded and listed in /proc/modules", func() {
		mods, err := os.ReadFile("/proc/modules")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Split(string(mods), "\n")).To(ContainElement(HavePrefix("kbus ")))
	})

	It("exposes its parameters in sysfs", func() {
		n, err := os.ReadFile("/sys/module/kbus/parameters/kbus_num_devices")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSpace(string(n))).To(Equal("1"))
	})
})

var _ = Describe("§6 /dev/kbus0", func() {
	It("is a character device of the kbus class", func() {
		var st unix.Stat_t
		Expect(unix.Stat("/dev/kbus0", &st)).To(Succeed())
		Expect(st.Mode & unix.S_IFMT).To(Equal(uint32(unix.S_IFCHR)))
		Expect(unix.Minor(uint64(st.Rdev))).To(BeZero())
		Expect("/sys/class/kbus/kbus0").To(BeADirectory())
	})

	It("has the documented default mode 0660: its owner and group only (§18.5)", func() {
		fi, err := os.Stat("/dev/kbus0")
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o660)))
	})

	It("opens for reading and writing, and closes", func() {
		f, err := os.OpenFile("/dev/kbus0", os.O_RDWR, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
	})

	It("opens read-only, and closes", func() {
		f, err := os.Open("/dev/kbus0")
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Close()).To(Succeed())
	})

	It("can be open many times at once", func() {
		var files []*os.File
		for i := 0; i < 50; i++ {
			f, err := os.OpenFile("/dev/kbus0", os.O_RDWR, 0)
			Expect(err).NotTo(HaveOccurred())
			files = append(files, f)
		}
		for _, f := range files {
			Expect(f.Close()).To(Succeed())
		}
	})
})

var _ = Describe("§6 The set of devices", func() {
	It("has a node for every device of the kbus class, and none beyond", func() {
		support.CountingDevices(func() {
			devs, err := filepath.Glob("/sys/class/kbus/kbus*")
			Expect(err).NotTo(HaveOccurred())
			Expect(len(devs)).To(BeNumerically(">=", 1))
			for i := range devs {
				Expect(fmt.Sprintf("/dev/kbus%d", i)).To(BeAnExistingFile())
			}
			_, err = os.Open(fmt.Sprintf("/dev/kbus%d", len(devs)))
			Expect(errors.Is(err, os.ErrNotExist)).To(BeTrue(), "open the next device: %v", err)
		})
	})
})
