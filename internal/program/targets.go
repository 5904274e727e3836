package program

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/kbus-project/kbus/internal/creds"
	"github.com/kbus-project/kbus/internal/usermem"
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/model"
	"github.com/kbus-project/kbus/kbus/procfs"
	"github.com/kbus-project/kbus/kbus/raw"
	"golang.org/x/sys/unix"
)

// Model runs programs against the model.
type Model struct {
	devs [Devices]*model.Device
	ks   [Slots]*model.Ksock
}

// MaxUserBindings is how many bindings the other user may hold on each
// device a program runs on (docs/kbus.md §18.5): few, so that random
// programs reach the bound.
const MaxUserBindings = 3

// NewModel returns fresh model devices.
func NewModel() *Model {
	m := &Model{}
	for d := range m.devs {
		m.devs[d] = model.NewDevice()
		m.devs[d].SetMaxUserBindings(MaxUserBindings)
	}
	return m
}

func (m *Model) Open(s int, writable bool, dev int, other bool) uint32 {
	if other {
		m.ks[s] = m.devs[dev].OpenAsOther(writable)
	} else {
		m.ks[s] = m.devs[dev].Open(writable)
	}
	return m.ks[s].ID()
}
func (m *Model) Close(s int)                                   { m.ks[s].Close() }
func (m *Model) Bind(s int, name string, replier bool) error   { return m.ks[s].Bind(name, replier) }
func (m *Model) Unbind(s int, name string, replier bool) error { return m.ks[s].Unbind(name, replier) }
func (m *Model) Send(s int, msg kbus.Message, o Op) (kbus.MessageID, error) {
	if o.Pointy {
		return m.ks[s].SendPointy(msg, o.Bad == BadName, o.Bad == BadData)
	}
	return m.ks[s].Send(msg)
}
func (m *Model) Retry(s int) (kbus.MessageID, error) { return m.ks[s].Retry() }
func (m *Model) Discard(s int)                       { m.ks[s].Discard() }
func (m *Model) Poll(s int) (bool, bool)             { return m.ks[s].Poll() }
func (m *Model) Next(s int) (*kbus.Message, error)   { return m.ks[s].Next(), nil }
func (m *Model) NextMsg(s int) uint32                { return m.ks[s].NextMsg() }
func (m *Model) ReceiveMany(s, room, max int) ([]*kbus.Message, int, error) {
	return m.ks[s].ReceiveMany(room, max)
}
func (m *Model) Read(s int, n int, readOnly bool) (int, uint32, error) {
	if readOnly {
		if err := m.ks[s].ReadBad(n); err != nil {
			return 0, 0, err
		}
		return 0, m.ks[s].LenLeft(), nil
	}
	return len(m.ks[s].Read(n)), m.ks[s].LenLeft(), nil
}
func (m *Model) SetMaxMessages(s int, n uint32) uint32          { return m.ks[s].SetMaxMessages(n) }
func (m *Model) OnlyOnce(s int, v uint32) (uint32, error)       { return m.ks[s].OnlyOnce(v) }
func (m *Model) Verbose(s int, v uint32) (uint32, error)        { return m.ks[s].Verbose(v) }
func (m *Model) MaxMessageSize(s int, v uint32) (uint32, error) { return m.ks[s].MaxMessageSize(v) }
func (m *Model) LastSent(s int) kbus.MessageID                  { return m.ks[s].LastSent() }
func (m *Model) FindReplier(s int, name string) (uint32, error) { return m.ks[s].FindReplier(name) }
func (m *Model) ReportReplierBinds(s int, v uint32) (uint32, error) {
	return m.ks[s].ReportReplierBinds(v)
}

func (m *Model) BadArgument(s int, o Op) error { return m.ks[s].BadArgument() }

func (m *Model) Counts(s int) KsockCounts {
	k := m.ks[s]
	return KsockCounts{NumMsgs: k.NumMessages(), Unreplied: k.UnrepliedTo(), Queued: k.Queued(),
		Outstanding: k.Outstanding(), Sending: k.Pending()}
}

// Module runs programs against the kbus module, through bare descriptors
// on its raw ABI: nothing polls them (so nothing retries a pending send)
// but the program.
type Module struct {
	paths [Devices]string
	nums  [Devices]int // N of each /dev/kbusN
	fds   [Slots]int
	ids   [Slots]uint32
	devs  [Slots]int // the device of each slot's Ksock
	// otherGID is the group an other slot's calls are made with; -1 for
	// the slots that act as the process itself (root).
	otherGID [Slots]int
}

// OtherUID is who an "other" slot's calls are made as: the unprivileged
// user, with the group of the node it opens (root's on the devices the
// model comparison makes, the kbus group's under a package's udev rule),
// so that it may open the node and is not its owner.
const OtherUID = creds.Nobody

// as makes call as the slot's process: itself, or the other user on a
// thread of its own (internal/creds). The module decides at each
// device-wide call who is asking, so an other slot's open and those calls
// go through here.
func (m *Module) as(s int, call func()) {
	if m.otherGID[s] < 0 {
		call()
		return
	}
	if err := creds.Do(OtherUID, m.otherGID[s], call); err != nil {
		panic("program: " + err.Error())
	}
}

// Devices are the module's devices that programs run on, made ready once
// for many runs: a descriptor held on each for the device-wide settings,
// and the bound on another user's bindings set as the model's.
type ModuleDevices struct {
	paths [Devices]string
	nums  [Devices]int // N of each /dev/kbusN
	ctl   [Devices]int // a descriptor on each, -1 where it could not open
}

// OpenModule makes the devices at paths ready for runs. A device it
// cannot open is left for a program's Open to report.
func OpenModule(paths [Devices]string) *ModuleDevices {
	d := &ModuleDevices{paths: paths}
	for i, path := range paths {
		n, nerr := deviceNumber(path)
		d.nums[i] = n
		d.ctl[i] = -1
		if fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0); err == nil {
			d.ctl[i] = fd
		}
		// As the model's; without root this fails, and the programs'
		// binds of the other user say so.
		if nerr == nil {
			_ = kbus.SetMaxUserBindings(n, MaxUserBindings)
		}
	}
	return d
}

// Close lets the devices go.
func (d *ModuleDevices) Close() {
	for i, fd := range d.ctl {
		if fd >= 0 {
			unix.Close(fd)
			d.ctl[i] = -1
		}
	}
}

// NewModule starts a run on the devices, with the device-wide settings a
// program may change (replier bind events, VERBOSE, the maximum message
// size) put back as the model's fresh devices have them.
func (d *ModuleDevices) NewModule() *Module {
	for _, fd := range d.ctl {
		if fd < 0 {
			continue
		}
		for _, s := range [...]struct {
			nr int
			v  uint32
		}{{raw.NrReportReplierBinds, 0}, {raw.NrVerbose, 0}, {raw.NrMaxMsgSize, model.DefaultMaxMessageSize}} {
			_, _ = raw.Call(uintptr(fd), s.nr, unsafe.Pointer(&s.v))
		}
	}
	return &Module{paths: d.paths, nums: d.nums}
}

// deviceNumber is N of /dev/kbusN.
func deviceNumber(path string) (int, error) {
	return strconv.Atoi(strings.TrimPrefix(filepath.Base(path), "kbus"))
}

func errno(err error) error {
	if e, ok := err.(unix.Errno); ok {
		return kbus.Errno(e)
	}
	return err
}

func (m *Module) ioctl(s, nr int, arg unsafe.Pointer) (int, error) {
	r, err := raw.Call(uintptr(m.fds[s]), nr, arg)
	return r, errno(err)
}

func (m *Module) u32(s, nr int, v uint32) uint32 {
	m.ioctl(s, nr, unsafe.Pointer(&v))
	return v
}

func (m *Module) Open(s int, writable bool, dev int, other bool) uint32 {
	flags := unix.O_RDONLY
	if writable {
		flags = unix.O_RDWR
	}
	m.otherGID[s] = -1
	if other {
		var st unix.Stat_t
		if err := unix.Stat(m.paths[dev], &st); err != nil {
			panic("program: " + err.Error())
		}
		m.otherGID[s] = int(st.Gid)
	}
	var fd int
	var err error
	m.as(s, func() { fd, err = unix.Open(m.paths[dev], flags|unix.O_CLOEXEC, 0) })
	if err != nil {
		panic("program: opening " + m.paths[dev] + ": " + err.Error())
	}
	m.fds[s], m.devs[s] = fd, dev
	m.ids[s] = m.u32(s, raw.NrKsockID, 0)
	return m.ids[s]
}

func (m *Module) Close(s int) { unix.Close(m.fds[s]) }

func (m *Module) bind(s, nr int, name string, replier bool) error {
	b := append([]byte(name), 0)
	req := raw.BindRequest{NameLen: uint32(len(name)), Name: &b[0]}
	if replier {
		req.First = 1
	}
	_, err := m.ioctl(s, nr, unsafe.Pointer(&req))
	runtime.KeepAlive(b)
	return err
}

// Bind and Unbind are made as the slot's user: the module counts an
// other user's bindings (docs/kbus.md §18.5).
func (m *Module) Bind(s int, name string, replier bool) (err error) {
	m.as(s, func() { err = m.bind(s, raw.NrBind, name, replier) })
	return err
}

func (m *Module) Unbind(s int, name string, replier bool) (err error) {
	m.as(s, func() { err = m.bind(s, raw.NrUnbind, name, replier) })
	return err
}

// badPointer is an address no program can read.
const badPointer = 16

func (m *Module) Send(s int, msg kbus.Message, o Op) (kbus.MessageID, error) {
	b := msg.Bytes()
	var name, data []byte
	if o.Pointy {
		h, _, _, err := raw.Native.DecodeHeader(b)
		if err != nil {
			panic("program: " + err.Error())
		}
		name, data = append([]byte(msg.Name), 0), msg.Data
		var namePtr, dataPtr uint64 = address(name), 0
		if len(data) > 0 {
			dataPtr = address(data)
		}
		switch o.Bad {
		case BadName:
			namePtr = badPointer
		case BadData:
			if len(data) > 0 {
				dataPtr = badPointer
			}
		}
		b = raw.Native.EncodePointy(h, namePtr, dataPtr)
	}
	piece := len(b)
	if o.Piece > 0 {
		piece = o.Piece
	}
	// Pieces until one fails: the module then throws the message away.
	for len(b) > 0 {
		n := min(piece, len(b))
		_, err := unix.Write(m.fds[s], b[:n])
		if err == unix.EAGAIN { // interrupted waiting for the device lock
			continue
		}
		if err != nil {
			return kbus.MessageID{}, errno(err)
		}
		b = b[n:]
	}
	id, err := m.Retry(s)
	runtime.KeepAlive(name)
	runtime.KeepAlive(data)
	return id, err
}

// address is where b's bytes are, for a pointy header: the garbage
// collector does not move heap memory, and the caller keeps b alive.
func address(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

func (m *Module) Retry(s int) (kbus.MessageID, error) {
	var id kbus.MessageID
	_, err := m.ioctl(s, raw.NrSend, unsafe.Pointer(&id))
	return id, err
}

func (m *Module) Discard(s int) { m.ioctl(s, raw.NrDiscard, nil) }

func (m *Module) Poll(s int) (bool, bool) {
	fds := []unix.PollFd{{Fd: int32(m.fds[s]), Events: unix.POLLIN | unix.POLLOUT}}
	_, err := unix.Poll(fds, 0)
	for err == unix.EINTR {
		_, err = unix.Poll(fds, 0)
	}
	return fds[0].Revents&unix.POLLIN != 0, fds[0].Revents&unix.POLLOUT != 0
}

func (m *Module) Next(s int) (*kbus.Message, error) {
	n := m.u32(s, raw.NrNextMsg, 0)
	if n == 0 {
		return nil, nil
	}
	b := make([]byte, n)
	got, err := unix.Read(m.fds[s], b)
	if err != nil {
		return nil, errno(err)
	}
	return kbus.FromBytes(b[:got])
}

func (m *Module) NextMsg(s int) uint32 { return m.u32(s, raw.NrNextMsg, 0) }

func (m *Module) ReceiveMany(s, room, max int) ([]*kbus.Message, int, error) {
	buf := make([]byte, room+1) // +1: a room of 0 still has an address
	rq := raw.ReceiveMany{Len: uint32(room), Max: uint32(max), Buf: &buf[0]}
	_, err := m.ioctl(s, raw.NrRecvMany, unsafe.Pointer(&rq))
	for err == kbus.Errno(unix.EINTR) { // interrupted waiting for the device lock
		_, err = m.ioctl(s, raw.NrRecvMany, unsafe.Pointer(&rq))
	}
	runtime.KeepAlive(buf)
	if errors.Is(err, unix.EMSGSIZE) { // len is the first message's
		return nil, int(rq.Len), err
	}
	if err != nil { // len is as it was
		return nil, 0, err
	}
	bs, _, serr := raw.Native.SplitEntire(buf[:rq.Len], int(rq.Count))
	ms := make([]*kbus.Message, 0, len(bs))
	for _, b := range bs {
		msg, err := kbus.FromBytes(b)
		if err != nil {
			return ms, int(rq.Len), err
		}
		ms = append(ms, msg)
	}
	if serr != nil {
		return ms, int(rq.Len), fmt.Errorf("RECVMANY: %w", serr)
	}
	return ms, int(rq.Len), nil
}

func (m *Module) Read(s int, n int, readOnly bool) (int, uint32, error) {
	b := make([]byte, n)
	if readOnly {
		mem, err := usermem.ReadOnly(b)
		if err != nil {
			panic("program: " + err.Error())
		}
		defer usermem.Unmap(mem)
		b = mem[:n]
	}
	got, err := unix.Read(m.fds[s], b)
	for err == unix.EAGAIN { // interrupted waiting for the device lock
		got, err = unix.Read(m.fds[s], b)
	}
	if err != nil {
		return 0, 0, errno(err)
	}
	return got, m.u32(s, raw.NrLenLeft, 0), nil
}

func (m *Module) SetMaxMessages(s int, n uint32) uint32 { return m.u32(s, raw.NrMaxMsgs, n) }

// value is an ioctl that takes a u32 and gives one back.
// value is an ioctl that takes and gives a u32: a switch, MAXMSGS or
// MAXMSGSIZE, made as the slot's process (the device-wide ones are
// decided by who asks).
func (m *Module) value(s, nr int, v uint32) (uint32, error) {
	var err error
	m.as(s, func() { _, err = m.ioctl(s, nr, unsafe.Pointer(&v)) })
	if err != nil {
		return 0, err
	}
	return v, nil
}

func (m *Module) OnlyOnce(s int, v uint32) (uint32, error) { return m.value(s, raw.NrMsgOnlyOnce, v) }
func (m *Module) Verbose(s int, v uint32) (uint32, error)  { return m.value(s, raw.NrVerbose, v) }
func (m *Module) MaxMessageSize(s int, v uint32) (uint32, error) {
	return m.value(s, raw.NrMaxMsgSize, v)
}
func (m *Module) ReportReplierBinds(s int, v uint32) (uint32, error) {
	return m.value(s, raw.NrReportReplierBinds, v)
}

func (m *Module) LastSent(s int) kbus.MessageID {
	var id kbus.MessageID
	m.ioctl(s, raw.NrLastSent, unsafe.Pointer(&id))
	return id
}

// FindReplier is REPLIER: its value says whether there is one (1/0,
// docs/kbus.md §16.4), its return_id which.
func (m *Module) FindReplier(s int, name string) (uint32, error) {
	b := append([]byte(name), 0)
	q := raw.BindRequest{NameLen: uint32(len(name)), Name: &b[0]}
	r, err := m.ioctl(s, raw.NrReplier, unsafe.Pointer(&q))
	runtime.KeepAlive(b)
	if err != nil {
		return 0, err
	}
	if (r == 1) != (q.First != 0) {
		return 0, fmt.Errorf("REPLIER gave %d with return_id %d", r, q.First)
	}
	return q.First, nil
}

func (m *Module) Counts(s int) KsockCounts {
	c := KsockCounts{NumMsgs: int(m.u32(s, raw.NrNumMsgs, 0)), Unreplied: int(m.u32(s, raw.NrUnrepliedTo, 0)),
		Queued: -1, Outstanding: -1}
	devs, err := procfs.ReadStats(m.device(s))
	if err != nil {
		panic("program: " + err.Error())
	}
	for _, d := range devs {
		for _, k := range d.Ksocks {
			if k.ID == m.ids[s] && d.Index == m.device(s) {
				c.Queued, c.Outstanding, c.Sending = int(k.Queued), int(k.Outstanding), k.Sending
			}
		}
	}
	return c
}

// device is the index of slot s's device (/dev/kbusN).
func (m *Module) device(s int) int { return m.nums[m.devs[s]] }

// BadArgument gives the ioctl no memory at all at its argument, or a valid
// argument in a page it may not write.
func (m *Module) BadArgument(s int, o Op) error {
	if !o.ReadOnly {
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(m.fds[s]), uintptr(raw.Native.Ioctl(o.Nr)), badPointer); e != 0 {
			return kbus.Errno(e)
		}
		return nil
	}
	// What the argument points to stays alive (and, being heap memory,
	// in place) until the call is done.
	var arg, keep []byte
	l := raw.Native
	switch o.Nr {
	case raw.NrReplier:
		keep = append([]byte(o.Name), 0)
		arg = l.EncodeBind(0, uint32(len(o.Name)), address(keep))
	case raw.NrSendMsg:
		msg := kbus.Message{Name: o.Name, Data: []byte(o.Data)}
		arg = msg.Bytes()
	case raw.NrRecvMsg:
		keep = make([]byte, 4096)
		arg = l.EncodeReceive(uint32(len(keep)), 0, address(keep))
	default: // a u32 in, or room for what comes out
		arg = make([]byte, 16)
		raw.Order.PutUint32(arg, o.N)
	}
	err := usermem.IoctlReadOnly(m.fds[s], raw.Native.Ioctl(o.Nr), arg)
	runtime.KeepAlive(keep)
	if _, ok := err.(unix.Errno); err != nil && !ok {
		panic("program: " + err.Error())
	}
	return errno(err)
}

var (
	_ Target = (*Model)(nil)
	_ Target = (*Module)(nil)
)
