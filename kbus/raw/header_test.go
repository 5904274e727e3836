package raw

// The Go ABI constants are checked against the C header they mirror,
// module/include/uapi/linux/kbus_defns.h, and the Go API's status names
// against the same header: a tiny C file puts every value the header
// defines into a named constant, a C compiler builds it into an object,
// and the test reads the values back out of the object's ELF symbols. No
// program runs, so the same check covers the ILP32 layout with the armhf
// cross compiler.

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cValues are the numbers the C file exports: its expression in C, and
// what the Go package says for a layout.
var cValues = []struct {
	name, expr string
	goVal      func(Layout) uint64
}{
	{"START_GUARD", "KBUS_MSG_START_GUARD", func(Layout) uint64 { return uint64(StartGuard) }},
	{"END_GUARD", "KBUS_MSG_END_GUARD", func(Layout) uint64 { return uint64(EndGuard) }},
	{"MAX_NAME_LEN", "KBUS_MAX_NAME_LEN", func(Layout) uint64 { return MaxNameLen }},
	{"WANT_A_REPLY", "KBUS_BIT_WANT_A_REPLY", func(Layout) uint64 { return uint64(FlagWantAReply) }},
	{"WANT_YOU_TO_REPLY", "KBUS_BIT_WANT_YOU_TO_REPLY", func(Layout) uint64 { return uint64(FlagWantYouToReply) }},
	{"SYNTHETIC", "KBUS_BIT_SYNTHETIC", func(Layout) uint64 { return uint64(FlagSynthetic) }},
	{"URGENT", "KBUS_BIT_URGENT", func(Layout) uint64 { return uint64(FlagUrgent) }},
	{"ALL_OR_WAIT", "KBUS_BIT_ALL_OR_WAIT", func(Layout) uint64 { return uint64(FlagAllOrWait) }},
	{"ALL_OR_FAIL", "KBUS_BIT_ALL_OR_FAIL", func(Layout) uint64 { return uint64(FlagAllOrFail) }},
	{"IOC_MAXNR", "KBUS_IOC_MAXNR", func(Layout) uint64 { return MaxNr }},
	{"IOC_MAXNR_EXT", "KBUS_IOC_MAXNR_EXT", func(Layout) uint64 { return MaxNrExt }},
	{"WAIT_FOREVER", "KBUS_WAIT_FOREVER", func(Layout) uint64 { return uint64(WaitForever) }},
	{"RECEIVE_SIZE", "sizeof(struct kbus_receive)", func(l Layout) uint64 { return uint64(l.ReceiveSize()) }},
	{"OFF_RECEIVE_BUF", "offsetof(struct kbus_receive, buf)", func(Layout) uint64 { return 8 }},
	{"HEADER_SIZE", "sizeof(struct kbus_message_header)", func(l Layout) uint64 { return uint64(l.HeaderSize()) }},
	{"OFF_ID", "offsetof(struct kbus_message_header, id)", off(offIDNetwork)},
	{"OFF_IN_REPLY_TO", "offsetof(struct kbus_message_header, in_reply_to)", off(offReplyNetwork)},
	{"OFF_TO", "offsetof(struct kbus_message_header, to)", off(offTo)},
	{"OFF_FROM", "offsetof(struct kbus_message_header, from)", off(offFrom)},
	{"OFF_ORIG_FROM", "offsetof(struct kbus_message_header, orig_from)", off(offOrigNetwork)},
	{"OFF_FINAL_TO", "offsetof(struct kbus_message_header, final_to)", off(offFinalNetwork)},
	{"OFF_EXTRA", "offsetof(struct kbus_message_header, extra)", off(offExtra)},
	{"OFF_FLAGS", "offsetof(struct kbus_message_header, flags)", off(offFlags)},
	{"OFF_NAME_LEN", "offsetof(struct kbus_message_header, name_len)", off(offNameLen)},
	{"OFF_DATA_LEN", "offsetof(struct kbus_message_header, data_len)", off(offDataLen)},
	{"OFF_NAME", "offsetof(struct kbus_message_header, name)", func(l Layout) uint64 { return uint64(l.NameOffset()) }},
	{"OFF_DATA", "offsetof(struct kbus_message_header, data)", func(l Layout) uint64 { return uint64(l.DataOffset()) }},
	{"OFF_END_GUARD", "offsetof(struct kbus_message_header, end_guard)", func(l Layout) uint64 { return uint64(l.EndGuardOffset()) }},
	{"RECEIVE_MANY_SIZE", "sizeof(struct kbus_receive_many)", func(l Layout) uint64 { return uint64(l.ReceiveManySize()) }},
	{"RECEIVE_MANY_BUF", "offsetof(struct kbus_receive_many, buf)", func(Layout) uint64 { return 16 }},
	{"BIND_REQUEST_SIZE", "sizeof(struct kbus_bind_request)", func(l Layout) uint64 { return uint64(l.BindRequestSize()) }},
	{"BIND_QUERY_SIZE", "sizeof(struct kbus_bind_query)", func(l Layout) uint64 { return uint64(l.BindRequestSize()) }},
	{"ENTIRE_LEN_FRED_7", "KBUS_ENTIRE_MSG_LEN(6, 7)", func(l Layout) uint64 { return uint64(l.EntireLen(6, 7)) }},
}

func off(o int) func(Layout) uint64 { return func(Layout) uint64 { return uint64(o) } }

// ioctls are the command macros, by number.
var ioctls = map[int]string{
	NrReset: "RESET", NrBind: "BIND", NrUnbind: "UNBIND", NrKsockID: "KSOCKID", NrReplier: "REPLIER",
	NrNextMsg: "NEXTMSG", NrLenLeft: "LENLEFT", NrSend: "SEND", NrDiscard: "DISCARD", NrLastSent: "LASTSENT",
	NrMaxMsgs: "MAXMSGS", NrNumMsgs: "NUMMSGS", NrUnrepliedTo: "UNREPLIEDTO", NrMsgOnlyOnce: "MSGONLYONCE",
	NrVerbose: "VERBOSE", NrNewDevice: "NEWDEVICE", NrReportReplierBinds: "REPORTREPLIERBINDS",
	NrMaxMsgSize: "MAXMSGSIZE", NrSendMsg: "SENDMSG", NrRecvMsg: "RECVMSG", NrRecvMany: "RECVMANY",
}

// names are the names of KBUS's own messages in the header and Go's.
var names = map[string]string{
	"KBUS_MSG_NAME_REPLIER_BIND_EVENT":  NameReplierBindEvent,
	"KBUS_MSG_NAME_REPLIER_UNBOUND":     NameReplierUnbound,
	"KBUS_MSG_NAME_REPLIER_GONEAWAY":    NameReplierGoneAway,
	"KBUS_MSG_NAME_REPLIER_IGNORED":     NameReplierIgnored,
	"KBUS_MSG_NAME_REPLIER_DISAPPEARED": NameReplierDisappeared,
	"KBUS_MSG_NAME_ERROR_SENDING":       NameErrorSending,
	"KBUS_MSG_NAME_UNBIND_EVENTS_LOST":  NameUnbindEventsLost,
}

func cSource() string {
	var b strings.Builder
	b.WriteString("#include <stddef.h>\n#include <linux/kbus_defns.h>\n")
	for _, v := range cValues {
		fmt.Fprintf(&b, "const unsigned long long kbus_v_%s = (%s);\n", v.name, v.expr)
	}
	for nr, n := range ioctls {
		fmt.Fprintf(&b, "const unsigned long long kbus_ioc_%d = KBUS_IOC_%s;\n", nr, n)
	}
	for macro := range names {
		fmt.Fprintf(&b, "const char kbus_s_%s[] = %s;\n", macro, macro)
	}
	return b.String()
}

// compile builds the C file with cc and returns the values of its symbols.
func compile(t *testing.T, cc string) map[string][]byte {
	t.Helper()
	if _, err := exec.LookPath(cc); err != nil {
		if os.Getenv("KBUS_TEST_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is needed to check the header: %v", cc, err)
		}
		t.Skipf("%s not installed (scripts/deps.sh installs it)", cc)
	}
	dir := t.TempDir()
	src, obj := filepath.Join(dir, "values.c"), filepath.Join(dir, "values.o")
	if err := os.WriteFile(src, []byte(cSource()), 0o644); err != nil {
		t.Fatal(err)
	}
	module := filepath.Join("..", "..", "module")
	// Read the headers here too: go test caches a result by the files the
	// test opens itself, not by what the compiler it runs reads.
	for _, h := range []string{filepath.Join(module, "include", "uapi", "linux", "kbus_defns.h")} {
		if _, err := os.ReadFile(h); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(cc, "-c", "-O0", "-o", obj, "-I", filepath.Join(module, "include", "uapi"),
		"-I", module, src).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	f, err := elf.Open(obj)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string][]byte{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || int(s.Section) >= len(f.Sections) || !strings.HasPrefix(s.Name, "kbus_") {
			continue
		}
		data, err := f.Sections[s.Section].Data()
		if err != nil {
			t.Fatal(err)
		}
		vals[s.Name] = data[s.Value : s.Value+s.Size]
	}
	return vals
}

func checkHeader(t *testing.T, cc string, l Layout) {
	vals := compile(t, cc)
	u64 := func(sym string) (uint64, bool) {
		b, ok := vals[sym]
		if !ok || len(b) != 8 {
			t.Errorf("%s: no symbol %s in the object", cc, sym)
			return 0, false
		}
		return binary.LittleEndian.Uint64(b), true
	}
	for _, v := range cValues {
		if c, ok := u64("kbus_v_" + v.name); ok && c != v.goVal(l) {
			t.Errorf("%s: %s is %d (%#x) in C, %d (%#x) in Go", cc, v.expr, c, c, v.goVal(l), v.goVal(l))
		}
	}
	for nr, n := range ioctls {
		if c, ok := u64(fmt.Sprintf("kbus_ioc_%d", nr)); ok && uint32(c) != l.Ioctl(nr) {
			t.Errorf("%s: KBUS_IOC_%s is %#x in C, %#x in Go", cc, n, c, l.Ioctl(nr))
		}
	}
	for macro, goName := range names {
		b := vals["kbus_s_"+macro]
		if c := strings.TrimRight(string(b), "\x00"); c != goName {
			t.Errorf("%s: %s is %q in C, %q in Go", cc, macro, c, goName)
		}
	}
}

func TestHeaderMatchesLP64(t *testing.T) {
	if Native.PtrSize != 8 {
		t.Skip("the host compiler is not LP64")
	}
	checkHeader(t, "gcc", LP64)
}

func TestHeaderMatchesILP32(t *testing.T) { checkHeader(t, "arm-linux-gnueabihf-gcc", ILP32) }
