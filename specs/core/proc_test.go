package core_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/kbus-project/kbus/kbus"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("§12 /proc/kbus", func() {
	It("has bindings and stats, readable by everyone", func() {
		for _, f := range []string{"bindings", "stats"} {
			fi, err := os.Stat("/proc/kbus/" + f)
			Expect(err).NotTo(HaveOccurred())
			Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o444)))
		}
	})

	It("lists bindings newest first in the original's format, under a comment line per device", func() {
		ks := RW()
		id := ID(ks)
		BindListener(ks, "$.Proc.Listener")
		BindReplier(ks, "$.Proc.*")
		text := ProcFile("bindings")
		Expect(text).To(HavePrefix("# <device> is bound to <Ksock-ID> in <process-PID> as <Replier|Listener> for <message-name>\n"))
		replierLine := fmt.Sprintf("%3d: %8d %8d  R  $.Proc.*\n", Device, id, os.Getpid())
		listenerLine := fmt.Sprintf("%3d: %8d %8d  L  $.Proc.Listener\n", Device, id, os.Getpid())
		Expect(text).To(ContainSubstring(replierLine + listenerLine))
	})

	It("forgets the bindings of a closed Ksock", func() {
		ks := RW()
		BindListener(ks, "$.Proc.Gone")
		Expect(DeviceBindings()).To(ContainSubstring("$.Proc.Gone"))
		Expect(ks.Close()).To(Succeed())
		Expect(DeviceBindings()).NotTo(ContainSubstring("$.Proc.Gone"))
	})

	It("shows each device and Ksock in the stats format", func() {
		ks := RW()
		BindReplier(ks, "$.Proc.S")
		Send(ks, kbus.NewRequest("$.Proc.S", nil))
		id, _ := ks.Syscalls().LastSent()
		Expect(ks.Syscalls().WriteMsg(kbus.NewAnnouncement("$.Proc.Part", nil))).To(Succeed())
		text := DeviceStats()
		Expect(text).To(MatchRegexp(`^dev %2d: next ksock \d+ next msg \d+ unsent unbindings \d+\n`, Device))
		block := regexp.MustCompile(fmt.Sprintf(`(?m)^    ksock %d last msg 0:%d queue 1 of 100\n`+
			`      read byte 0 of 0, wrote byte \d+ of FINAL \(finished\), not sending\n`+
			`      outstanding requests 1 \(size 16, max 1\), unsent replies 0 \(max 0\)$`, ID(ks), id.Serial))
		Expect(block.MatchString(text)).To(BeTrue(), "stats:\n%s", text)
	})

	It("shows a partly read message and a write in progress", func() {
		ks := RW()
		BindListener(ks, "$.Proc.R")
		Send(ks, kbus.NewAnnouncement("$.Proc.R", nil))
		n, err := ks.Syscalls().NextMsg()
		Expect(err).NotTo(HaveOccurred())
		_, err = ks.Syscalls().Read(make([]byte, 10))
		Expect(err).NotTo(HaveOccurred())
		b := kbus.NewAnnouncement("$.Proc.W", []byte("abcdef")).Bytes()
		_, err = ks.Syscalls().Write(b[:len(b)-10])
		Expect(err).NotTo(HaveOccurred())
		want := fmt.Sprintf("      read byte 10 of %d, wrote byte 2 of DATA (not finished), not sending", n)
		var found bool
		for _, line := range strings.Split(ProcFile("stats"), "\n") {
			found = found || line == want
		}
		Expect(found).To(BeTrue(), "no line %q in\n%s", want, ProcFile("stats"))
	})

	// A listing is read a page at a time, each page under the locks, and
	// goes on where the last page ended (docs/kbus.md §12.3).
	When("a listing is longer than a page and read a little at a time (§12.3)", func() {
		It("lists every binding that stays exactly once while others come and go", func() {
			const stay = 2000 // some 60 pages of lines
			ks := RW()
			for i := range stay {
				BindListener(ks, fmt.Sprintf("$.Proc.Stay.%d", i))
			}
			churn := RW()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					name := fmt.Sprintf("$.Proc.Churn.%d", i%50)
					Expect(churn.BindListener(name)).To(Succeed())
					Expect(churn.UnbindListener(name)).To(Succeed())
				}
			}()
			text := readInPieces("/proc/kbus/bindings", 97)
			close(stop)
			wg.Wait()
			seen := map[string]int{}
			for _, line := range strings.Split(text, "\n") {
				if i := strings.Index(line, "$.Proc.Stay."); i >= 0 && strings.HasPrefix(line, fmt.Sprintf("%3d:", Device)) {
					seen[line[i:]]++
				}
			}
			Expect(seen).To(HaveLen(stay), "every binding that stayed is listed")
			for name, n := range seen {
				Expect(n).To(Equal(1), "%s is listed once", name)
			}
		})

		It("lists every Ksock that stays exactly once in the stats, by id", func() {
			const stay = 300 // three lines each: some 20 pages
			var ids []uint32
			for range stay {
				ids = append(ids, ID(Open(Device, kbus.ReadOnly)))
			}
			text := readInPieces("/proc/kbus/stats", 61)
			var listed []uint32
			in := false
			for _, line := range strings.Split(text, "\n") {
				var id uint32
				switch {
				case strings.HasPrefix(line, "dev "):
					in = strings.HasPrefix(line, fmt.Sprintf("dev %2d:", Device))
				case in && strings.HasPrefix(line, "    ksock "):
					_, err := fmt.Sscanf(line, "    ksock %d ", &id)
					Expect(err).NotTo(HaveOccurred(), line)
					listed = append(listed, id)
				}
			}
			Expect(listed).To(ContainElements(ids), "every Ksock that stayed is listed")
			for i := 1; i < len(listed); i++ {
				Expect(listed[i]).To(BeNumerically(">", listed[i-1]), "in order of id, each once")
			}
		})
	})

	It("reads a listing again from its start, but seeks nowhere else (§12.3)", func() {
		for _, name := range []string{"bindings", "stats"} {
			f, err := os.Open("/proc/kbus/" + name)
			Expect(err).NotTo(HaveOccurred())
			defer f.Close()
			first := make([]byte, 40)
			_, err = io.ReadFull(f, first)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Seek(0, io.SeekCurrent)).To(Equal(int64(40)), "%s says where a reader is", name)
			_, err = f.Seek(10, io.SeekStart)
			Expect(errors.Is(err, syscall.ESPIPE)).To(BeTrue(), "%s: a seek to 10: %v", name, err)
			_, err = f.ReadAt(make([]byte, 10), 10)
			Expect(errors.Is(err, syscall.ESPIPE)).To(BeTrue(), "%s: a read at 10: %v", name, err)
			Expect(f.Seek(0, io.SeekStart)).To(Equal(int64(0)))
			again := make([]byte, 40)
			_, err = io.ReadFull(f, again)
			Expect(err).NotTo(HaveOccurred())
			Expect(again[:16]).To(Equal(first[:16]), "%s starts again from its start", name)
		}
	})
})

// readInPieces reads the file at path n bytes at a time, so that the
// module formats it in many slices.
func readInPieces(path string, n int) string {
	GinkgoHelper()
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, n)
	for {
		got, err := f.Read(buf)
		b.Write(buf[:got])
		if err == io.EOF {
			return b.String()
		}
		Expect(err).NotTo(HaveOccurred())
	}
}
