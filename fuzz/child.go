package fuzz

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/internal/creds"
)

// A program's operations with Proc 1 run in a second process, the child:
// the fuzzer's own binary started again with childEnv set, which serves
// an Executor of its own (its own descriptors and threads, each thread
// with its own KCOV buffer) over its standard input and output. OpKill
// ends it with SIGKILL, whatever it is doing, and the next operation for
// it starts a fresh one: the module sees a process die with its Ksocks
// open, mid-call.

// childEnv names the device the child opens; childNoCover is set when
// the parent runs without coverage; childAs, "UID:GID", is who the child
// becomes once its threads have their coverage buffers.
const (
	childEnv     = "KBUS_FUZZ_CHILD"
	childNoCover = "KBUS_FUZZ_CHILD_NOCOVER"
	childAs      = "KBUS_FUZZ_CHILD_AS"
)

// ChildUID is the user the child runs as when the fuzzer runs as root: a
// second user, who may open the device through the node's group but not
// change it (docs/kbus.md §18.5), so that the module's refusals and a
// process of another user dying mid-call are fuzzed too.
const ChildUID = creds.Nobody

// childJob is what the parent sends: ops for one of the child's threads.
type childJob struct {
	Tag    int
	Thread int
	Ops    []Op
}

// childDone is the child's answer: the blocks each operation ran.
type childDone struct {
	Tag  int
	Runs [][]uintptr
}

// ChildMain serves as the executor's child and exits, if this process was
// started as one; otherwise it returns at once. Binaries that run the
// fuzzer call it first thing (a test binary from TestMain).
func ChildMain() {
	device := os.Getenv(childEnv)
	if device == "" {
		return
	}
	if err := serveChild(device, os.Getenv(childNoCover) != "", os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fuzz child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveChild(device string, noCover bool, in io.Reader, out io.Writer) error {
	e, err := NewExecutor(device, noCover)
	if err != nil {
		return err
	}
	if as := os.Getenv(childAs); as != "" {
		if err := becomeUser(as); err != nil {
			return err
		}
	}
	dec, enc := gob.NewDecoder(in), gob.NewEncoder(out)
	var mu sync.Mutex // guards enc
	for {
		var j childJob
		if err := dec.Decode(&j); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading a job: %w", err)
		}
		if j.Thread < 0 || j.Thread >= Threads {
			return fmt.Errorf("job for thread %d", j.Thread)
		}
		ch := make(chan [][]uintptr, 1)
		// The parent sends a thread's next job only when its last one is
		// done, so a blocked thread holds up no other.
		go func() {
			e.threads[j.Thread].jobs <- job{ops: j.Ops, done: ch}
			runs := <-ch
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(childDone{Tag: j.Tag, Runs: runs})
		}()
	}
}

// child is the parent's handle on a running child.
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	enc *gob.Encoder

	mu      sync.Mutex // guards waiting and tag
	waiting map[int]chan [][]uintptr
	tag     int
	gone    chan struct{} // closed when the child has exited and every waiter is answered
}

// startChild starts the child on device.
func startChild(device string, noCover bool) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fuzz: finding the binary for the child: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+device)
	if os.Geteuid() == 0 {
		var st syscall.Stat_t
		if err := syscall.Stat(device, &st); err != nil {
			return nil, fmt.Errorf("fuzz: the child's device: %w", err)
		}
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d:%d", childAs, ChildUID, st.Gid))
	}
	if noCover {
		cmd.Env = append(cmd.Env, childNoCover+"=1")
	}
	if fd, ok := childCgroup(); ok {
		defer syscall.Close(fd) // once the child has started in it
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("fuzz: child stdin: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("fuzz: child stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fuzz: starting the child: %w", err)
	}
	c := &child{cmd: cmd, in: in, enc: gob.NewEncoder(in), waiting: map[int]chan [][]uintptr{},
		gone: make(chan struct{})}
	go c.read(out)
	return c, nil
}

// childCgroupDir is the memory cgroup the child runs in: another one than
// the parent's, so that messages between the two are charged to each
// reader's own (docs/kbus.md §18.1, a copy of the message per cgroup).
const childCgroupDir = "/sys/fs/cgroup/kbus-fuzz-child"

// childCgroup opens childCgroupDir, making it if need be; false where
// there is no cgroup v2 to make it in, or no right to.
func childCgroup() (int, bool) {
	if os.Geteuid() != 0 {
		return -1, false
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		return -1, false
	}
	_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte("+memory"), 0)
	if err := os.Mkdir(childCgroupDir, 0o755); err != nil && !os.IsExist(err) {
		return -1, false
	}
	fd, err := syscall.Open(childCgroupDir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, false
	}
	return fd, true
}

// read hands each answer to its waiter; when the child ends, the jobs it
// did not finish are answered with no coverage.
func (c *child) read(out io.Reader) {
	dec := gob.NewDecoder(out)
	for {
		var d childDone
		if err := dec.Decode(&d); err != nil {
			break
		}
		c.mu.Lock()
		ch := c.waiting[d.Tag]
		delete(c.waiting, d.Tag)
		c.mu.Unlock()
		if ch != nil {
			ch <- d.Runs
		}
	}
	_ = c.cmd.Wait()
	c.mu.Lock()
	for tag, ch := range c.waiting {
		ch <- nil
		delete(c.waiting, tag)
	}
	c.waiting = nil
	c.mu.Unlock()
	close(c.gone)
}

// submit sends ops to the child's thread; the channel gets their blocks.
func (c *child) submit(thread int, ops []Op) chan [][]uintptr {
	ch := make(chan [][]uintptr, 1)
	c.mu.Lock()
	if c.waiting == nil { // the child has gone
		c.mu.Unlock()
		ch <- nil
		return ch
	}
	c.tag++
	tag := c.tag
	c.waiting[tag] = ch
	c.mu.Unlock()
	// If the child has died, the write fails and read answers every
	// waiter once the child has been reaped.
	_ = c.enc.Encode(childJob{Tag: tag, Thread: thread, Ops: ops})
	return ch
}

// kill ends the child with SIGKILL and waits until it has gone, for at
// most patience; it says whether the child went.
func (c *child) kill(patience time.Duration) bool {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.in.Close()
	select {
	case <-c.gone:
		return true
	case <-time.After(patience):
		return false
	}
}

// alive says whether the child still runs.
func (c *child) alive() bool {
	select {
	case <-c.gone:
		return false
	default:
		return true
	}
}

// becomeUser makes every thread of the process the user and group "UID:GID"
// says, with no supplementary groups (Go's syscall package changes all
// threads, the coverage threads included).
func becomeUser(as string) error {
	var uid, gid int
	if _, err := fmt.Sscanf(as, "%d:%d", &uid, &gid); err != nil {
		return fmt.Errorf("fuzz child: %s=%q: %w", childAs, as, err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("fuzz child: setgroups: %w", err)
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("fuzz child: setresgid: %w", err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("fuzz child: setresuid: %w", err)
	}
	return nil
}
