package support

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/sim/device"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
)

// Sim is a simulated device running as its own process (simdev).
type Sim struct {
	Name string
	Log  string // its JSON-lines event log
	cmd  *exec.Cmd
	done chan error
}

// StartSim starts "simdev NAME ARGS..." and waits until the device is
// bound. It is stopped (SIGTERM, then SIGKILL) when the spec ends.
func StartSim(name string, args ...string) *Sim {
	GinkgoHelper()
	path, err := exec.LookPath("simdev")
	Expect(err).NotTo(HaveOccurred(), "simdev must be on the guest's PATH")
	dir := GinkgoT().TempDir()
	s := &Sim{Name: name, Log: filepath.Join(dir, name+".log"), done: make(chan error, 1)}
	ready := filepath.Join(dir, "ready")
	s.cmd = exec.Command(path, append([]string{name, "--log", s.Log, "--ready", ready}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = GinkgoWriter, GinkgoWriter
	Expect(s.cmd.Start()).To(Succeed())
	go func() { s.done <- s.cmd.Wait() }()
	DeferCleanup(s.Stop)
	DeferCleanup(s.dumpIfFailed)
	Eventually(func() bool {
		_, err := os.Stat(ready)
		return err == nil || s.Exited()
	}).WithTimeout(20 * time.Second).WithPolling(10 * time.Millisecond).Should(BeTrue())
	Expect(ready).To(BeAnExistingFile(), "%s exited before it was ready", name)
	return s
}

// dumpIfFailed writes the device's event log to the spec's output when the
// spec failed: what each device saw is what explains a failure.
func (s *Sim) dumpIfFailed() {
	if !CurrentSpecReport().Failed() {
		return
	}
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return
	}
	GinkgoWriter.Printf("event log of %s:\n%s", s.Name, b)
}

// Exited reports whether the process has ended.
func (s *Sim) Exited() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return true
	default:
		return false
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (s *Sim) Kill() {
	GinkgoHelper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	Eventually(s.Exited).WithTimeout(10 * time.Second).Should(BeTrue())
}

// Stop ends the process cleanly (SIGTERM), killing it if it lingers.
func (s *Sim) Stop() {
	if s.Exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// Wait waits for the process to exit by itself.
func (s *Sim) Wait(d time.Duration) {
	GinkgoHelper()
	Eventually(s.Exited).WithTimeout(d).Should(BeTrue(), "%s did not finish", s.Name)
}

// Events returns what the device logged so far.
func (s *Sim) Events() []device.Event {
	GinkgoHelper()
	evs, err := device.ReadLog(s.Log)
	if os.IsNotExist(err) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return evs
}

// Matching returns the logged events named event whose fields include kv.
func (s *Sim) Matching(event string, kv ...string) []device.Event {
	var out []device.Event
	for _, e := range s.Events() {
		if e.Event != event {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if e.Fields[kv[i]] != kv[i+1] {
				ok = false
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// EventuallyLogs waits until the device has logged a matching event.
func (s *Sim) EventuallyLogs(event string, kv ...string) device.Event {
	GinkgoHelper()
	Eventually(func() int { return len(s.Matching(event, kv...)) }).
		WithTimeout(20*time.Second).WithPolling(20*time.Millisecond).
		Should(BeNumerically(">", 0), "%s never logged %s %v", s.Name, event, kv)
	return s.Matching(event, kv...)[0]
}

// Proc is any of our commands running as its own process in the guest.
type Proc struct {
	cmd  *exec.Cmd
	done chan error
	out  *gbytes.Buffer
}

// StartProc starts a command from the guest's PATH; it is killed when the
// spec ends.
func StartProc(name string, args ...string) *Proc {
	GinkgoHelper()
	path, err := exec.LookPath(name)
	Expect(err).NotTo(HaveOccurred(), "%s must be on the guest's PATH", name)
	p := &Proc{cmd: exec.Command(path, args...), done: make(chan error, 1), out: gbytes.NewBuffer()}
	w := io.MultiWriter(GinkgoWriter, p.out)
	p.cmd.Stdout, p.cmd.Stderr = w, w
	Expect(p.cmd.Start()).To(Succeed())
	go func() { p.done <- p.cmd.Wait() }()
	DeferCleanup(p.Kill)
	return p
}

// Output is what the process wrote to stdout and stderr so far: match it
// with gbytes.Say.
func (p *Proc) Output() *gbytes.Buffer { return p.out }

// Kill ends the process with SIGKILL and waits for it.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(10 * time.Second):
	}
}
