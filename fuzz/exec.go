package fuzz

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/kbus-project/kbus/fuzz/kcov"
	"github.com/kbus-project/kbus/internal/usermem"
	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// ErrHang means an operation did not return: the module is stuck.
var ErrHang = errors.New("fuzz: an operation did not return")

// How long a thread's operations may take before the other thread's next
// ones start without them (they may be waiting, and the next ones may be
// what they wait for), and before a program that has not finished counts
// as hung.
const (
	overlapAfter = 50 * time.Millisecond
	hangAfter    = 20 * time.Second
)

// maxPollMS is the longest an OpPoll waits, whatever its Val says.
const maxPollMS = 10

// maxWaitMS is the longest timeout of a RECVMSG that waits (Op.Flag): the
// descriptor blocks for that call only, so that the module's waiting and
// its interruption (Op.Intr) are reached without a call that never
// returns.
const maxWaitMS = 50

// intrDelay is when an interrupted call (Op.Intr) gets its signal.
const intrDelay = 2 * time.Millisecond

// coverSize is how many block addresses one operation may record.
const coverSize = 1 << 16

// Executor runs programs on a KBUS device, each operation on the thread
// and in the process the program says (child.go), each thread with its
// own KCOV buffer.
type Executor struct {
	device  string
	noCover bool
	threads [Threads]*thread
	bad     badMemory

	mu  sync.Mutex // guards fds and last between the threads
	fds [Slots]int
	// slotMu keeps the other operations off a slot while one has made its
	// descriptor blocking (a RECVMSG that waits): they hold it shared.
	slotMu [Slots]sync.RWMutex
	last   [Slots]*raw.Header // the last message read whole on each slot
	pinned [Slots][][]byte    // a pointy message's name and data, until the next write

	child *child // the second process, once an operation needs it
	kills int    // of the second process, by OpKill

	// newDevices counts this process's NEWDEVICEs: devices are never
	// removed, so only maxNewDevices are made, the rest ask for the id.
	newDevices atomic.Int32
	// bound is the device's max_user_bindings when the executor started,
	// which opReset puts back ("" if it could not be read).
	bound string
}

// maxNewDevices is how many devices one executor may make.
const maxNewDevices = 3

// inspections is how many things OpInspect does (its N, modulo).
const inspections = 5

// deviceFile is one of the device's files under /sys/class/kbus/kbusN.
func (e *Executor) deviceFile(name string) string {
	return filepath.Join("/sys/class/kbus", filepath.Base(e.device), name)
}

// job is a run of consecutive operations for one thread: handing work to
// another thread costs a wake-up, which under emulation costs more than
// most operations.
type job struct {
	ops  []Op
	done chan [][]uintptr // the blocks each operation ran, in order
}

type thread struct {
	tid  int // the OS thread's id, for a signal that interrupts its call
	jobs chan job
	err  chan error
	buf  []byte // for reads, reused: a program asks for up to 1 MiB a time
	ro   []byte // a page it makes read-only once an argument is in it, then a no-access page
	// slow is a page missing until a resolver fills it (PtrSlow); nil
	// where userfaultfd is not to be had and coverage is optional.
	slow *usermem.Userfault
	// filled is closed once the page the running operation got is there.
	filled chan struct{}
	// failNth is this thread's /proc/thread-self/fail-nth, or -1 where
	// the kernel has no fault injection (Op.Fail is then ignored).
	failNth  int
	injected bool // failNth was set for the running operation
}

// slowDelay is how long a PtrSlow page keeps its call waiting.
const slowDelay = 5 * time.Millisecond

// maxRead is the most a read or RECVMSG of a program asks for.
const maxRead = 1 << 20

// ioctlArgSize is the room OpIoctl gives its argument: at least the
// largest argument of any KBUS ioctl in any layout (a test checks).
const ioctlArgSize = 128

// badMemory is user memory a call may not (all) touch.
type badMemory struct {
	none  uintptr // a page with no access
	short []byte  // a readable, writable page followed by none
}

// NewExecutor prepares the threads and their coverage buffers. Without
// KCOV it fails with kcov.ErrUnavailable, unless coverage is optional
// (the host's own tests run programs against a file that is no KBUS
// device, to exercise the executor itself).
func NewExecutor(device string, coverageOptional bool) (*Executor, error) {
	e := &Executor{device: device, noCover: coverageOptional}
	for i := range e.fds {
		e.fds[i] = -1
	}
	if b, err := os.ReadFile(e.deviceFile("max_user_bindings")); err == nil {
		e.bound = strings.TrimSpace(string(b))
	}
	page := unix.Getpagesize()
	m, err := unix.Mmap(-1, 0, 3*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("fuzz: mapping bad memory: %w", err)
	}
	if err := unix.Mprotect(m[page:2*page], unix.PROT_NONE); err != nil {
		return nil, fmt.Errorf("fuzz: mprotect: %w", err)
	}
	e.bad = badMemory{none: uintptr(unsafe.Pointer(&m[page])), short: m[page-64 : page]}
	for i := range e.threads {
		ro, err := unix.Mmap(-1, 0, 2*page, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return nil, fmt.Errorf("fuzz: mapping read-only memory: %w", err)
		}
		t := &thread{jobs: make(chan job), err: make(chan error, 1), buf: make([]byte, maxRead), ro: ro[:page]}
		// Made before the child becomes another user, so that the page
		// may keep the kernel waiting too (vm.unprivileged_userfaultfd).
		if t.slow, err = usermem.NewUserfault(1); err != nil && !coverageOptional {
			return nil, fmt.Errorf("fuzz: slow memory: %w", err)
		}
		e.threads[i] = t
		go e.run(t)
		if err := <-t.err; err != nil {
			return nil, err
		}
	}
	return e, nil
}

// run is one thread: locked to its OS thread, with KCOV enabled on it.
func (e *Executor) run(t *thread) {
	runtime.LockOSThread() // for good: the thread ends with the executor
	t.tid = unix.Gettid()
	// Opened on this thread, before the child becomes another user: the
	// file is this task's, and stays writable.
	t.failNth = -1
	if fd, err := unix.Open("/proc/thread-self/fail-nth", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
		t.failNth = fd
	}
	c, err := kcov.Open(coverSize)
	if err == nil {
		err = c.Enable()
	}
	if errors.Is(err, kcov.ErrUnavailable) && e.noCover {
		c, err = nil, nil
	}
	t.err <- err
	if err != nil {
		return
	}
	for j := range t.jobs {
		runs := make([][]uintptr, 0, len(j.ops))
		for _, op := range j.ops {
			if c == nil {
				t.injectFault(op.Fail)
				e.do(t, op)
				t.injectFault(0)
				t.settle()
				runs = append(runs, nil)
				continue
			}
			t.injectFault(op.Fail)
			c.Reset()
			e.do(t, op)
			runs = append(runs, append([]uintptr(nil), c.PCs()...))
			t.injectFault(0)
			t.settle()
		}
		j.done <- runs
	}
}

// Run runs p and returns the blocks each operation ran, or ErrHang if an
// operation did not return. An operation that takes a while does not hold
// up the next one on another thread, which may be what it waits for.
func (e *Executor) Run(p Program) ([][]uintptr, error) {
	var (
		pending [Procs * Threads]chan [][]uintptr
		runs    [][]uintptr
	)
	wait := func(w int) error {
		if pending[w] == nil {
			return nil
		}
		select {
		case r := <-pending[w]:
			runs = append(runs, r...)
			pending[w] = nil
			return nil
		case <-time.After(hangAfter):
			return ErrHang
		}
	}
	for i := 0; i < len(p); {
		if p[i].Kind == OpKill {
			if e.child != nil {
				e.kills++
			}
			if err := e.killChild(); err != nil {
				return runs, err
			}
			for t := 0; t < Threads; t++ {
				if err := wait(Threads + t); err != nil {
					return runs, err
				}
			}
			runs = append(runs, nil)
			i++
			continue
		}
		proc, t, j := p[i].Proc, p[i].Thread, i+1
		for j < len(p) && p[j].Proc == proc && p[j].Thread == t && p[j].Kind != OpKill {
			j++
		}
		w := proc*Threads + t
		if err := wait(w); err != nil {
			return runs, err
		}
		ch, err := e.submit(proc, t, p[i:j])
		if err != nil {
			return runs, err
		}
		select {
		case r := <-ch:
			runs = append(runs, r...)
		case <-time.After(overlapAfter):
			pending[w] = ch
		}
		i = j
	}
	for w := range pending {
		if err := wait(w); err != nil {
			return runs, err
		}
	}
	// Close what is left, on thread 0 of each process, so that close is
	// covered too, and put the device-wide switches back.
	var end []Op
	for s := 0; s < Slots; s++ {
		end = append(end, Op{Kind: OpClose, Slot: s})
	}
	if e.child != nil && e.child.alive() {
		ch, _ := e.submit(1, 0, end)
		select {
		case r := <-ch:
			runs = append(runs, r...)
		case <-time.After(hangAfter):
			return runs, ErrHang
		}
	}
	ch, _ := e.submit(0, 0, append(end, Op{Kind: opReset}))
	return append(runs, <-ch...), nil
}

// submit hands ops to thread t of process proc, starting the child if it
// is not running.
func (e *Executor) submit(proc, t int, ops []Op) (chan [][]uintptr, error) {
	if proc == 0 {
		ch := make(chan [][]uintptr, 1)
		e.threads[t].jobs <- job{ops: ops, done: ch}
		return ch, nil
	}
	if e.child == nil || !e.child.alive() {
		c, err := startChild(e.device, e.noCover)
		if err != nil {
			return nil, err
		}
		e.child = c
	}
	return e.child.submit(t, ops), nil
}

// killChild ends the child with SIGKILL, if it runs; ErrHang if it
// does not die (a task stuck in the module, uninterruptibly).
func (e *Executor) killChild() error {
	if e.child == nil {
		return nil
	}
	c := e.child
	e.child = nil
	if !c.kill(hangAfter) {
		return fmt.Errorf("%w: the child outlived SIGKILL", ErrHang)
	}
	return nil
}

// Close ends the child. The executor's own threads live as long as the
// process.
func (e *Executor) Close() error {
	return e.killChild()
}

// opReset puts the device-wide switches back after a program.
const opReset Kind = "reset"

func (e *Executor) fd(slot int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fds[slot]
}

func (e *Executor) ptr(p Ptr, good unsafe.Pointer) uintptr {
	switch p {
	case PtrNull:
		return 0
	case PtrNone:
		return e.bad.none
	case PtrKernel:
		// The top of the address space is the kernel's on every target.
		return ^uintptr(0) &^ 0xfff
	case PtrShort:
		return uintptr(unsafe.Pointer(&e.bad.short[0]))
	}
	return uintptr(good)
}

// bytesAt is b's address, or the bad address p says; for PtrShort the
// bytes that fit are copied before the no-access page, for PtrReadOnly
// into t's read-only page.
func (e *Executor) bytesAt(t *thread, p Ptr, b []byte) uintptr {
	if len(b) == 0 {
		b = make([]byte, 1)
	}
	switch p {
	case PtrShort:
		copy(e.bad.short, b)
	case PtrReadOnly:
		return t.readOnly(b)
	case PtrSlow:
		return t.slowly(b)
	}
	return e.ptr(p, unsafe.Pointer(&b[0]))
}

// valueAt is bytesAt for the size bytes of a Go value at v.
func (e *Executor) valueAt(t *thread, p Ptr, v unsafe.Pointer, size uintptr) uintptr {
	switch p {
	case PtrReadOnly:
		return t.readOnly(unsafe.Slice((*byte)(v), size))
	case PtrSlow:
		return t.slowly(unsafe.Slice((*byte)(v), size))
	}
	return e.ptr(p, v)
}

// slowly returns the address of t's slow page, missing again, which a
// resolver fills with what of b fits after slowDelay; settle waits for
// that. Without the page, b itself.
func (t *thread) slowly(b []byte) uintptr {
	if t.slow == nil || t.slow.Drop() != nil {
		return uintptr(unsafe.Pointer(&b[0]))
	}
	content := append([]byte(nil), b...)
	filled := make(chan struct{})
	t.filled = filled
	go func() {
		defer close(filled)
		time.Sleep(slowDelay)
		_ = t.slow.ResolveWith(content)
	}()
	return uintptr(unsafe.Pointer(&t.slow.Mem()[0]))
}

// injectFault makes the nth allocation of this thread's next calls fail;
// 0 takes back what the last call did not use.
func (t *thread) injectFault(n uint32) {
	if t.failNth < 0 {
		return
	}
	if n == 0 {
		// Clearing a count nobody set costs a system call per
		// operation: only after one that asked.
		if !t.injected {
			return
		}
		t.injected = false
	} else {
		t.injected = true
	}
	_, _ = unix.Pwrite(t.failNth, []byte(strconv.FormatUint(uint64(n), 10)), 0)
}

// settle waits until the slow page the last operation got is there, so
// that the next one finds it missing only if it asks for it.
func (t *thread) settle() {
	if t.filled != nil {
		<-t.filled
		t.filled = nil
	}
}

// readOnly puts what of b fits into t's read-only page, and returns its
// address. If the page cannot be written first, the call gets the page
// as it was: still memory it may not write.
func (t *thread) readOnly(b []byte) uintptr {
	if unix.Mprotect(t.ro, unix.PROT_READ|unix.PROT_WRITE) == nil {
		copy(t.ro, b)
		_ = unix.Mprotect(t.ro, unix.PROT_READ)
	}
	return uintptr(unsafe.Pointer(&t.ro[0]))
}

// struct kbus_bind_request and struct kbus_receive (raw.BindRequest,
// raw.Receive) with the pointer as a plain address, which may be a bad
// one; the memory it names is kept alive by the caller.
type bindArg struct {
	First, NameLen uint32
	Name           uintptr
}

type receiveArg struct {
	Len, TimeoutMS uint32
	Buf            uintptr
}

// receiveManyArg is struct kbus_receive_many.
type receiveManyArg struct {
	Len, TimeoutMS, Max, Count uint32
	Buf                        uintptr
}

// command is KBUS's ioctl command nr, or for a number KBUS does not have,
// one encoded as its commands are (_IOWR('k', nr, char *)).
func command(nr int) uintptr {
	if nr >= 1 && nr <= raw.MaxNrExt {
		return uintptr(raw.Native.Ioctl(nr))
	}
	return 3<<30 | unsafe.Sizeof(uintptr(0))<<16 | 'k'<<8 | uintptr(nr&0xff)
}

func ioctl(fd int, nr int, arg uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), command(nr), arg)
}

// do runs one operation. Errors are the point: they are not reported.
func (e *Executor) do(t *thread, op Op) {
	wait := op.Kind == OpRecvMsg && op.Flag && op.Val > 0
	if wait {
		e.slotMu[op.Slot].Lock()
		defer e.slotMu[op.Slot].Unlock()
	} else {
		e.slotMu[op.Slot].RLock()
		defer e.slotMu[op.Slot].RUnlock()
	}
	if op.Intr {
		// Go's handlers restart what the kernel lets restart
		// (SA_RESTART); the signal itself is one the runtime ignores
		// when it did not ask for it.
		pid, tid := unix.Getpid(), t.tid
		timer := time.AfterFunc(intrDelay, func() { _ = unix.Tgkill(pid, tid, unix.SIGURG) })
		defer timer.Stop()
	}
	fd := e.fd(op.Slot)
	switch op.Kind {
	case OpOpen:
		e.closeSlot(op.Slot)
		mode := unix.O_RDWR
		if op.Flag {
			mode = unix.O_RDONLY
		}
		nfd, err := unix.Open(e.device, mode|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			e.mu.Lock()
			e.fds[op.Slot] = nfd
			e.mu.Unlock()
		}
	case OpClose:
		e.closeSlot(op.Slot)
	case opReset:
		if rfd, err := unix.Open(e.device, unix.O_RDWR|unix.O_CLOEXEC, 0); err == nil {
			off, size := uint32(0), uint32(409600)
			ioctl(rfd, raw.NrReportReplierBinds, uintptr(unsafe.Pointer(&off)))
			ioctl(rfd, raw.NrMaxMsgSize, uintptr(unsafe.Pointer(&size)))
			unix.Close(rfd)
		}
		if e.bound != "" {
			_ = os.WriteFile(e.deviceFile("max_user_bindings"), []byte(e.bound), 0)
		}
	case OpInspect:
		// What a monitoring tool reads (docs/kbus.md §12), and the
		// bound root sets (§18.5): other users get EACCES writing it.
		switch op.N % inspections {
		case 0:
			inspectListing("/proc/kbus/bindings", op.Val)
		case 1:
			inspectListing("/proc/kbus/stats", op.Val)
		case 2:
			_, _ = os.ReadFile(e.deviceFile("name_hash"))
		case 3:
			_, _ = os.ReadFile(e.deviceFile("max_user_bindings"))
		case 4:
			_ = os.WriteFile(e.deviceFile("max_user_bindings"), []byte(strconv.FormatUint(uint64(op.Val), 10)), 0)
		}
	case OpBind, OpUnbind:
		name := append([]byte(op.Name), 0)
		req := bindArg{NameLen: uint32(len(op.Name)), Name: e.bytesAt(t, op.Ptr, name)}
		if op.Flag {
			req.First = 1
		}
		nr := raw.NrBind
		if op.Kind == OpUnbind {
			nr = raw.NrUnbind
		}
		ioctl(fd, nr, uintptr(unsafe.Pointer(&req)))
		runtime.KeepAlive(name)
	case OpWrite:
		b := e.message(op.Slot, op.Msg)
		if op.Ptr != PtrGood {
			_, _, _ = unix.Syscall(unix.SYS_WRITE, uintptr(fd), e.bytesAt(t, op.Ptr, b), uintptr(len(b)))
			break
		}
		step := len(b)
		if op.N > 0 {
			step = int(op.N)
		}
		for i := 0; i < len(b); i += step {
			if _, err := unix.Write(fd, b[i:min(i+step, len(b))]); err != nil {
				break
			}
		}
	case OpSend:
		var id raw.MsgID
		ioctl(fd, raw.NrSend, e.valueAt(t, op.Ptr, unsafe.Pointer(&id), unsafe.Sizeof(id)))
	case OpSendMsg:
		b := e.message(op.Slot, op.Msg)
		ioctl(fd, raw.NrSendMsg, e.bytesAt(t, op.Ptr, b))
	case OpDiscard:
		ioctl(fd, raw.NrDiscard, 0)
	case OpNextMsg:
		var n uint32
		ioctl(fd, raw.NrNextMsg, e.valueAt(t, op.Ptr, unsafe.Pointer(&n), unsafe.Sizeof(n)))
	case OpRead:
		room := min(op.N, maxRead)
		if op.Ptr == PtrSlow {
			// The slow page is one page: a longer read would copy
			// past it, into the fuzzer's own memory (as RECVMSG below).
			room = min(room, uint32(unix.Getpagesize()))
		}
		buf := t.buf[:max(room, 1)]
		n, _, _ := unix.Syscall(unix.SYS_READ, uintptr(fd), e.bytesAt(t, op.Ptr, buf), uintptr(room))
		if op.Ptr == PtrGood && int(n) > 0 && int(n) <= len(buf) {
			e.remember(op.Slot, buf[:n])
		}
	case OpRecvMsg:
		buf := t.buf[:max(min(op.N, maxRead), 1)]
		arg := receiveArg{Len: min(op.N, maxRead), TimeoutMS: op.Val}
		if wait && fd >= 0 {
			// A RECVMSG that waits: the descriptor blocks for this call
			// (the others on the slot wait for it), for at most maxWaitMS.
			arg.TimeoutMS = min(op.Val, maxWaitMS)
			if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
				if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK); err == nil {
					defer func() { _, _ = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl) }()
				}
			}
		}
		argp := uintptr(unsafe.Pointer(&arg))
		switch op.Ptr {
		case PtrReadOnly:
			arg.Buf = uintptr(unsafe.Pointer(&buf[0]))
			argp = t.readOnly(unsafe.Slice((*byte)(unsafe.Pointer(&arg)), unsafe.Sizeof(arg)))
		case PtrSlow:
			// The buffer the message is copied to: the copy waits. It
			// is one page, and says so: RECVMANY fills all the room
			// it is given, and past the page lies the fuzzer's own
			// memory (a fuzz run died of SIGSEGV before this bound).
			arg.Len = min(arg.Len, uint32(unix.Getpagesize()))
			arg.Buf = t.slowly(buf[:min(len(buf), unix.Getpagesize())])
		default:
			arg.Buf = e.ptr(op.Ptr, unsafe.Pointer(&buf[0]))
		}
		if op.Many > 0 {
			many := receiveManyArg{Len: arg.Len, TimeoutMS: arg.TimeoutMS, Max: op.Many - 1, Buf: arg.Buf}
			argp = uintptr(unsafe.Pointer(&many))
			if op.Ptr == PtrReadOnly {
				argp = t.readOnly(unsafe.Slice((*byte)(unsafe.Pointer(&many)), unsafe.Sizeof(many)))
			}
			_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), command(raw.NrRecvMany), argp)
			if errno == 0 && op.Ptr == PtrGood && many.Count == 1 && int(many.Len) <= len(buf) {
				e.remember(op.Slot, buf[:many.Len])
			}
			runtime.KeepAlive(buf)
			break
		}
		n, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), command(raw.NrRecvMsg), argp)
		if errno == 0 && op.Ptr == PtrGood && int(n) <= len(buf) {
			e.remember(op.Slot, buf[:n])
		}
		runtime.KeepAlive(buf)
	case OpIoctl:
		nr, val := int(op.N), op.Val
		switch nr {
		case raw.NrNewDevice:
			// Devices are never removed: a few, then the id instead.
			// Only a call that can make one counts: one whose argument
			// can be read and written back.
			canMake := op.Ptr != PtrNull && op.Ptr != PtrNone && op.Ptr != PtrKernel && op.Ptr != PtrReadOnly
			if canMake && e.newDevices.Add(1) > maxNewDevices {
				nr = raw.NrKsockID
			}
		case raw.NrVerbose:
			val = min(val, 0) // a console full of pr_info would slow everything
		}
		// The program's value is the argument's first u32, in room for
		// the largest argument any command reads or writes back, the rest
		// zeros: a command whose argument holds a pointer (RECVMSG's
		// buffer, BIND's name) gets a null one, not whatever lay next to
		// a lone u32 in the fuzzer's memory, where the module would then
		// copy a message.
		var arg [ioctlArgSize]byte
		raw.Order.PutUint32(arg[:], val)
		ioctl(fd, nr, e.bytesAt(t, op.Ptr, arg[:]))
		runtime.KeepAlive(&arg)
	case OpPoll:
		// poll(2) is the kernel's, not the module's: its timeout is not
		// worth fuzzing, and a mutated one (up to 49 days, or for ever on
		// a slot with no descriptor) would be taken for a hung module.
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLOUT}}
		_, _ = unix.Poll(fds, int(min(op.Val, maxPollMS)))
	}
}

func (e *Executor) closeSlot(slot int) {
	e.mu.Lock()
	fd := e.fds[slot]
	e.fds[slot] = -1
	e.last[slot] = nil
	e.mu.Unlock()
	if fd >= 0 {
		unix.Close(fd)
	}
}

// remember keeps the header of a message read whole, to answer it.
func (e *Executor) remember(slot int, b []byte) {
	h, _, _, err := raw.Native.DecodeHeader(b)
	if err != nil {
		return
	}
	e.mu.Lock()
	e.last[slot] = &h
	e.mu.Unlock()
}

// message is m's bytes as the program's slot would write them.
func (e *Executor) message(slot int, m *Msg) []byte {
	if m == nil {
		m = &Msg{Name: "$.F.a"}
	}
	h := raw.Header{Flags: m.Flags, To: m.To, NameLen: uint32(len(m.Name)), DataLen: uint32(m.Data)}
	e.mu.Lock()
	if last := e.last[slot]; m.ReplyToLast && last != nil {
		h.InReplyTo, h.To = last.ID, last.From
	}
	e.mu.Unlock()
	data := make([]byte, m.Data)
	for i := range data {
		data[i] = byte(i)
	}
	var b []byte
	if m.Pointy {
		name := append([]byte(m.Name), 0)
		var namePtr, dataPtr uint64
		namePtr = uint64(uintptr(unsafe.Pointer(&name[0])))
		if len(data) > 0 {
			dataPtr = uint64(uintptr(unsafe.Pointer(&data[0])))
		}
		// KBUS reads them at SEND, perhaps operations later: keep them
		// reachable (Go does not move heap memory) until then.
		e.mu.Lock()
		e.pinned[slot] = [][]byte{name, data}
		e.mu.Unlock()
		b = raw.Native.EncodePointy(h, namePtr, dataPtr)
	} else {
		b = raw.Native.EncodeEntire(h, m.Name, data)
	}
	for _, f := range m.Flips {
		if len(b) > 0 {
			b[f[0]%len(b)] ^= byte(f[1])
		}
	}
	switch {
	case m.Cut > 0 && m.Cut < len(b):
		b = b[:len(b)-m.Cut]
	case m.Cut < 0:
		b = append(b, make([]byte, -m.Cut)...)
	}
	return b
}

// inspectListing reads a /proc/kbus listing as monitors do, and in the
// ways its slices allow (docs/kbus.md §12.3): whole (how 0), in 64-byte
// pieces to its end (1), three such pieces and then a close with the
// reader's place kept (2), or a page at a time with, after the first, a
// seek and a read at an offset, which are refused, and a rewind (others).
func inspectListing(path string, how uint32) {
	if how == 0 {
		_, _ = os.ReadFile(path)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	piece, pieces := 64, -1
	switch how {
	case 1:
	case 2:
		pieces = 3
	default:
		piece = 4096
	}
	buf := make([]byte, piece)
	for i := 0; i != pieces; i++ {
		if _, err := f.Read(buf); err != nil {
			return
		}
		if i == 0 && piece == 4096 {
			_, _ = f.Seek(1, io.SeekStart)
			_, _ = f.ReadAt(buf, 1)
			_, _ = f.Seek(0, io.SeekStart)
		}
	}
}
