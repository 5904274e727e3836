package api_test

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/guestproto"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var cClient = path.Join(guestproto.BinDir, guestproto.CClient)

// cRun runs the C client to its end.
func cRun(args ...string) (string, int) {
	GinkgoHelper()
	cmd := exec.Command(cClient, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		Expect(err).To(BeAssignableToTypeOf(ee), "running %v: %s", args, stderr.String())
		GinkgoWriter.Printf("kbus-client %v: %s", args, stderr.String())
		return string(out), err.(*exec.ExitError).ExitCode()
	}
	return string(out), 0
}

// cStart starts the C client (listen or reply), waits until it says it is
// bound, and returns a function that waits for its end and its output.
func cStart(args ...string) func() string {
	GinkgoHelper()
	cmd := exec.Command(cClient, args...)
	cmd.Stderr = GinkgoWriter
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	Expect(err).NotTo(HaveOccurred())
	Expect(line).To(Equal("ready\n"))
	return func() string {
		GinkgoHelper()
		var rest bytes.Buffer
		done := make(chan error, 1)
		go func() {
			_, err := rest.ReadFrom(r)
			if err == nil {
				err = cmd.Wait()
			}
			done <- err
		}()
		var err error
		Eventually(done).WithTimeout(10 * time.Second).Should(Receive(&err))
		Expect(err).NotTo(HaveOccurred())
		return rest.String()
	}
}

var _ = Describe("§14.2 A C client built against the uapi header alone", func() {
	It("hears announcements a Go program sends, read whole and checked with the header's helpers", func() {
		wait := cStart("listen", "$.C.News.*", "2")
		sender := RW()
		Send(sender, kbus.NewAnnouncement("$.C.News.One", []byte("first")))
		Send(sender, kbus.NewAnnouncement("$.C.News.Two", nil))
		out := wait()
		Expect(out).To(MatchRegexp(`^\$\.C\.News\.One \[0:\d+\] from %d flags 0 data 'first'\n`+
			`\$\.C\.News\.Two \[0:\d+\] from %d flags 0 data ''\n$`, ID(sender), ID(sender)))
	})

	It("sends an entire message a Go program reads", func() {
		listener := RW()
		BindListener(listener, "$.C.Hello")
		out, code := cRun("send", "$.C.Hello", "from C")
		Expect(code).To(BeZero())
		m := WaitNext(listener, 5*time.Second)
		Expect(out).To(Equal(m.ID.String() + "\n"))
		Expect(m.Name).To(Equal("$.C.Hello"))
		Expect(string(m.Data)).To(Equal("from C"))
	})

	It("asks a Go replier (a pointy request) and prints its reply", func() {
		replier := RW()
		BindReplier(replier, "$.C.Ask")
		go replier.Serve(CtxFor(10*time.Second), func(_ context.Context, req *kbus.Message) ([]byte, error) {
			return append([]byte("Go says: "), req.Data...), nil
		})
		out, code := cRun("request", "$.C.Ask", "hello")
		Expect(code).To(BeZero())
		Expect(out).To(MatchRegexp(`^\$\.C\.Ask \[0:\d+\] from %d flags 0 data 'Go says: hello'\n$`, ID(replier)))
	})

	It("answers a Go program's requests as their replier", func() {
		wait := cStart("reply", "$.C.Service", "C says hi", "2")
		asker := RW()
		for range 2 {
			rep, err := asker.Request(CtxFor(5*time.Second), kbus.NewRequest("$.C.Service", []byte("?")))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(rep.Data)).To(Equal("C says hi"))
		}
		wait()
	})

	It("gets EADDRNOTAVAIL for a request nobody replies to, and a status when its replier dies", func() {
		_, code := cRun("request", "$.C.Nobody", "x")
		Expect(code).To(Equal(1))

		replier, err := kbus.Open(Device, kbus.ReadWrite)
		Expect(err).NotTo(HaveOccurred())
		BindReplier(replier, "$.C.Dying")
		done := make(chan string, 1)
		go func() {
			defer GinkgoRecover()
			out, code := cRun("request", "$.C.Dying", "x")
			Expect(code).To(Equal(3))
			done <- out
		}()
		WaitNext(replier, 5*time.Second)
		Expect(replier.Close()).To(Succeed())
		var out string
		Eventually(done).WithTimeout(5 * time.Second).Should(Receive(&out))
		Expect(out).To(HavePrefix(kbus.NameReplierIgnored + " "))
	})

	It("runs the raw-ABI benchmark to its end, every figure printed (its speed is make bench's)", func() {
		cmd := exec.Command(path.Join(guestproto.BinDir, guestproto.CBench), "-r", "1", "-n", "400")
		cmd.Stderr = GinkgoWriter
		out, err := cmd.Output()
		Expect(err).NotTo(HaveOccurred())
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		Expect(lines).To(HaveLen(20))
		for _, l := range lines {
			Expect(l).To(MatchRegexp(`^figure\t[^\t]+\t(msg/s|rt/s|µs)\t[0-9.]+$`))
		}
	})
})
