package support

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Helper is a child process a spec drives a line at a time: it writes to
// the helper's standard input and reads its standard output.
type Helper struct {
	In   io.WriteCloser
	cmd  *exec.Cmd
	out  *bufio.Reader
	once sync.Once
	err  error
}

// StartHelper starts cmd, its standard error going to the spec's output.
// When the spec ends the helper's input is closed and it is waited for
// (killed after a minute), unless the spec has ended it itself (End).
func StartHelper(cmd *exec.Cmd) *Helper {
	GinkgoHelper()
	cmd.Stderr = GinkgoWriter
	in, err := cmd.StdinPipe()
	Expect(err).NotTo(HaveOccurred())
	out, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	h := &Helper{In: in, cmd: cmd, out: bufio.NewReader(out)}
	DeferCleanup(func() { _ = h.End() })
	return h
}

// Line is the helper's next line of output, without its newline, within d.
func (h *Helper) Line(d time.Duration) string {
	GinkgoHelper()
	got := make(chan string, 1)
	go func() {
		s, _ := h.out.ReadString('\n')
		got <- strings.TrimSpace(s)
	}()
	var s string
	Eventually(got).WithTimeout(d).Should(Receive(&s), "the helper process reports")
	return s
}

// End closes the helper's input and waits for it to exit, killing it
// after a minute: how it exited. Later calls return the same.
func (h *Helper) End() error {
	h.once.Do(func() {
		_ = h.In.Close()
		done := make(chan error, 1)
		go func() { done <- h.cmd.Wait() }()
		select {
		case h.err = <-done:
		case <-time.After(time.Minute):
			_ = h.cmd.Process.Kill()
			h.err = <-done
		}
	})
	return h.err
}
