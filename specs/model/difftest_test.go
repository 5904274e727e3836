package model_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kbus-project/kbus/internal/program"
	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// param reads difftest.NAME=N from the kernel command line.
func param(name string) (int64, bool) { return Param("difftest." + name) }

// devices are the spec device and a second one, made by NEWDEVICE for
// this suite, so that it starts as fresh as the model's second device.
var (
	devices       [program.Devices]string
	deviceNumbers [program.Devices]int
)

var _ = BeforeSuite(func() {
	deviceNumbers[0] = Device
	devices[0] = kbus.DevicePath(Device)
	var n uint32
	CreatingDevices(func() {
		var err error
		n, err = RW().NewDevice()
		Expect(err).NotTo(HaveOccurred())
	})
	deviceNumbers[1] = int(n)
	devices[1] = kbus.DevicePath(int(n))
	Eventually(func() error { _, err := os.Stat(devices[1]); return err }).
		WithTimeout(5 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
})

func differs(module *program.ModuleDevices, p program.Program) (program.Trace, program.Trace, int, bool) {
	want := program.Run(program.NewModel(), p)
	got := program.Run(module.NewModule(), p)
	i, d := program.Diff(want, got)
	return want, got, i, d
}

func around(lines []string, i int) string {
	lo, hi := max(0, i-12), min(len(lines), i+3)
	return strings.Join(lines[lo:hi], "\n")
}

var _ = Describe("The module against the model of docs/kbus.md", Label("model"), func() {
	BeforeEach(func() {
		// The device-wide settings a program may change, put back
		// afterwards for the suites that follow (each program starts
		// from the model's defaults, ModuleDevices.NewModule).
		ks := RW()
		was, err := ks.SetReportReplierBinds(false)
		Expect(err).NotTo(HaveOccurred())
		verbose, err := ks.Verbose()
		Expect(err).NotTo(HaveOccurred())
		size, err := ks.MaxMessageSize()
		Expect(err).NotTo(HaveOccurred())
		var bound [program.Devices]uint32
		for i := range devices {
			bound[i], err = kbus.MaxUserBindings(deviceNumbers[i])
			Expect(err).NotTo(HaveOccurred(), "the device's binding bound for other users (docs/kbus.md §18.5)")
		}
		DeferCleanup(func() {
			ks.SetMaxMessageSize(size)
			ks.SetVerbose(verbose)
			ks.SetReportReplierBinds(was)
			for i := range devices {
				Expect(kbus.SetMaxUserBindings(deviceNumbers[i], bound[i])).To(Succeed())
			}
		})
		Empty(ks)
	})

	It("gives the model's result for every operation of seeded random programs", func() {
		seed, fixed := Seed("difftest.seed")
		ops, ok := param("ops")
		if !ok {
			ops = 400
		}
		// Every target of make test runs this suite, for 15 s: as many
		// programs as 20 s ran before a run's trace left the operations'
		// text out (docs/testing.md, "What a run costs"); make difftest
		// gives it longer.
		seconds, ok := param("seconds")
		if !ok {
			seconds = 15
		}
		AddReportEntry("seed", seed)
		fmt.Fprintf(GinkgoWriter, "difftest: seed %d, %d operations a program, %d s (replay: make difftest SEED=%d OPS=%d)\n",
			seed, ops, seconds, seed, ops)
		// After BeforeEach noted the bound on other users' bindings, which
		// OpenModule sets as the model's.
		module := program.OpenModule(devices)
		defer module.Close()
		deadline := time.Now().Add(time.Duration(seconds) * time.Second)
		programs, operations := 0, 0
		for s := seed; ; s++ {
			p := program.Generate(s, int(ops))
			want, got, i, d := differs(module, p)
			if d {
				short := program.Shrink(p, func(q program.Program) bool { _, _, _, d := differs(module, q); return d })
				want, got, i, _ = differs(module, short)
				Fail(fmt.Sprintf("seed %d (make difftest SEED=%d OPS=%d): the module and the model differ at line %d of "+
					"the shortest program found (%d operations):\n%v\nmodel:\n%s\nmodule:\n%s",
					s, s, ops, i, len(short), short, around(want.Lines(short), i), around(got.Lines(short), i)))
			}
			programs++
			operations += len(want)
			if fixed || time.Now().After(deadline) {
				break
			}
		}
		AddReportEntry("programs", programs)
		AddReportEntry("operations", operations)
		fmt.Fprintf(GinkgoWriter, "difftest: %d programs, %d operations, all as the model says\n", programs, operations)
		Expect(programs).To(BeNumerically(">", 0))
	})
})
