package raw

// Ioctl command numbers (docs/kbus.md §7). Every command except RESET and DISCARD is
// declared with a char * argument, so its encoded size is the pointer size.
const (
	iocMagic = 'k'
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2

	NrReset              = 1
	NrBind               = 2
	NrUnbind             = 3
	NrKsockID            = 4
	NrReplier            = 5
	NrNextMsg            = 6
	NrLenLeft            = 7
	NrSend               = 8
	NrDiscard            = 9
	NrLastSent           = 10
	NrMaxMsgs            = 11
	NrNumMsgs            = 12
	NrUnrepliedTo        = 13
	NrMsgOnlyOnce        = 14
	NrVerbose            = 15
	NrNewDevice          = 16
	NrReportReplierBinds = 17
	NrMaxMsgSize         = 18
	MaxNr                = 18 // the original's last

	// This module's one-call send and receive (docs/kbus.md §7.1).
	NrSendMsg  = 19
	NrRecvMsg  = 20
	NrRecvMany = 21
	MaxNrExt   = 21
)

// WaitForever is the RECVMSG timeout that waits without limit.
const WaitForever uint32 = 0xFFFFFFFF

// Query is the argument that asks a switch ioctl for its value.
const Query uint32 = 0xFFFFFFFF

var iocDirs = [MaxNrExt + 1]uint32{
	NrReset:              iocNone,
	NrBind:               iocWrite,
	NrUnbind:             iocWrite,
	NrKsockID:            iocRead,
	NrReplier:            iocRead | iocWrite,
	NrNextMsg:            iocRead,
	NrLenLeft:            iocRead,
	NrSend:               iocRead,
	NrDiscard:            iocNone,
	NrLastSent:           iocRead,
	NrMaxMsgs:            iocRead | iocWrite,
	NrNumMsgs:            iocRead,
	NrUnrepliedTo:        iocRead,
	NrMsgOnlyOnce:        iocRead | iocWrite,
	NrVerbose:            iocRead | iocWrite,
	NrNewDevice:          iocRead,
	NrReportReplierBinds: iocRead | iocWrite,
	NrMaxMsgSize:         iocRead | iocWrite,
	NrSendMsg:            iocRead | iocWrite,
	NrRecvMsg:            iocRead | iocWrite,
	NrRecvMany:           iocRead | iocWrite,
}

// Ioctl returns the command number of ioctl nr for this layout, with the
// generic Linux encoding (x86, ARM, arm64).
func (l Layout) Ioctl(nr int) uint32 {
	dir := iocDirs[nr]
	size := uint32(l.PtrSize)
	if dir == iocNone {
		size = 0
	}
	return dir<<30 | size<<16 | uint32(iocMagic)<<8 | uint32(nr)
}

// BindRequest is struct kbus_bind_request (and kbus_bind_query, whose
// first field is return_id) as a Go value to hand to the ioctl: Go lays it
// out exactly as C does on 32- and 64-bit targets, and Name keeps the name
// alive and in place for the call.
type BindRequest struct {
	First   uint32 // is_replier, or return_id
	NameLen uint32
	Name    *byte
}

// Receive is struct kbus_receive as a Go value, as BindRequest is.
type Receive struct {
	Len       uint32
	TimeoutMS uint32
	Buf       *byte
}

// ReceiveMany is struct kbus_receive_many as a Go value, as BindRequest
// is: the four counts, then the buffer's address.
type ReceiveMany struct {
	Len       uint32
	TimeoutMS uint32
	Max       uint32 // messages at most; 0: as many as fit
	Count     uint32 // out: how many were taken
	Buf       *byte
}

// ReceiveManySize is sizeof(struct kbus_receive_many): 20 or 24 bytes.
func (l Layout) ReceiveManySize() int { return 16 + l.PtrSize }

// ReceiveSize is sizeof(struct kbus_receive): 12 or 16 bytes.
func (l Layout) ReceiveSize() int { return 8 + l.PtrSize }

// EncodeReceive returns a struct kbus_receive for a buffer of len bytes at
// address buf, waiting up to timeoutMS.
func (l Layout) EncodeReceive(len, timeoutMS uint32, buf uint64) []byte {
	return l.twoAndPointer(len, timeoutMS, buf)
}

// twoAndPointer is the layout struct kbus_receive and the bind structures
// share: two u32 and a pointer.
func (l Layout) twoAndPointer(a, b uint32, p uint64) []byte {
	out := make([]byte, 8+l.PtrSize)
	Order.PutUint32(out[0:], a)
	Order.PutUint32(out[4:], b)
	l.putPtr(out[8:], p)
	return out
}

// BindRequestSize is sizeof(struct kbus_bind_request) and of
// struct kbus_bind_query: 12 or 16 bytes.
func (l Layout) BindRequestSize() int { return 8 + l.PtrSize }

// EncodeBind returns a struct kbus_bind_request (or kbus_bind_query, whose
// first field is return_id) with the name at address namePtr.
func (l Layout) EncodeBind(first, nameLen uint32, namePtr uint64) []byte {
	return l.twoAndPointer(first, nameLen, namePtr)
}

// BindEvent is the payload of $.KBUS.ReplierBindEvent.
type BindEvent struct {
	IsBind bool
	Binder uint32
	Name   string
}

// DecodeBindEvent reads a ReplierBindEvent's data.
func DecodeBindEvent(data []byte) (BindEvent, error) {
	if len(data) < 12 {
		return BindEvent{}, ErrShort
	}
	n := Order.Uint32(data[8:])
	if uint64(len(data)) < 12+uint64(n) {
		return BindEvent{}, ErrShort
	}
	return BindEvent{
		IsBind: Order.Uint32(data[0:]) != 0,
		Binder: Order.Uint32(data[4:]),
		Name:   string(data[12 : 12+n]),
	}, nil
}

// EncodeBindEvent builds a ReplierBindEvent's data, as KBUS does.
func EncodeBindEvent(e BindEvent) []byte {
	b := make([]byte, 12+PaddedNameLen(uint32(len(e.Name))))
	if e.IsBind {
		Order.PutUint32(b[0:], 1)
	}
	Order.PutUint32(b[4:], e.Binder)
	Order.PutUint32(b[8:], uint32(len(e.Name)))
	copy(b[12:], e.Name)
	return b
}
