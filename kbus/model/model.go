// Package model is KBUS as docs/kbus.md describes it, in plain Go: a
// device with its Ksocks, bindings, queues, reserved reply slots, pending
// ALL_OR_WAIT sends, status messages and errnos. It is written from the
// documentation, not from the module, so that the two can be compared: a
// program of operations run against both must give the same results.
//
// A message is sent in one step (its writes and SEND): in entire form, or
// in pointy form with a bad name or data pointer if asked (EFAULT). How
// the writes split it does not change the outcome, so the model does not
// follow them. A message is read whole (Next), or selected (NextMsg) and
// read in pieces (Read, LenLeft). Modelled too: replier bind events, the
// set-aside list (docs/kbus.md §11), the device's maximum message size and
// its switches; who may change the device, and how many bindings a user
// who may not can hold (OpenAsOther, docs/kbus.md §18.5); ioctls given an
// argument they cannot read or write back (BadArgument); and messages a
// Limpet sends (ids from another network kept at SEND, orig_from and
// final_to passed on). Not modelled yet: /proc beyond a Ksock's counts.
// Devices share nothing: several are several Device values.
package model

import (
	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/kbus/raw"
	"math"
)

// Defaults of a device and a Ksock (docs/kbus.md §6).
const (
	DefaultMaxMessages    = 100
	DefaultMaxMessageSize = 409600
	// MaxMessageSizeCeiling is the most MAXMSGSIZE accepts, and
	// MinMaxMessageSize the least (docs/kbus.md §6, §7).
	MaxMessageSizeCeiling = 409600
	MinMaxMessageSize     = 100
	MaxNameLen            = 1000
	// MaxSetAside is how many unbind events the set-aside list holds
	// before it goes "tragic" (docs/kbus.md §11.3).
	MaxSetAside = 1000
	// DefaultMaxQueueBytes is what one Ksock's queue may hold, counting
	// each message as QueueBytes does (docs/kbus.md §18.1; the module's
	// kbus_max_queue_bytes).
	DefaultMaxQueueBytes = 64 << 20
	// QueuedMessageOverhead is what a queued message counts beside its
	// padded name and data.
	QueuedMessageOverhead = 128
	// DefaultMaxUserBindings is how many bindings a user who neither owns
	// the device node nor has CAP_SYS_ADMIN may hold on a device
	// (docs/kbus.md §18.5; the module's kbus_max_user_bindings).
	DefaultMaxUserBindings = 4096
)

// QueueBytes is what a queued message counts against its queue's bytes.
func QueueBytes(m *kbus.Message) int {
	return QueuedMessageOverhead + int(raw.PaddedNameLen(uint32(len(m.Name)))) + int(raw.PaddedDataLen(uint32(len(m.Data))))
}

// Device is one KBUS device.
type Device struct {
	nextSerial uint32
	nextKsock  uint32
	ksocks     []*Ksock   // newest first
	bindings   []*binding // newest first
	maxSize    uint32

	// maxUserBindings bounds the bindings of the other user's Ksocks
	// (OpenAsOther); 0: no bound.
	maxUserBindings uint32

	reportBinds bool    // REPORTREPLIERBINDS
	verbose     bool    // VERBOSE
	setAside    []aside // unbind events not yet delivered, oldest first
	tragic      bool    // the list overflowed; empty again resets it
}

// aside is an event set aside for a listener that had no room.
type aside struct {
	ks      *Ksock
	binding *binding // nil once that binding is gone (docs/kbus.md §17.1)
	msg     kbus.Message
	lost    bool // $.KBUS.UnbindEventsLost
}

// NewDevice returns a device as the module creates it at load.
func NewDevice() *Device {
	return &Device{maxSize: DefaultMaxMessageSize, maxUserBindings: DefaultMaxUserBindings}
}

// SetMaxUserBindings sets how many bindings the other user may hold, as
// root does for a device in /sys/class/kbus/kbusN/max_user_bindings; 0
// lifts the bound. Bindings already made stay.
func (d *Device) SetMaxUserBindings(n uint32) { d.maxUserBindings = n }

// HasReplier says whether some Ksock is bound as the replier for exactly
// name, as REPLIER (FindReplier) finds it.
func (d *Device) HasReplier(name string) bool {
	for _, b := range d.bindings {
		if b.replier && b.name == name {
			return true
		}
	}
	return false
}

// userBindings is how many bindings the other user holds.
func (d *Device) userBindings() uint32 {
	var n uint32
	for _, b := range d.bindings {
		if b.limited {
			n++
		}
	}
	return n
}

type binding struct {
	ks      *Ksock
	replier bool
	name    string
	limited bool // made by the other user: counted (docs/kbus.md §18.5)
}

type entry struct {
	msg     kbus.Message
	binding *binding // nil for replies and statuses
}

type owed struct {
	id   kbus.MessageID
	from uint32
}

// Ksock is one open file on the device.
type Ksock struct {
	dev         *Device
	id          uint32
	writable    bool
	closed      bool
	queue       []entry
	maxMessages uint32
	onlyOnce    bool
	lastPushed  kbus.MessageID
	outstanding []kbus.MessageID // requests sent, awaiting a reply
	unreplied   []owed           // requests taken, owing a reply; newest first
	pending     *kbus.Message    // an ALL_OR_WAIT send in progress
	lastSent    kbus.MessageID
	reading     []byte // what is still unread of the message NEXTMSG selected
	// mayChange: opened by the node's owner or a process with
	// CAP_SYS_ADMIN, who may change the whole device (docs/kbus.md §18.5).
	mayChange bool
}

// Open opens a Ksock, for writing or not, as root or the node's owner
// would: one that may change the whole device.
func (d *Device) Open(writable bool) *Ksock {
	k := d.OpenAsOther(writable)
	k.mayChange = true
	return k
}

// OpenAsOther opens a Ksock as a process that neither owns the device's
// node nor has CAP_SYS_ADMIN, but may open it (its group): it gets EPERM
// for every change to the whole device, and may ask (docs/kbus.md §18.5).
func (d *Device) OpenAsOther(writable bool) *Ksock {
	for {
		d.nextKsock++
		if d.nextKsock == 0 {
			continue
		}
		if d.find(d.nextKsock) == nil {
			break
		}
	}
	k := &Ksock{dev: d, id: d.nextKsock, writable: writable, maxMessages: DefaultMaxMessages}
	d.ksocks = append([]*Ksock{k}, d.ksocks...)
	return k
}

func (d *Device) find(id uint32) *Ksock {
	for _, k := range d.ksocks {
		if k.id == id {
			return k
		}
	}
	return nil
}

func (d *Device) nextID() kbus.MessageID {
	d.nextSerial++
	if d.nextSerial == 0 {
		d.nextSerial = 1
	}
	return kbus.MessageID{Serial: d.nextSerial}
}

// ID is the Ksock's id.
func (k *Ksock) ID() uint32 { return k.id }

// full reports whether k has no room, counting the slots its requests keep
// for their replies, less credit (docs/kbus.md §9.6).
func (k *Ksock) full(credit int) bool {
	return len(k.queue)+len(k.outstanding)-credit >= int(k.maxMessages)
}

// noRoom reports whether m does not fit k's queue: MAXMSGS, or its bytes.
func (k *Ksock) noRoom(m *kbus.Message) bool {
	if k.full(0) {
		return true
	}
	n := QueueBytes(m)
	for i := range k.queue {
		n += QueueBytes(&k.queue[i].msg)
	}
	return n > DefaultMaxQueueBytes
}

func (k *Ksock) awaits(id kbus.MessageID) bool {
	for _, o := range k.outstanding {
		if o == id {
			return true
		}
	}
	return false
}

func (k *Ksock) forget(id kbus.MessageID) {
	for i, o := range k.outstanding {
		if o == id {
			k.outstanding = append(k.outstanding[:i:i], k.outstanding[i+1:]...)
			return
		}
	}
}

func (k *Ksock) push(m kbus.Message, b *binding) {
	e := entry{msg: m, binding: b}
	if m.Flags&kbus.FlagUrgent != 0 {
		k.queue = append([]entry{e}, k.queue...)
	} else {
		k.queue = append(k.queue, e)
	}
	k.lastPushed = m.ID
}

// status sends KBUS's own reply name, for the request id from its sender
// to, when to still awaits it (docs/kbus.md §10, §16.11).
func (d *Device) status(name string, from, to uint32, id kbus.MessageID) {
	t := d.find(to)
	if t == nil || !t.awaits(id) {
		return
	}
	t.forget(id)
	t.push(kbus.Message{ID: d.nextID(), Name: name, From: from, To: to, InReplyTo: id, Flags: kbus.FlagSynthetic}, nil)
}

// --- names (docs/kbus.md §2): kbus.Matches and kbus.Specificity ---

// checkBindName is BIND's and UNBIND's checks of a name.
func checkBindName(name string) error {
	switch {
	case len(name) == 0:
		return kbus.ErrBadName
	case len(name) > MaxNameLen:
		return kbus.ErrNameTooLong
	case kbus.ValidateName(name, true) != nil:
		return kbus.ErrBadName
	}
	return nil
}

// --- binding (docs/kbus.md §7) ---

// Bind binds k to name, as a listener or as the replier.
func (k *Ksock) Bind(name string, replier bool) error {
	if err := checkBindName(name); err != nil {
		return err
	}
	if replier && name == kbus.NameReplierBindEvent {
		return kbus.ErrBadName
	}
	if replier {
		for _, b := range k.dev.bindings {
			if b.replier && b.name == name {
				return kbus.ErrReplierExists
			}
		}
	}
	// Counted before the event: a refused BIND announces nothing.
	limited := !k.mayChange
	if limited && k.dev.maxUserBindings > 0 && k.dev.userBindings() >= k.dev.maxUserBindings {
		return kbus.ErrTooManyBindings
	}
	// The event goes before the binding is made (docs/kbus.md §11.2).
	if replier && k.dev.reportBinds {
		if err := k.dev.bindEvent(true, k.id, name, false); err != nil {
			return err
		}
	}
	k.dev.bindings = append([]*binding{{ks: k, replier: replier, name: name, limited: limited}}, k.dev.bindings...)
	return nil
}

// Unbind removes k's most recent identical binding, and the copies queued
// through it (docs/kbus.md §9.8).
func (k *Ksock) Unbind(name string, replier bool) error {
	if err := checkBindName(name); err != nil {
		return err
	}
	// Unbinding the event name itself forgets what was set aside for k,
	// whatever happens next (docs/kbus.md §17.1).
	if name == kbus.NameReplierBindEvent {
		k.dev.dropAside(k, nil, true)
	}
	for i, b := range k.dev.bindings {
		if b.ks != k || b.replier != replier || b.name != name {
			continue
		}
		if replier && k.dev.reportBinds {
			if err := k.dev.bindEvent(false, k.id, name, false); err != nil {
				return err
			}
		}
		k.dev.bindings = append(k.dev.bindings[:i:i], k.dev.bindings[i+1:]...)
		var kept, removed []entry
		for _, e := range k.queue {
			if e.binding == b {
				removed = append(removed, e)
			} else {
				kept = append(kept, e)
			}
		}
		k.queue = kept
		// Statuses after: one may be for this Ksock itself.
		for _, e := range removed {
			if e.msg.WantsUsToReply() {
				k.dev.status(kbus.NameReplierUnbound, k.id, e.msg.From, e.msg.ID)
			}
		}
		k.dev.dropAside(k, b, false)
		if len(removed) > 0 {
			k.dev.moveAside(k)
		}
		return nil
	}
	return kbus.ErrInvalid
}

// --- replier bind events and the set-aside list (docs/kbus.md §11) ---

// bindEvent sends the event of a replier binding's coming (isBind) or
// going to every listener of it, all or none: ErrWouldBlock if one is
// full, unless mustSucceed (a closing Ksock), when it is set aside for all
// of them instead. The event takes an id either way.
func (d *Device) bindEvent(isBind bool, binder uint32, name string, mustSucceed bool) error {
	m := kbus.Message{ID: d.nextID(), Name: kbus.NameReplierBindEvent,
		Flags: kbus.FlagAllOrFail | kbus.FlagSynthetic,
		Data:  raw.EncodeBindEvent(raw.BindEvent{IsBind: isBind, Binder: binder, Name: name})}
	var listeners []*binding
	for _, b := range d.bindings {
		if !b.replier && kbus.Matches(b.name, m.Name) {
			listeners = append(listeners, b)
		}
	}
	for _, b := range listeners {
		if b.ks.full(0) {
			if !mustSucceed {
				return kbus.ErrWouldBlock
			}
			d.putAside(m, listeners)
			return nil
		}
	}
	for _, b := range listeners {
		if b.ks.onlyOnce && b.ks.lastPushed == m.ID {
			continue
		}
		b.ks.push(m, b)
	}
	return nil
}

// putAside keeps an event for each of its listeners; past the list's limit
// each gets one UnbindEventsLost instead (docs/kbus.md §11.3).
func (d *Device) putAside(m kbus.Message, listeners []*binding) {
	if !d.tragic && len(listeners)+len(d.setAside) <= MaxSetAside {
		for _, b := range listeners {
			d.setAside = append(d.setAside, aside{ks: b.ks, binding: b, msg: m})
		}
		return
	}
	d.tragic = true
	var lost *kbus.Message
	for _, b := range listeners {
		if a := d.lastAside(b.ks); a != nil && a.lost {
			continue
		}
		if lost == nil {
			lost = &kbus.Message{ID: d.nextID(), Name: kbus.NameUnbindEventsLost, Flags: kbus.FlagSynthetic}
		}
		d.setAside = append(d.setAside, aside{ks: b.ks, binding: b, msg: *lost, lost: true})
	}
}

func (d *Device) lastAside(k *Ksock) *aside {
	for i := len(d.setAside) - 1; i >= 0; i-- {
		if d.setAside[i].ks == k {
			return &d.setAside[i]
		}
	}
	return nil
}

func (d *Device) asides(k *Ksock) int {
	n := 0
	for _, a := range d.setAside {
		if a.ks == k {
			n++
		}
	}
	return n
}

func (d *Device) removeAside(i int) {
	d.setAside = append(d.setAside[:i:i], d.setAside[i+1:]...)
	if len(d.setAside) == 0 {
		d.tragic = false
	}
}

// moveAside moves k's oldest set-aside event onto the tail of its queue,
// through MSGONLYONCE.
func (d *Device) moveAside(k *Ksock) {
	for i, a := range d.setAside {
		if a.ks != k {
			continue
		}
		if !(k.onlyOnce && k.lastPushed == a.msg.ID) {
			k.push(a.msg, a.binding)
		}
		d.removeAside(i)
		return
	}
}

// dropAside forgets every event set aside for k (all), or lets those that
// came through b no longer refer to it.
func (d *Device) dropAside(k *Ksock, b *binding, all bool) {
	for i := 0; i < len(d.setAside); {
		a := &d.setAside[i]
		switch {
		case a.ks != k:
		case all:
			d.removeAside(i)
			continue
		case a.binding == b:
			a.binding = nil
		}
		i++
	}
}

// ReportReplierBinds is REPORTREPLIERBINDS with 0, 1 or kbus's query
// value: it returns the previous value. Turning it on replays every
// replier binding, newest first, onto k: ErrQueueFull when k fills up.
func (k *Ksock) ReportReplierBinds(v uint32) (uint32, error) {
	d := k.dev
	old, err := k.deviceToggle(&d.reportBinds, v)
	if err != nil {
		return 0, err
	}
	if v == 1 {
		for _, b := range d.bindings {
			if !b.replier {
				continue
			}
			if k.full(0) {
				return 0, kbus.ErrQueueFull
			}
			m := kbus.Message{ID: d.nextID(), Name: kbus.NameReplierBindEvent,
				Flags: kbus.FlagAllOrFail | kbus.FlagSynthetic,
				Data:  raw.EncodeBindEvent(raw.BindEvent{IsBind: true, Binder: b.ks.id, Name: b.name})}
			if !(k.onlyOnce && k.lastPushed == m.ID) {
				k.push(m, nil)
			}
		}
	}
	return old, nil
}

// FindReplier is REPLIER: the exact name among replier bindings.
func (k *Ksock) FindReplier(name string) (uint32, error) {
	if len(name) == 0 || len(name) > MaxNameLen {
		return 0, kbus.ErrNameTooLong
	}
	for _, b := range k.dev.bindings {
		if b.replier && b.name == name {
			return b.ks.id, nil
		}
	}
	return 0, nil
}

// --- sending (docs/kbus.md §8, §9) ---

// checkHeader is what write() refuses of a message's header (docs/kbus.md
// §8.1).
func (d *Device) checkHeader(m kbus.Message) error {
	switch {
	case len(m.Name) == 0:
		return kbus.ErrInvalid
	case len(m.Name) > MaxNameLen:
		return kbus.ErrNameTooLong
	case m.Flags&kbus.FlagAllOrWait != 0 && m.Flags&kbus.FlagAllOrFail != 0:
		return kbus.ErrInvalid
	case uint32(len(m.Bytes())) > d.maxSize:
		return kbus.ErrTooBig
	}
	return nil
}

// checkName is the check of a name sent: its last byte written (entire
// form), or at SEND (pointy form).
func checkName(m kbus.Message) error {
	if kbus.ValidateName(m.Name, false) != nil {
		return kbus.ErrBadName
	}
	return nil
}

// Send writes and SENDs a message in entire form, and returns its id (also
// with ErrWouldBlock: the send is then pending).
func (k *Ksock) Send(m kbus.Message) (kbus.MessageID, error) {
	return k.send(m, false, false, false)
}

// SendPointy writes and SENDs a message in pointy form: its header, whose
// pointers SEND follows; badName or badData makes that pointer one that
// cannot be read (EFAULT, docs/kbus.md §8.2).
func (k *Ksock) SendPointy(m kbus.Message, badName, badData bool) (kbus.MessageID, error) {
	return k.send(m, true, badName, badData)
}

func (k *Ksock) send(m kbus.Message, pointy, badName, badData bool) (kbus.MessageID, error) {
	if !k.writable {
		return kbus.MessageID{}, kbus.ErrReadOnly
	}
	if k.pending != nil {
		return kbus.MessageID{}, kbus.ErrSendPending
	}
	if err := k.dev.checkHeader(m); err != nil {
		return kbus.MessageID{}, err
	}
	var err error
	switch {
	case pointy && badName:
		err = kbus.ErrFault
	case checkName(m) != nil:
		err = kbus.ErrBadName
	case pointy && badData && len(m.Data) > 0:
		err = kbus.ErrFault
	}
	if err != nil {
		return kbus.MessageID{}, err
	}
	m.Flags &^= kbus.FlagSynthetic
	m.Data = append([]byte(nil), m.Data...)
	if m.IsRequest() && k.full(0) {
		return kbus.MessageID{}, kbus.ErrNoRoomForReply
	}
	m.From = k.id
	if m.ID.Network == 0 {
		m.ID = k.dev.nextID()
	}
	k.lastSent = m.ID
	err = k.dev.deliver(k, m)
	switch err {
	case nil:
	case kbus.ErrWouldBlock:
		k.pending = &m
	default:
		return kbus.MessageID{}, err // the id is taken, but not told
	}
	return m.ID, err
}

// Retry is SEND while a send is pending: it tries to deliver it again.
func (k *Ksock) Retry() (kbus.MessageID, error) {
	if k.pending == nil {
		return kbus.MessageID{}, kbus.ErrNoMessage
	}
	m := *k.pending
	if m.IsRequest() && k.full(0) {
		k.pending = nil
		return kbus.MessageID{}, kbus.ErrNoRoomForReply
	}
	err := k.dev.deliver(k, m)
	switch err {
	case nil:
		k.pending = nil
	case kbus.ErrWouldBlock:
	default:
		k.pending = nil
		return kbus.MessageID{}, err
	}
	return m.ID, err
}

// Discard drops a pending send.
func (k *Ksock) Discard() { k.pending = nil }

// Poll is poll() with POLLIN and POLLOUT: a pending send is retried, and a
// failed retry answered with a status (docs/kbus.md §8.4).
func (k *Ksock) Poll() (readable, writable bool) {
	readable = k.NumMessages() > 0
	if !k.writable {
		return readable, false
	}
	if k.pending == nil {
		return readable, true
	}
	m := *k.pending
	_, err := k.Retry()
	switch err {
	case nil:
	case kbus.ErrWouldBlock:
		return k.NumMessages() > 0, false
	case kbus.ErrNoReplier:
		k.push(kbus.Message{ID: k.dev.nextID(), Name: kbus.NameReplierDisappeared, To: k.id,
			InReplyTo: m.ID, Flags: kbus.FlagSynthetic}, nil)
	default:
		if m.IsRequest() {
			k.push(kbus.Message{ID: k.dev.nextID(), Name: kbus.NameErrorSending, To: k.id,
				InReplyTo: m.ID, Flags: kbus.FlagSynthetic}, nil)
		}
	}
	return k.NumMessages() > 0, true
}

// deliver is docs/kbus.md §9.1: every check, then every push, or nothing.
func (d *Device) deliver(sender *Ksock, m kbus.Message) error {
	wait := m.Flags&kbus.FlagAllOrWait != 0
	fail := m.Flags&kbus.FlagAllOrFail != 0
	var listeners []*binding
	var replier *binding
	for _, b := range d.bindings {
		if !kbus.Matches(b.name, m.Name) {
			continue
		}
		if !b.replier {
			listeners = append(listeners, b)
		} else if replier == nil || kbus.Specificity(b.name) > kbus.Specificity(replier.name) {
			replier = b
		}
	}
	request, reply := m.IsRequest(), m.IsReply()
	if request && replier == nil {
		return kbus.ErrNoReplier
	}
	full := func() error {
		if wait {
			return kbus.ErrWouldBlock
		}
		return kbus.ErrQueueFull
	}
	var target *Ksock
	if reply {
		if target = d.find(m.To); target == nil {
			return kbus.ErrNoReplier
		}
		if !target.awaits(m.InReplyTo) {
			return kbus.ErrNotExpected
		}
		if target.full(1) {
			return full()
		}
	}
	if request {
		if m.To != 0 && replier.ks.id != m.To {
			return kbus.ErrWrongReplier
		}
		if replier.ks.noRoom(&m) {
			return full()
		}
	}
	var room []*binding
	for _, b := range listeners {
		if !b.ks.noRoom(&m) {
			room = append(room, b)
			continue
		}
		if wait {
			return kbus.ErrWouldBlock
		}
		if fail {
			return kbus.ErrQueueFull
		}
	}
	plain := m
	plain.Flags &^= kbus.FlagWantYouToReply
	if reply {
		target.push(plain, nil)
		target.forget(m.InReplyTo)
		sender.unreply(m.InReplyTo, m.To)
	}
	if request {
		you := m
		you.Flags |= kbus.FlagWantYouToReply
		replier.ks.push(you, replier)
		sender.outstanding = append(sender.outstanding, m.ID)
	}
	for _, b := range room {
		if b.ks.onlyOnce && b.ks.lastPushed == m.ID {
			continue
		}
		b.ks.push(plain, b)
	}
	return nil
}

func (k *Ksock) unreply(id kbus.MessageID, from uint32) {
	for i, u := range k.unreplied {
		if u.id == id && u.from == from {
			k.unreplied = append(k.unreplied[:i:i], k.unreplied[i+1:]...)
			return
		}
	}
}

// --- reading (docs/kbus.md §8.3) ---

// Next takes the next message off the queue and reads it whole (NEXTMSG
// and read), or returns nil.
func (k *Ksock) Next() *kbus.Message {
	m := k.pop()
	k.reading = nil
	return m
}

// NextMsg is NEXTMSG: it abandons what is unread of the current message,
// takes the next one off the queue to be read, and returns its length (0:
// none).
func (k *Ksock) NextMsg() uint32 {
	k.reading = nil
	if m := k.pop(); m != nil {
		k.reading = m.Bytes()
	}
	return uint32(len(k.reading))
}

// ManyBatch is how many messages RECVMANY looks at, at the head of the
// queue, at a time (docs/kbus.md §7.1): set-aside events that room made
// for come in after each such batch, so they can only join a later one.
const ManyBatch = 16

// ReceiveMany is RECVMANY without waiting, with room bytes and at most max
// messages (0: no limit): it abandons what is unread of the current
// message and takes whole messages from the head of the queue, as many as
// fit, ending with a request the Ksock is to answer (docs/kbus.md §7.1).
// Nothing queued is ErrWouldBlock; a first message that does not fit is
// ErrTooBig, with its length.
func (k *Ksock) ReceiveMany(room, max int) ([]*kbus.Message, int, error) {
	k.reading = nil
	if max == 0 {
		max = math.MaxInt
	}
	var ms []*kbus.Message
	used, first := 0, 0
	for len(ms) < max {
		if len(k.queue) == 0 {
			k.dev.moveAside(k)
		}
		// Note the head: the messages that fit, up to a request to answer.
		var noted int
		for _, e := range k.queue {
			if noted == min(max-len(ms), ManyBatch) {
				break
			}
			n := len(e.msg.Bytes())
			if len(ms) == 0 && noted == 0 {
				first = n
			}
			if n > room-used {
				break
			}
			used += n
			noted++
			if e.msg.WantsUsToReply() {
				break
			}
		}
		if noted == 0 {
			break
		}
		for range noted {
			ms = append(ms, k.take())
		}
		for range noted {
			k.dev.moveAside(k)
		}
		if noted < ManyBatch {
			break
		}
	}
	switch {
	case len(ms) > 0:
		return ms, used, nil
	case first > 0:
		return nil, first, kbus.ErrTooBig
	default:
		return nil, 0, kbus.ErrWouldBlock
	}
}

// Read is read() with room for n bytes: the next bytes of the current
// message, none at its end (docs/kbus.md §8.3).
func (k *Ksock) Read(n int) []byte {
	n = min(n, len(k.reading))
	b := k.reading[:n:n]
	k.reading = k.reading[n:]
	return b
}

// ReadBad is read() with room for n bytes in memory KBUS cannot write:
// EFAULT if there was anything to copy, and the current message's unread
// part stays as it was; nothing to copy is 0 bytes read (docs/kbus.md
// §8.3).
func (k *Ksock) ReadBad(n int) error {
	if min(n, len(k.reading)) > 0 {
		return kbus.ErrFault
	}
	return nil
}

// LenLeft is LENLEFT: how much of the current message is unread.
func (k *Ksock) LenLeft() uint32 { return uint32(len(k.reading)) }

// pop takes the next message off the queue, or returns nil. A set-aside
// event moves in when the queue is empty, and one after each message
// taken (docs/kbus.md §11.3).
func (k *Ksock) pop() *kbus.Message {
	if len(k.queue) == 0 {
		k.dev.moveAside(k)
	}
	if len(k.queue) == 0 {
		return nil
	}
	m := k.take()
	k.dev.moveAside(k)
	return m
}

// take takes the head of the queue off it: a request to answer is owed.
func (k *Ksock) take() *kbus.Message {
	e := k.queue[0]
	k.queue = k.queue[1:]
	if e.msg.WantsUsToReply() {
		k.unreplied = append([]owed{{id: e.msg.ID, from: e.msg.From}}, k.unreplied...)
	}
	m := e.msg
	return &m
}

// --- the ioctls that report or set (docs/kbus.md §7) ---

// NumMessages is NUMMSGS: the queue and the events set aside for k.
func (k *Ksock) NumMessages() int { return len(k.queue) + k.dev.asides(k) }

// Queued is the queue's length alone (/proc/kbus/stats).
func (k *Ksock) Queued() int { return len(k.queue) }

// Outstanding is how many requests the Ksock sent still await a reply
// (/proc/kbus/stats).
func (k *Ksock) Outstanding() int { return len(k.outstanding) }

// Pending says whether an ALL_OR_WAIT send is pending (/proc/kbus/stats).
func (k *Ksock) Pending() bool { return k.pending != nil }

// UnrepliedTo is UNREPLIEDTO.
func (k *Ksock) UnrepliedTo() int { return len(k.unreplied) }

// LastSent is LASTSENT.
func (k *Ksock) LastSent() kbus.MessageID { return k.lastSent }

// SetMaxMessages is MAXMSGS with n > 0; it returns the new length.
func (k *Ksock) SetMaxMessages(n uint32) uint32 {
	if n > 0 {
		k.maxMessages = n
	}
	return k.maxMessages
}

// OnlyOnce is MSGONLYONCE with any value: 0 or 1 sets, raw.Query asks; it
// returns the previous value.
func (k *Ksock) OnlyOnce(v uint32) (uint32, error) {
	return toggle(&k.onlyOnce, v)
}

// Verbose is VERBOSE, the device's switch for its kernel log.
func (k *Ksock) Verbose(v uint32) (uint32, error) {
	return k.deviceToggle(&k.dev.verbose, v)
}

// deviceToggle is toggle for a switch of the whole device: setting it (0
// or 1) needs mayChange; other values are toggle's EINVAL first.
func (k *Ksock) deviceToggle(sw *bool, v uint32) (uint32, error) {
	if v <= 1 && !k.mayChange {
		return 0, kbus.ErrNotPermitted
	}
	return toggle(sw, v)
}

// toggle is a switch's ioctl (docs/kbus.md §7): 0 or 1 sets it, raw.Query
// leaves it, anything else is EINVAL; the previous value comes back.
func toggle(sw *bool, v uint32) (uint32, error) {
	if v != 0 && v != 1 && v != raw.Query {
		return 0, kbus.ErrInvalid
	}
	old := uint32(0)
	if *sw {
		old = 1
	}
	if v != raw.Query {
		*sw = v == 1
	}
	return old, nil
}

// MaxMessageSize is MAXMSGSIZE: 0 asks the device's maximum, 1 its
// ceiling, MinMaxMessageSize up to the ceiling sets it; it returns the
// result.
func (k *Ksock) MaxMessageSize(v uint32) (uint32, error) {
	switch {
	case v == 0:
		return k.dev.maxSize, nil
	case v == 1:
		return MaxMessageSizeCeiling, nil
	case !k.mayChange:
		return 0, kbus.ErrNotPermitted
	case v < MinMaxMessageSize || v > MaxMessageSizeCeiling:
		return 0, kbus.ErrInvalid
	}
	k.dev.maxSize = v
	return v, nil
}

// BadArgument is an ioctl that takes an argument (all but RESET and
// DISCARD) given one KBUS cannot read, or one it cannot write its result
// into: EFAULT before anything is done, so nothing changes (docs/kbus.md
// §18.4).
func (k *Ksock) BadArgument() error { return kbus.ErrFault }

// --- closing (docs/kbus.md §9.9) ---

// Close releases the Ksock, in the documented order.
func (k *Ksock) Close() {
	if k.closed {
		return
	}
	k.closed = true
	d := k.dev
	k.pending = nil
	k.outstanding = nil
	k.reading = nil
	for _, e := range k.queue {
		if e.msg.WantsUsToReply() && e.msg.From != k.id {
			d.status(kbus.NameReplierGoneAway, k.id, e.msg.From, e.msg.ID)
		}
	}
	k.queue = nil
	kept := d.bindings[:0:0]
	var repliers []*binding // newest first
	for _, b := range d.bindings {
		if b.ks != k {
			kept = append(kept, b)
		} else if b.replier {
			repliers = append(repliers, b)
		}
	}
	d.bindings = kept
	// Its replier bindings' unbind events, newest first, once all its
	// bindings are gone: set aside for listeners without room.
	if d.reportBinds {
		for _, b := range repliers {
			_ = d.bindEvent(false, k.id, b.name, true)
		}
	}
	d.dropAside(k, nil, true)
	for _, u := range k.unreplied {
		d.status(kbus.NameReplierIgnored, k.id, u.from, u.id)
	}
	k.unreplied = nil
	for i, o := range d.ksocks {
		if o == k {
			d.ksocks = append(d.ksocks[:i:i], d.ksocks[i+1:]...)
			break
		}
	}
}
