package report

import (
	"bufio"
	"regexp"
	"strings"
)

// Splat is one sign of kernel trouble found in a log.
type Splat struct {
	Source string // which log
	Line   int    // 1-based line number
	Text   string
}

// splatPattern matches the first line of everything the kernel prints when
// something is wrong: oopses, BUG and WARN, sanitizer and lockdep reports,
// hung tasks, RCU stalls, list and refcount corruption, kmemleak, panics,
// and an initramfs the kernel could not unpack whole.
var splatPattern = regexp.MustCompile(strings.Join([]string{
	`BUG:`,
	`WARNING:`,
	`\bOops\b`,
	`KASAN:`,
	`UBSAN:`,
	`KFENCE:`,
	`kernel BUG at`,
	`general protection fault`,
	`Unable to handle kernel`,
	`Internal error:`,
	`Kernel panic`,
	`Call Trace:`,
	`possible circular locking`,
	`possible recursive locking`,
	`inconsistent lock state`,
	`suspicious RCU usage`,
	`rcu: INFO: rcu_\w+ detected stalls`,
	`INFO: task \S+ blocked for more than`,
	`list_add corruption`,
	`list_del corruption`,
	`refcount_t:`,
	`unreferenced object 0x`,
	`Memory state around the buggy address`,
	// The image did not fit in the guest's memory: some files are cut.
	`Initramfs unpacking failed`,
}, "|"))

// printkTime matches a line printed by the kernel (with CONFIG_PRINTK_TIME)
// and captures its time in seconds since boot. On the console it tells the
// kernel's lines from spec output that happens to contain "WARNING:".
var printkTime = regexp.MustCompile(`^\s*(?:<\d+>)?\[\s*(\d+\.\d+)\]`)

// FindSplats returns every splat line in a kernel log (dmesg, kmemleak).
func FindSplats(source, log string) []Splat {
	return find(source, log, false)
}

// FindConsoleSplats returns the splat lines of a serial console log, looking
// only at lines the kernel printed.
func FindConsoleSplats(source, log string) []Splat {
	return find(source, log, true)
}

// sysrqDump starts the stacks the guest's watchdog asks the kernel for
// (SysRq w and l, initramfs/uinit) before it gives up on a hung run: they
// are the run's evidence, not a problem of their own, so their "Call
// Trace:" lines, within sysrqDumpLines kernel lines, are not splats.
var sysrqDump = regexp.MustCompile(`sysrq: Show (Blocked State|backtrace of all active CPUs)`)

const sysrqDumpLines = 400

func find(source, log string, kernelOnly bool) []Splat {
	var out []Splat
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n, dump := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if kernelOnly && !printkTime.MatchString(line) {
			continue
		}
		if sysrqDump.MatchString(line) {
			dump = sysrqDumpLines
			continue
		}
		if dump > 0 {
			dump--
			if strings.Contains(line, "Call Trace:") && !splatPattern.MatchString(strings.Replace(line, "Call Trace:", "", 1)) {
				continue
			}
		}
		if splatPattern.MatchString(line) {
			out = append(out, Splat{Source: source, Line: n, Text: strings.TrimSpace(line)})
		}
	}
	return out
}
