package support

import (
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// KmemleakPath is kmemleak's debugfs file (the debug kernel has it).
const KmemleakPath = "/sys/kernel/debug/kmemleak"

// HaveKmemleak says whether the kernel runs kmemleak.
func HaveKmemleak() bool {
	_, err := os.Stat(KmemleakPath)
	return err == nil
}

// Leaks asks kmemleak for a scan and returns the reports whose backtrace
// mentions the module: memory KBUS allocated and nothing refers to.
func Leaks() []string {
	GinkgoHelper()
	// Two scans: an object is reported only once it has stayed
	// unreferenced over a scan.
	for i := 0; i < 2; i++ {
		Expect(os.WriteFile(KmemleakPath, []byte("scan"), 0)).To(Succeed())
	}
	b, err := os.ReadFile(KmemleakPath)
	Expect(err).NotTo(HaveOccurred())
	var ours []string
	for _, r := range strings.Split(string(b), "unreferenced object") {
		if strings.Contains(r, "kbus") {
			ours = append(ours, "unreferenced object"+r)
		}
	}
	return ours
}

// ClearLeaks forgets what kmemleak suspects so far, so that Leaks later
// reports only what was left after this point.
func ClearLeaks() {
	GinkgoHelper()
	Expect(os.WriteFile(KmemleakPath, []byte("scan"), 0)).To(Succeed())
	Expect(os.WriteFile(KmemleakPath, []byte("clear"), 0)).To(Succeed())
}
