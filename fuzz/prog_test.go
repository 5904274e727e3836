package fuzz

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/kbus-project/kbus/kbus/raw"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		p := Generate(r)
		q, err := Decode(p.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("program %d changed in a round trip:\n%s\n%s", i, p.Encode(), q.Encode())
		}
	}
}

func TestGenerateIsSeeded(t *testing.T) {
	a := Generate(rand.New(rand.NewSource(7)))
	b := Generate(rand.New(rand.NewSource(7)))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two programs")
	}
}

func TestMutateStaysInRange(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	p := Generate(r)
	for i := 0; i < 2000; i++ {
		p = Mutate(r, p, Generate(r))
		if len(p) > 200 {
			t.Fatalf("a program grew to %d operations", len(p))
		}
		if _, err := Decode(p.Encode()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeRefusesOutOfRange(t *testing.T) {
	for _, s := range []string{`[{"op":"open","slot":4}]`, `[{"op":"open","slot":0,"thread":2}]`, `{`} {
		if _, err := Decode([]byte(s)); err == nil {
			t.Errorf("%s: decoded", s)
		}
	}
}

func TestCommittedCorpusDecodes(t *testing.T) {
	ps, err := Corpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 4 {
		t.Fatalf("%d programs in the committed corpus", len(ps))
	}
}

func TestCommandCoversEveryNumber(t *testing.T) {
	for nr := 0; nr < 256; nr++ {
		if c := command(nr); c&0xff != uintptr(nr) || (c>>8)&0xff != 'k' {
			t.Fatalf("command(%d) = %#x", nr, c)
		}
	}
}

// The executor itself must survive every program: here against
// /dev/null, where each KBUS call fails, but every path of building the
// calls' arguments (bad pointers, mutated messages, pieces) runs.
func TestExecutorRunsAnyProgram(t *testing.T) {
	e, err := NewExecutor("/dev/null", true)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Corpus()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(11))
	for i := 0; i < 300; i++ {
		p := Generate(r)
		if i%2 == 1 {
			p = Mutate(r, ps[i%len(ps)], p)
		}
		if _, err := e.Run(p); err != nil {
			t.Fatalf("program %d: %v\n%s", i, err, p.Encode())
		}
	}
}

// A poll whose timeout a mutation made huge, on a slot with no descriptor
// (which poll(2) ignores), waits for nothing: the executor bounds it, or
// the program would be reported as a hung module (the cold run of
// 2026-12-05, kept as fuzz/corpus/04-poll-without-descriptor.json).
func TestExecutorBoundsAPollsTimeout(t *testing.T) {
	e, err := NewExecutor("/dev/null", true)
	if err != nil {
		t.Fatal(err)
	}
	p := Program{{Kind: OpOpen, Slot: 0}, {Kind: OpPoll, Slot: 1, Val: 0xffff_fffe}}
	if _, err := e.Run(p); err != nil {
		t.Fatalf("%v\n%s", err, p.Encode())
	}
}

// Operations with Proc 1 run in a second process, which OpKill ends with
// SIGKILL and the next such operation starts again.
func TestExecutorRunsTheSecondProcessAndKillsIt(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "device")
	// Run as root, the child is another user, who must reach the file.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dev, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dev, 0o666); err != nil {
		t.Fatal(err)
	}
	e, err := NewExecutor(dev, true)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ch, err := e.submit(1, 1, Program{{Kind: OpOpen, Slot: 2, Proc: 1, Thread: 1}})
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	first := e.child
	if first == nil || first.cmd.Process.Pid == os.Getpid() {
		t.Fatal("no second process")
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", first.cmd.Process.Pid))
	opened := false
	for _, fd := range fds {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", first.cmd.Process.Pid, fd.Name())); l == dev {
			opened = true
		}
	}
	if !opened {
		t.Fatalf("the second process has not opened %s (%v)", dev, err)
	}
	if os.Geteuid() == 0 {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", first.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d\n", ChildUID, ChildUID, ChildUID, ChildUID)
		if !strings.Contains(string(status), want) {
			t.Errorf("the second process of a fuzzer run as root is not user %d:\n%s", ChildUID, status)
		}
	}
	if _, err := e.Run(Program{{Kind: OpKill, Proc: 1}, {Kind: OpOpen, Slot: 0, Proc: 1}}); err != nil {
		t.Fatal(err)
	}
	if ws, ok := first.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the first child ended with %v", first.cmd.ProcessState)
	}
	if e.child == nil || e.child == first || !e.child.alive() {
		t.Fatal("no fresh second process after the kill")
	}
}

// OpIoctl hands any command number an argument of ioctlArgSize bytes, so
// every command's argument must fit in it: a command that read a larger
// one would take the rest from the fuzzer's memory, and might write a
// message there.
func TestIoctlArgumentHoldsEveryCommandsArgument(t *testing.T) {
	for name, size := range map[string]uintptr{
		"kbus_receive_many": unsafe.Sizeof(receiveManyArg{}),
		"kbus_receive":      unsafe.Sizeof(receiveArg{}),
		"kbus_bind_request": unsafe.Sizeof(raw.BindRequest{}),
		"kbus_msg_id":       unsafe.Sizeof(raw.MsgID{}),
		"message header":    uintptr(raw.LP64.HeaderSize()), // SENDMSG reads a header
	} {
		if size > ioctlArgSize {
			t.Errorf("%s is %d bytes, more than OpIoctl's %d", name, size, ioctlArgSize)
		}
	}
}
