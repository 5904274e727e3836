package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// result is a finished kbus process.
type result struct {
	Code           int
	Stdout, Stderr string
}

// kbusRun runs kbus to completion with the given stdin.
func kbusRun(stdin []byte, args ...string) result {
	GinkgoHelper()
	cmd := exec.Command(kbusPath, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	return result{code, out.String(), errOut.String()}
}

// background is a kbus process left running.
type background struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

// kbusStart starts kbus with --ready and waits until it has bound.
func kbusStart(args ...string) *background {
	GinkgoHelper()
	ready := filepath.Join(GinkgoT().TempDir(), "ready")
	cmd := exec.Command(kbusPath, append(args, "--ready", ready)...)
	out := &bytes.Buffer{}
	cmd.Stdout = out
	cmd.Stderr = GinkgoWriter
	// Its own process group, so that cleanup also ends what it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if cmd.ProcessState == nil {
			_ = cmd.Wait()
		}
	})
	Eventually(ready).WithTimeout(10 * time.Second).WithPolling(10 * time.Millisecond).Should(BeAnExistingFile())
	return &background{cmd, out}
}

// wait waits for the process to exit on its own and returns its output.
func (b *background) wait() string {
	GinkgoHelper()
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	Eventually(done).WithTimeout(15 * time.Second).Should(Receive(BeNil()))
	return b.out.String()
}

var _ = Describe("The seed's session, from a shell", func() {
	It("lets the Audience hear Rosencrantz, and Guildenstern answer him", func() {
		audience := kbusStart("listen", "$.Actor.*", "--count", "3")
		Expect(kbusRun(nil, "send", "$.Actor.Speak", "Ahem")).To(HaveField("Code", 0))

		guildenstern := kbusStart("reply", "$.Actor.Ask.Guildenstern", "--exec", "echo I think so", "--count", "1")
		r := kbusRun(nil, "request", "$.Actor.Ask.Guildenstern", "Were you speaking to me?")
		Expect(r.Code).To(Equal(0), r.Stderr)
		Expect(r.Stdout).To(MatchRegexp(`^<Reply '\$\.Actor\.Ask\.Guildenstern', id=\[0:\d+\], to=\d+, from=\d+, in_reply_to=\[0:\d+\], data='I think so\\n'>\n$`))
		guildenstern.wait()

		heard := strings.Split(strings.TrimSpace(audience.wait()), "\n")
		Expect(heard).To(HaveLen(3))
		Expect(heard[0]).To(MatchRegexp(`^<Announcement '\$\.Actor\.Speak', id=\[0:\d+\], from=\d+, data='Ahem'>$`))
		Expect(heard[1]).To(MatchRegexp(`^<Request '\$\.Actor\.Ask\.Guildenstern', .*flags=0x1 \(REQ\), data='Were you speaking to me\?'>$`))
		Expect(heard[2]).To(HavePrefix("<Reply '$.Actor.Ask.Guildenstern'"))
	})
})

var _ = Describe("kbus send and listen", func() {
	It("carry binary data from stdin intact, shown as JSON lines", func() {
		listener := kbusStart("listen", "$.Bin", "--json", "--count", "1")
		data := []byte{0, 1, 2, 0xff, '\n', 'x', 0}
		r := kbusRun(data, "send", "$.Bin", "-")
		Expect(r.Code).To(Equal(0), r.Stderr)
		Expect(r.Stdout).To(MatchRegexp(`^\[0:\d+\]\n$`))
		var m struct {
			Kind, Name string
			Data       []byte
		}
		Expect(json.Unmarshal([]byte(listener.wait()), &m)).To(Succeed())
		Expect(m.Kind).To(Equal("Announcement"))
		Expect(m.Name).To(Equal("$.Bin"))
		Expect(m.Data).To(Equal(data))
	})

	It("reads data from a file", func() {
		f := filepath.Join(GinkgoT().TempDir(), "payload")
		Expect(os.WriteFile(f, []byte("from a file"), 0o644)).To(Succeed())
		listener := kbusStart("listen", "$.File")
		Expect(kbusRun(nil, "send", "--file", f, "$.File")).To(HaveField("Code", 0))
		Eventually(listener.out.String).Should(ContainSubstring("data='from a file'"))
	})

	It("refuses a bad name and says which rule it broke", func() {
		r := kbusRun(nil, "send", "$.Bad..Name", "x")
		Expect(r.Code).To(Equal(2))
		Expect(r.Stderr).To(ContainSubstring("two dots in a row"))
	})
})

var _ = Describe("kbus request", func() {
	It("explains that nobody is replying", func() {
		r := kbusRun(nil, "request", "$.Nobody.Home", "hello?")
		Expect(r.Code).To(Equal(1))
		Expect(r.Stderr).To(ContainSubstring("EADDRNOTAVAIL: no replier is bound"))
	})

	It("reports the status KBUS sends when the replier dies, with exit status 3", func() {
		replier := kbusStart("reply", "$.Dying", "--exec", "sleep 30")
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			done <- kbusRun(nil, "request", "$.Dying", "x")
		}()
		Eventually(support.DeviceStats).WithTimeout(10 * time.Second).Should(ContainSubstring("unsent replies 1"))
		Expect(replier.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
		var r result
		Eventually(done).WithTimeout(10 * time.Second).Should(Receive(&r))
		Expect(r.Code).To(Equal(3))
		Expect(r.Stdout).To(HavePrefix("<Status '$.KBUS.Replier.Ignored'"))
		Expect(r.Stderr).To(ContainSubstring("closed its Ksock without replying"))
		Expect(r.Stderr).To(ContainSubstring("$.KBUS.Replier.Ignored"))
	})

	It("gives up after --timeout with exit status 4 when the replier never answers", func() {
		kbusStart("reply", "$.Slow", "--exec", "sleep 30")
		r := kbusRun(nil, "request", "--timeout", "300ms", "$.Slow", "x")
		Expect(r.Code).To(Equal(4), r.Stderr)
		Expect(r.Stderr).To(ContainSubstring("no reply to $.Slow within 300ms"))
	})

	It("gets a fixed reply from reply --data", func() {
		kbusStart("reply", "$.Fixed", "--data", "always this", "--count", "1")
		r := kbusRun(nil, "request", "--data", "$.Fixed", "anything")
		Expect(r.Code).To(Equal(0), r.Stderr)
		Expect(r.Stdout).To(Equal("always this"))
	})

	It("gets the data a replier's command computes from the request", func() {
		kbusStart("reply", "$.Upper", "--exec", "cat; echo !", "--count", "1")
		r := kbusRun(nil, "request", "--data", "$.Upper", "shout")
		Expect(r.Code).To(Equal(0), r.Stderr)
		Expect(r.Stdout).To(Equal("shout!\n"))
	})
})

var _ = Describe("kbus --version", func() {
	It("is the version of the module it runs with (both built from one checkout)", func() {
		r := kbusRun(nil, "--version")
		Expect(r.Code).To(Equal(0))
		mod, err := os.ReadFile("/sys/module/kbus/version")
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Stdout).To(Equal("kbus " + string(mod)))
	})
})

var _ = Describe("kbus listen", func() {
	When("--timeout ends it before enough messages came", func() {
		It("exits with status 4 if fewer than --count arrived", func() {
			r := kbusRun(nil, "listen", "$.Quiet", "--count", "2", "--timeout", "300ms")
			Expect(r.Code).To(Equal(4), r.Stderr)
			Expect(r.Stderr).To(ContainSubstring("0 of 2 messages within 300ms"))
		})

		It("exits with status 0 if no --count was asked for", func() {
			Expect(kbusRun(nil, "listen", "$.Quiet", "--timeout", "200ms").Code).To(Equal(0))
		})
	})
})

var _ = Describe("kbus bindings and stats", func() {
	It("show another process's binding, as a table and as JSON", func() {
		listener := kbusStart("listen", "$.Visible.*")
		pid := listener.cmd.Process.Pid
		// Only the spec's device: suites beside this one may hold a million
		// bindings on theirs (docs/testing.md, "Suites side by side").
		r := kbusRun(nil, "bindings", "--device", itoa(support.Device))
		Expect(r.Code).To(Equal(0))
		Expect(r.Stdout).To(MatchRegexp(`(?m)^` + itoa(support.Device) + `\s+\d+\s+` + itoa(pid) + `\s+listener\s+\$\.Visible\.\*$`))
		for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n")[1:] {
			Expect(strings.Fields(line)[0]).To(Equal(itoa(support.Device)), "a binding of another device in %q", line)
		}
		r = kbusRun(nil, "bindings", "--json", "--device", itoa(support.Device))
		var bs []struct {
			PID     int
			Name    string
			Replier bool
		}
		Expect(json.Unmarshal([]byte(r.Stdout), &bs)).To(Succeed())
		Expect(bs).To(ContainElement(And(HaveField("PID", pid), HaveField("Name", "$.Visible.*"))))

		r = kbusRun(nil, "stats", "--json")
		Expect(r.Code).To(Equal(0))
		var devs []struct {
			Index  int
			Ksocks []struct{ ID uint32 }
		}
		Expect(json.Unmarshal([]byte(r.Stdout), &devs)).To(Succeed())
		Expect(devs).To(ContainElement(And(HaveField("Index", support.Device), HaveField("Ksocks", Not(BeEmpty())))),
			"the spec device, with the listener's Ksock")
	})
})

var _ = Describe("kbus errno", func() {
	It("explains every error docs/kbus.md §13 names", func() {
		for _, e := range kbus.Errnos() {
			r := kbusRun(nil, "errno", e.Name())
			Expect(r.Code).To(Equal(0))
			Expect(r.Stdout).To(HavePrefix("Error %d (0x%x) is %s: ", int(e), int(e), e.Name()))
			Expect(r.Stdout).To(ContainSubstring(e.Meaning()))
			for _, s := range e.Situations() {
				Expect(r.Stdout).To(ContainSubstring(s))
			}
		}
	})

	It("prints EPIPE's Linux and KBUS meanings for 32", func() {
		r := kbusRun(nil, "errno", "32")
		Expect(r.Stdout).To(HavePrefix("Error 32 (0x20) is EPIPE: Broken pipe\n"))
		Expect(r.Stdout).To(ContainSubstring("stateful request"))
	})
})

func itoa(n int) string { return strconv.Itoa(n) }
