package guestproto

import (
	"strconv"
	"strings"
	"time"

	"github.com/kbus-project/kbus/internal/creds"
)

// Mode is what a guest run does.
type Mode string

// The modes a guest runs in.
const (
	ModeTest  Mode = "test"  // run the spec suites (the default)
	ModeBench Mode = "bench" // run the benchmark
	ModeShell Mode = "shell" // stop at a shell, for a person
)

// Kernel-argument names of a Request.
const (
	ArgMode    = "rig.mode"
	ArgTimeout = "rig.timeout"
	ArgLabels  = "rig.labels"
	ArgFocus   = "rig.focus"
	ArgFault   = "rig.fault"
	ArgIP      = "rig.ip"
	ArgPeer    = "rig.peer"
	// ArgResults names, by volume label, the FAT partition a guest booted
	// from a board image writes its results onto instead of the 9P share.
	ArgResults = "rig.results"
	// ArgPrintkFlood makes the guest flood the kernel log while it prints
	// its console signals, to prove that none is lost (docs/boards.md,
	// "Signals and kernel messages"). It needs printk.devkmsg=on too.
	ArgPrintkFlood = "rig.printk-flood"
	// ArgStreams is how many suites the guest runs side by side, each on
	// a KBUS device of its own (docs/testing.md, "Suites side by side").
	ArgStreams = "rig.streams"
	// ArgRepeat runs every suite this many times, for each spec's pass
	// rate (rig test -repeat; docs/reports.md, "Flakes").
	ArgRepeat = "rig.repeat"
	// ArgFirst names the suites to start first, in that order, comma
	// separated; the others follow in their usual (name) order. The host
	// names the longest first so that suites side by side end together
	// (docs/testing.md, "Suites side by side").
	ArgFirst = "rig.first"
	// ArgUdev starts udev in the guest before the suites: the device
	// nodes then get what the distribution package's rules give them.
	ArgUdev = "rig.udev"
	// ArgMember runs the named suites as a member of a group and not as
	// root: GID:SUITE,SUITE (docs/kbus.md §18.5).
	ArgMember = "rig.member"
	// ModuleParamPrefix marks a module parameter: kbus.NAME=VALUE.
	ModuleParamPrefix = "kbus."
)

// Faults the rig's own tests inject, to check that a broken guest ends in
// a clear error on the host.
const (
	FaultHang        = "hang"         // the init hangs before the specs
	FaultInitPanic   = "init-panic"   // the init panics
	FaultKernelPanic = "kernel-panic" // the kernel crashes (sysrq c)
)

// MaxStreams bounds Request.Streams: each stream is a KBUS device.
const MaxStreams = 16

// MaxRepeat bounds Request.Repeat.
const MaxRepeat = 100

// DefaultTimeout is the guest's watchdog when the request names none.
const DefaultTimeout = 10 * time.Minute

// Request is what the host asks of one guest run.
type Request struct {
	Mode Mode
	// Timeout is the guest's own watchdog for the whole run.
	Timeout time.Duration
	// Labels is the Ginkgo label filter passed to every suite.
	Labels string
	// Focus, a regular expression, runs only the specs whose full text
	// matches (Ginkgo's -focus), as a report's rerun command asks.
	Focus string
	// Fault is a fault to inject (Fault* constants), for the rig's tests.
	Fault string
	// IP is this guest's address on a link to another guest (ADDR/PREFIX),
	// Peer that guest's address; both empty when the guest runs alone.
	IP, Peer string
	// Results is the label of the results partition; empty means the 9P
	// share.
	Results string
	// ModuleParams are kbus.ko's parameters, NAME=VALUE.
	ModuleParams []string
	// PrintkFlood floods the kernel log from user space while the guest
	// prints its console signals (ArgPrintkFlood).
	PrintkFlood bool
	// Streams is how many suites run side by side: 1 runs them one at a
	// time on device 0, 0 means one stream per online CPU.
	Streams int
	// First are the suites to start first, in that order (ArgFirst):
	// only the order in which streams take suites changes, not which run,
	// nor the order their results are reported in.
	First []string
	// Udev starts udev before the suites (ArgUdev).
	Udev bool
	// Repeat runs each suite this many times (0 and 1: once), its JSON
	// reports one after the other in the suite's report (ArgRepeat).
	Repeat int
	// Member, when its Suites are set, runs those suites as the
	// unprivileged user Nobody with group Member.GID among its groups.
	Member Member
}

// Nobody is the user and group id the guest runs unprivileged suites as.
const Nobody = creds.Nobody

// Member is a group and the suites run as a member of it (ArgMember).
type Member struct {
	GID    int
	Suites []string
}

// Has says whether suite runs as a member.
func (m Member) Has(suite string) bool {
	for _, s := range m.Suites {
		if s == suite {
			return true
		}
	}
	return false
}

func (m Member) String() string {
	if len(m.Suites) == 0 {
		return ""
	}
	return strconv.Itoa(m.GID) + ":" + strings.Join(m.Suites, ",")
}

func parseMember(val string) (Member, bool) {
	gid, list, ok := strings.Cut(val, ":")
	n, err := strconv.Atoi(gid)
	if !ok || err != nil || n <= 0 || list == "" {
		return Member{}, false
	}
	return Member{GID: n, Suites: strings.Split(list, ",")}, true
}

// KernelArgs returns the request as kernel command-line arguments, in the
// form ParseCmdline reads. Fields left zero are left out.
func (r Request) KernelArgs() []string {
	var args []string
	add := func(key, val string) {
		if val != "" {
			args = append(args, key+"="+val)
		}
	}
	add(ArgMode, string(r.Mode))
	if r.Timeout > 0 {
		add(ArgTimeout, r.Timeout.String())
	}
	// The kernel keeps a double-quoted value with spaces together; it has
	// no escapes, so a value cannot hold a double quote.
	if r.Labels != "" {
		add(ArgLabels, `"`+r.Labels+`"`)
	}
	if r.Focus != "" {
		add(ArgFocus, `"`+r.Focus+`"`)
	}
	add(ArgFault, r.Fault)
	add(ArgIP, r.IP)
	add(ArgPeer, r.Peer)
	add(ArgResults, r.Results)
	if r.PrintkFlood {
		// Without devkmsg=on the kernel rate-limits /dev/kmsg to ten
		// lines in five seconds: no flood at all.
		args = append(args, ArgPrintkFlood+"=1", "printk.devkmsg=on")
	}
	if r.Streams > 0 {
		add(ArgStreams, strconv.Itoa(r.Streams))
	}
	add(ArgFirst, strings.Join(r.First, ","))
	if r.Udev {
		add(ArgUdev, "1")
	}
	if r.Repeat > 1 {
		add(ArgRepeat, strconv.Itoa(r.Repeat))
	}
	add(ArgMember, r.Member.String())
	for _, p := range r.ModuleParams {
		args = append(args, ModuleParamPrefix+p)
	}
	return args
}

// ParseCmdline reads a request from a kernel command line, ignoring the
// arguments that are not the rig's. A later argument overrides an earlier
// one; a bad timeout or stream count leaves the default.
func ParseCmdline(line string) Request {
	req := Request{Mode: ModeTest, Timeout: DefaultTimeout}
	for _, arg := range splitArgs(line) {
		key, val, ok := strings.Cut(arg, "=")
		if !ok {
			continue
		}
		switch {
		case key == ArgMode:
			req.Mode = Mode(val)
		case key == ArgTimeout:
			if d, err := time.ParseDuration(val); err == nil && d > 0 {
				req.Timeout = d
			}
		case key == ArgLabels:
			req.Labels = val
		case key == ArgFocus:
			req.Focus = val
		case key == ArgFault:
			req.Fault = val
		case key == ArgIP:
			req.IP = val
		case key == ArgPeer:
			req.Peer = val
		case key == ArgResults:
			req.Results = val
		case key == ArgPrintkFlood:
			req.PrintkFlood = val == "1"
		case key == ArgStreams:
			if n, err := strconv.Atoi(val); err == nil && n >= 0 && n <= MaxStreams {
				req.Streams = n
			}
		case key == ArgFirst:
			req.First = parseFirst(val)
		case key == ArgUdev:
			req.Udev = val == "1"
		case key == ArgRepeat:
			if n, err := strconv.Atoi(val); err == nil && n >= 1 && n <= MaxRepeat {
				req.Repeat = n
			}
		case key == ArgMember:
			if m, ok := parseMember(val); ok {
				req.Member = m
			}
		case strings.HasPrefix(key, ModuleParamPrefix):
			req.ModuleParams = append(req.ModuleParams, strings.TrimPrefix(key, ModuleParamPrefix)+"="+val)
		}
	}
	return req
}

// parseFirst reads ArgFirst's list, keeping the names a suite can have
// (letters, digits, '-', '_', '.') and dropping the rest.
func parseFirst(val string) []string {
	var out []string
	for _, n := range strings.Split(val, ",") {
		if n != "" && strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == "" {
			out = append(out, n)
		}
	}
	return out
}

// splitArgs splits a command line on white space, keeping double-quoted
// runs together and dropping the quotes, as the kernel does.
func splitArgs(line string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range strings.TrimSpace(line) {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case (r == ' ' || r == '\n' || r == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}
