package support

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// CgroupRoot is where the guest's init mounts cgroup v2.
const CgroupRoot = "/sys/fs/cgroup"

// MemCgroup is a cgroup v2 group with a memory limit, for running a
// process whose kernel memory (what KBUS allocates for it among the rest)
// is charged there. It is emptied and removed when the spec ends.
type MemCgroup struct {
	Dir string
	fd  int
}

// NewMemCgroup creates the group name under the root with memory.max
// limit bytes and no swap. The group's name ends in the spec device's
// number, so that suites side by side never share one.
func NewMemCgroup(name string, limit int64) *MemCgroup {
	GinkgoHelper()
	Expect(filepath.Join(CgroupRoot, "cgroup.controllers")).To(BeAnExistingFile(), "cgroup v2 is mounted")
	Expect(os.WriteFile(filepath.Join(CgroupRoot, "cgroup.subtree_control"), []byte("+memory"), 0)).To(Succeed())
	dir := filepath.Join(CgroupRoot, name+"-dev"+strconv.Itoa(Device))
	Expect(os.Mkdir(dir, 0o755)).To(Succeed())
	c := &MemCgroup{Dir: dir}
	DeferCleanup(c.remove)
	Expect(c.write("memory.max", strconv.FormatInt(limit, 10))).To(Succeed())
	_ = c.write("memory.swap.max", "0") // no swap in the guest anyway
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	Expect(err).NotTo(HaveOccurred())
	c.fd = fd
	return c
}

func (c *MemCgroup) write(file, value string) error {
	return os.WriteFile(filepath.Join(c.Dir, file), []byte(value), 0)
}

// Command is a command that starts inside the group (clone3's
// CLONE_INTO_CGROUP), so that all it allocates is charged there.
func (c *MemCgroup) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	c.Into(cmd.SysProcAttr)
	return cmd
}

// Into makes a process started with attr start inside the group.
func (c *MemCgroup) Into(attr *syscall.SysProcAttr) {
	attr.UseCgroupFD, attr.CgroupFD = true, c.fd
}

// SetMax sets the group's memory.max to limit bytes.
func (c *MemCgroup) SetMax(limit int64) {
	GinkgoHelper()
	Expect(c.write("memory.max", strconv.FormatInt(limit, 10))).To(Succeed())
}

// Value is one number from a file of the group (memory.current, or a key
// of memory.events when key is given).
func (c *MemCgroup) Value(file, key string) int64 {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join(c.Dir, file))
	Expect(err).NotTo(HaveOccurred())
	if key == "" {
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		Expect(err).NotTo(HaveOccurred())
		return v
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == key {
			v, err := strconv.ParseInt(f[1], 10, 64)
			Expect(err).NotTo(HaveOccurred())
			return v
		}
	}
	Fail("no " + key + " in " + file)
	return 0
}

// remove kills what is left in the group, waits for it to empty and
// removes it.
func (c *MemCgroup) remove() {
	_ = c.write("cgroup.kill", "1")
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := os.Remove(c.Dir)
		if err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c.fd > 0 {
		_ = unix.Close(c.fd)
	}
}
