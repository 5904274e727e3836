package core_test

import (
	"os"
	"unsafe"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

var _ = Describe("§18.5 Who may use and change a device", func() {
	node := kbus.DevicePath(Device)

	// u32 is an ioctl whose argument is one uint32, from whichever thread
	// calls it: the value it wrote back, and its error.
	u32 := func(ks *RawKsock, nr int, v uint32) (uint32, error) {
		err := ks.Ioctl(nr, unsafe.Pointer(&v))
		return v, err
	}

	It("refuses to open the device for a user outside its owner and group, with EACCES", func() {
		AsUser(Nobody, Nobody, func() {
			_, err := unix.Open(node, unix.O_RDWR|unix.O_CLOEXEC, 0)
			Expect(err).To(MatchError(unix.EACCES))
			_, err = kbus.Open(Device, kbus.ReadOnly)
			Expect(err).To(MatchError(kbus.ErrNoAccess))
		})
	})

	When("a Ksock is used by a process that neither owns the node nor has CAP_SYS_ADMIN", func() {
		It("refuses every change to the whole device with EPERM, and nothing changes", func() {
			ks := OpenRaw()
			verbose := ks.U32(raw.NrVerbose, raw.Query)
			binds := ks.U32(raw.NrReportReplierBinds, raw.Query)
			size := ks.U32(raw.NrMaxMsgSize, 0)
			CountingDevices(func() {
				devices, err := os.ReadDir("/sys/class/kbus")
				Expect(err).NotTo(HaveOccurred())

				AsUser(Nobody, Nobody, func() {
					for _, c := range []struct {
						nr int
						v  uint32
					}{
						{raw.NrVerbose, 1}, {raw.NrVerbose, 0},
						{raw.NrReportReplierBinds, 1}, {raw.NrReportReplierBinds, 0},
						{raw.NrMaxMsgSize, 100}, {raw.NrMaxMsgSize, 409600},
						{raw.NrNewDevice, 0},
					} {
						_, err := u32(ks, c.nr, c.v)
						Expect(err).To(MatchError(kbus.ErrNotPermitted), "ioctl %d with %d", c.nr, c.v)
					}
				})

				Expect(ks.U32(raw.NrVerbose, raw.Query)).To(Equal(verbose))
				Expect(ks.U32(raw.NrReportReplierBinds, raw.Query)).To(Equal(binds))
				Expect(ks.U32(raw.NrMaxMsgSize, 0)).To(Equal(size))
				Expect(os.ReadDir("/sys/class/kbus")).To(HaveLen(len(devices)), "no new device")
			})
		})

		It("answers its questions and lets it use its own Ksock as before", func() {
			ks := OpenRaw()
			listener := RW()
			BindListener(listener, "$.Security.Own")
			AsUser(Nobody, Nobody, func() {
				for _, c := range []struct {
					nr int
					v  uint32
				}{
					{raw.NrVerbose, raw.Query}, {raw.NrReportReplierBinds, raw.Query},
					{raw.NrMaxMsgSize, 0}, {raw.NrMaxMsgSize, 1},
					{raw.NrMaxMsgs, 10}, {raw.NrMsgOnlyOnce, 1},
				} {
					_, err := u32(ks, c.nr, c.v)
					Expect(err).NotTo(HaveOccurred(), "ioctl %d with %d", c.nr, c.v)
				}
				ks.BindListener("$.Security.Mine")
				_, err := ks.Send(kbus.NewAnnouncement("$.Security.Own", []byte("from nobody")))
				Expect(err).NotTo(HaveOccurred())
			})
			Expect(Next(listener).Data).To(Equal([]byte("from nobody")))
		})
	})

	It("lets the node's owner change the device, as root can", func() {
		const owner = 4242
		ChownNode(node, owner, owner)
		AsUser(owner, owner, func() {
			fd, err := unix.Open(node, unix.O_RDWR|unix.O_CLOEXEC, 0)
			Expect(err).NotTo(HaveOccurred(), "the owner opens its node")
			defer unix.Close(fd)
			ks := &RawKsock{Fd: fd}
			Expect(u32(ks, raw.NrVerbose, 1)).To(BeEquivalentTo(0), "VERBOSE was off")
			Expect(u32(ks, raw.NrVerbose, 0)).To(BeEquivalentTo(1), "and the owner switched it on")
			Expect(u32(ks, raw.NrMaxMsgSize, 1000)).To(BeEquivalentTo(1000))
		})
	})
})
