package hostile_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/internal/usermem"
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/procfs"
	"github.com/kbus-project/kbus/kbus/raw"
	"github.com/kbus-project/kbus/rig/guestproto"
	. "github.com/kbus-project/kbus/specs/support"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"
)

// attackEnv makes the suite's binary a child process that makes one
// attack (TestHostile).
const attackEnv = "KBUS_HOSTILE_ATTACK"

// hold is how long an attacker keeps a page from coming.
const hold = 4 * time.Second

// queuedRequests is how many requests the closing attacker leaves queued:
// hostile.requests=N on the guest's kernel command line, else 20 000. The
// debug kernel's run asks for fewer (the Makefile's qemu-test-debug): each
// request costs it milliseconds under KASAN and kmemleak, and what it is
// there to check, the slices' memory and locks, 5 000 requests (twenty
// slices) check as well; the scale is the other kernels' to show
// (docs/testing.md, "What a run costs").
func queuedRequests() int {
	if n, ok := Param("hostile.requests"); ok && n > 0 {
		return int(n)
	}
	return 20000
}

// startAttacker starts the attack name in a child process (this suite's
// binary, runAttack) running as Nobody in the kbus group, and waits until
// it is ready. When the spec ends the attacker must clean up and exit 0.
func startAttacker(name string, env ...string) *Helper {
	GinkgoHelper()
	self, err := os.Executable()
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(self)
	cmd.Env = append(append(os.Environ(), attackEnv+"="+name), env...)
	return attackWith(cmd)
}

// attackWith starts cmd, an attacker that speaks runAttack's protocol, as
// Nobody in the kbus group (inside a cgroup if cmd says so).
func attackWith(cmd *exec.Cmd) *Helper {
	GinkgoHelper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: Nobody, Gid: Nobody, Groups: []uint32{kbusGroup}}
	a := StartHelper(cmd)
	DeferCleanup(func() { Expect(a.End()).To(Succeed(), "the attacker cleans up and exits") })
	// Setting up 20 000 requests took from seconds to over 5 min on the
	// debug kernel beside another suite (KASAN, kmemleak, TCG).
	Expect(a.Line(10 * time.Minute)).To(Equal("ready"))
	return a
}

// hoardBindings is how many times the hoarding listener binds "$.*". Each
// binding costs every send a queue entry under the device lock: with 1000
// the debug kernel's victim made one round trip in 4 s (its allocations are
// slow there). How many a user may make is bounded (docs/kbus.md §18.5;
// the bind flood's spec); this spec is about whose memory they take.
const hoardBindings = 100

// startHoarder starts the hoarding listener in cg: the C program
// kbus-flood, which binds "$.*" hoardBindings times and never reads, with
// every page it needs touched beforehand, so that when its cgroup is full
// it does not fault (docs/testing.md, "Hostile neighbours").
func startHoarder(cg *MemCgroup) *Helper {
	GinkgoHelper()
	return attackWith(cg.Command(path.Join(guestproto.BinDir, guestproto.CFlood), "hoard",
		strconv.Itoa(hoardBindings), strconv.Itoa(int(hold/time.Second))))
}

// strike tells the attacker a to attack and waits until it says it is
// done: what it said.
func strike(a *Helper) string {
	GinkgoHelper()
	_, err := io.WriteString(a.In, "go\n")
	Expect(err).NotTo(HaveOccurred())
	s := a.Line(5 * time.Minute)
	Expect(s).To(HavePrefix("done"))
	return strings.TrimSpace(strings.TrimPrefix(s, "done"))
}

// runAttack is the child process. It sets the attack up, says "ready",
// waits for "go", attacks, says "done" and what it saw, and exits when its
// input closes. Exit status 1: the attack could not be made.
func runAttack(name string) int {
	in := bufio.NewReader(os.Stdin)
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "attacker %s: %s\n", name, fmt.Sprintf(format, args...))
		return 1
	}
	wait := func() { _, _ = in.ReadString('\n') }
	a, ok := attacks[name]
	if !ok {
		return fail("no such attack")
	}
	do, err := a()
	if err != nil {
		return fail("setting up: %v", err)
	}
	fmt.Println("ready")
	wait()
	detail, err := do()
	if err != nil {
		return fail("%v", err)
	}
	fmt.Println("done " + detail)
	_, _ = io.Copy(io.Discard, in)
	return 0
}

// An attack sets itself up and returns what it does when told to.
type attack func() (do func() (string, error), err error)

var attacks = map[string]attack{
	"slow pointy SEND":     slowMemory("send"),
	"slow write":           slowMemory("write"),
	"slow RECVMSG":         slowMemory("recvmsg"),
	"requests then close":  requestsThen("close"),
	"requests then unbind": requestsThen("unbind"),
	"device-wide calls":    deviceWide,
	"bind flood":           bindFlood,
	"listing reader":       listingReader,
}

// slowMemory is a call whose user memory (a pointy message's data, the
// buffer of write() or RECVMSG) is a page that does not come for hold.
func slowMemory(call string) attack {
	return func() (func() (string, error), error) {
		fd, err := unix.Open(kbus.DevicePath(Device), unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		uf, err := usermem.NewUserfault(1)
		if err != nil {
			return nil, err
		}
		name := []byte("$.Attacker.Slow\x00")
		switch call {
		case "send":
			hdr := raw.Native.EncodePointy(raw.Header{NameLen: uint32(len(name) - 1), DataLen: 64},
				uint64(uintptr(unsafe.Pointer(&name[0]))), uint64(uintptr(unsafe.Pointer(&uf.Mem()[0]))))
			if _, err := unix.Write(fd, hdr); err != nil {
				return nil, err
			}
		case "recvmsg":
			if err := ioctl(fd, raw.NrBind, unsafe.Pointer(&raw.BindRequest{NameLen: uint32(len(name) - 1),
				Name: &name[0]})); err != nil {
				return nil, err
			}
			m := kbus.NewAnnouncement(string(name[:len(name)-1]), []byte("for the slow reader"))
			if _, err := unix.Write(fd, m.Bytes()); err != nil {
				return nil, err
			}
			var id raw.MsgID
			if err := ioctl(fd, raw.NrSend, unsafe.Pointer(&id)); err != nil {
				return nil, err
			}
		}
		return func() (string, error) {
			result := make(chan error, 1)
			go func() {
				switch call {
				case "send":
					var id raw.MsgID
					result <- ioctl(fd, raw.NrSend, unsafe.Pointer(&id))
				case "write":
					_, err := unix.Write(fd, uf.Mem()[:256])
					if e, ok := err.(unix.Errno); ok {
						err = kbus.Errno(e)
					}
					result <- err
				case "recvmsg":
					r := raw.Receive{Len: uint32(len(uf.Mem())), Buf: &uf.Mem()[0]}
					result <- ioctl(fd, raw.NrRecvMsg, unsafe.Pointer(&r))
				}
				runtime.KeepAlive(name)
			}()
			if !uf.WaitFaulted(10 * time.Second) {
				return "", fmt.Errorf("the %s never waited for its page", call)
			}
			time.Sleep(hold)
			uf.Resolve()
			select {
			case err := <-result:
				return fmt.Sprintf("%s: %v", call, err), nil
			case <-time.After(time.Minute):
				return "", fmt.Errorf("the %s did not end after its page came", call)
			}
		}, nil
	}
}

// ioctl is RawKsock's, on a descriptor the attacker opened itself.
func ioctl(fd, nr int, arg unsafe.Pointer) error { return (&RawKsock{Fd: fd}).Ioctl(nr, arg) }

var pastTense = map[string]string{"close": "closed", "unbind": "unbound"}

// requestsThen leaves queuedRequests requests queued on a replier of its
// own, then closes it, or unbinds its name: either owes each a status.
func requestsThen(end string) attack {
	return func() (func() (string, error), error) {
		n := queuedRequests()
		replier, err := kbus.Open(Device, kbus.ReadWrite)
		if err != nil {
			return nil, err
		}
		sender, err := kbus.Open(Device, kbus.ReadWrite)
		if err != nil {
			return nil, err
		}
		for _, ks := range []*kbus.Ksock{replier, sender} {
			if _, err := ks.SetMaxMessages(uint32(n + 10)); err != nil {
				return nil, err
			}
		}
		const sink = "$.Attacker.Sink"
		if err := replier.BindReplier(sink); err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if _, err := sender.Send(kbus.NewRequest(sink, nil)); err != nil {
				return nil, fmt.Errorf("request %d: %w", i, err)
			}
		}
		return func() (string, error) {
			start := time.Now()
			if end == "close" {
				err = replier.Close()
			} else {
				err = replier.UnbindReplier(sink)
			}
			if err != nil {
				return "", err
			}
			took := time.Since(start)
			n, err := sender.NumMessages()
			if err != nil {
				return "", err
			}
			replier.Close()
			sender.Close()
			return fmt.Sprintf("%s in %v (%d..%d), %d statuses", pastTense[end], took.Round(time.Millisecond),
				start.UnixNano(), start.Add(took).UnixNano(), n), nil
		}, nil
	}
}

// floodCapEnv tells the bind flood when to stop if nothing refuses it.
const floodCapEnv = "KBUS_HOSTILE_FLOOD_CAP"

// floodKsocks is over how many Ksocks the bind flood spreads: the bound is
// the user's, not a Ksock's (docs/kbus.md §18.5).
const floodKsocks = 4

// bindFlood binds "$.*", which every message matches, on floodKsocks
// Ksocks in turn until KBUS refuses (or floodCapEnv bindings are made),
// each Ksock with room for a million messages that it never reads, and
// keeps the bindings for hold: what it bound, and how it was stopped.
func bindFlood() (func() (string, error), error) {
	limit, err := strconv.Atoi(os.Getenv(floodCapEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", floodCapEnv, err)
	}
	var ks [floodKsocks]*kbus.Ksock
	for i := range ks {
		if ks[i], err = kbus.Open(Device, kbus.ReadWrite); err != nil {
			return nil, err
		}
		if _, err := ks[i].SetMaxMessages(1 << 20); err != nil {
			return nil, err
		}
	}
	return func() (string, error) {
		bound, stop := 0, "no refusal"
		for ; bound < limit; bound++ {
			if err := ks[bound%floodKsocks].BindListener("$.*"); err != nil {
				stop = errName(err)
				break
			}
		}
		time.Sleep(hold)
		for _, k := range ks {
			if err := k.Close(); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("bound %d, then %s", bound, stop), nil
	}, nil
}

// deviceWide tries every change to the whole device, and NEWDEVICE until
// the device numbers would run out: what each gave.
func deviceWide() (func() (string, error), error) {
	fd, err := unix.Open(kbus.DevicePath(Device), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return func() (string, error) {
		var out []string
		for _, c := range []struct {
			name string
			nr   int
			v    uint32
		}{
			{"VERBOSE", raw.NrVerbose, 1}, {"REPORTREPLIERBINDS", raw.NrReportReplierBinds, 1},
			{"MAXMSGSIZE", raw.NrMaxMsgSize, 100},
		} {
			v := c.v
			out = append(out, fmt.Sprintf("%s=%s", c.name, errName(ioctl(fd, c.nr, unsafe.Pointer(&v)))))
		}
		made := 0
		var last error
		for i := 0; i < 255; i++ {
			var n uint32
			if last = ioctl(fd, raw.NrNewDevice, unsafe.Pointer(&n)); last != nil {
				break
			}
			made++
		}
		out = append(out, fmt.Sprintf("NEWDEVICE=%s made=%d", errName(last), made))
		return strings.Join(out, " "), nil
	}, nil
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var e kbus.Errno
	if errors.As(err, &e) {
		return e.Name()
	}
	return err.Error()
}

// crowdPrefix begins the names of the bindings that crowd the device
// while the listing reader reads.
const crowdPrefix = "$.Crowd."

// listingReader reads /proc/kbus/bindings whole, a page at a time, again
// and again for hold and at least three times: how many crowd bindings of
// Device each listing held, and the median over the listings of the
// share of a listing's time that its longest read() took. A module that
// formats the listing in slices spends about the same on every read; one
// that formats it whole spends nearly all of it on the first
// (docs/kbus.md §12.3).
func listingReader() (func() (string, error), error) {
	return func() (string, error) {
		var shares []int
		least, most := -1, 0
		for start := time.Now(); len(shares) < 3 || time.Since(start) < hold; {
			crowd, share, err := readListing()
			if err != nil {
				return "", err
			}
			shares = append(shares, share)
			if least < 0 || crowd < least {
				least = crowd
			}
			most = max(most, crowd)
		}
		slices.Sort(shares)
		return fmt.Sprintf("%d listings of %d..%d crowd bindings, the longest read %d%% of a listing (median)",
			len(shares), least, most, shares[len(shares)/2]), nil
	}, nil
}

// readListing reads the bindings listing once, 4 KiB at a time: the crowd
// bindings of Device in it, and the percentage of the whole read's time
// that the longest read() took.
func readListing() (crowd, share int, err error) {
	f, err := os.Open(procfs.BindingsPath)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var text []byte
	buf := make([]byte, 4096)
	var longest time.Duration
	began := time.Now()
	for {
		t := time.Now()
		n, err := f.Read(buf)
		longest = max(longest, time.Since(t))
		text = append(text, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, err
		}
	}
	whole := time.Since(began)
	head := fmt.Sprintf("%3d:", Device)
	for _, line := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(line, head) && strings.Contains(line, "  "+crowdPrefix) {
			crowd++
		}
	}
	return crowd, int(100 * longest / whole), nil
}
