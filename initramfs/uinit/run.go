package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/onsi/ginkgo/v2/types"
	"golang.org/x/sys/unix"
)

// run is one test run in the guest. Its status is written to the share
// exactly once, by finish, whichever way the run ends.
type run struct {
	req   guestproto.Request
	start time.Time

	mu       sync.Mutex
	status   guestproto.Status
	finished bool
	shared   bool // the results share is mounted

	// consoleMu is held for each write of suite output to the console
	// and for each whole signal block (lineWriter, signalConsole).
	consoleMu sync.Mutex
}

func newRun(req guestproto.Request, start time.Time) *run {
	r := &run{req: req, start: start}
	r.status.Phase = guestproto.PhaseStart
	r.status.Mode = req.Mode
	r.status.Kernel = kernelRelease()
	r.status.BootToInit = uptime()
	r.status.BootTime = start.Add(-r.status.BootToInit)
	return r
}

func (r *run) setPhase(p string) {
	r.mu.Lock()
	r.status.Phase = p
	r.mu.Unlock()
	log.Printf("phase: %s", p)
}

// execute runs the whole sequence and never returns: the machine powers
// off at the end, also when a step panics or the watchdog fires.
func (r *run) execute() {
	defer func() {
		if p := recover(); p != nil {
			r.finish(fmt.Errorf("uinit panicked: %v", p))
		}
	}()
	watchdog := time.AfterFunc(r.req.Timeout, func() {
		r.mu.Lock()
		phase := r.status.Phase
		r.mu.Unlock()
		// What every task is blocked in and what every CPU runs, into
		// the kernel log that finish saves as dmesg.txt.
		dumpKernelState()
		r.finish(fmt.Errorf("guest watchdog: run exceeded %v in phase %q", r.req.Timeout, phase))
	})
	defer watchdog.Stop()

	r.finish(r.steps())
}

func (r *run) steps() error {
	r.setPhase("mount-results")
	if err := mountResults(r.req.Results); err != nil {
		return err
	}
	r.mu.Lock()
	r.shared = true
	r.mu.Unlock()

	if err := r.injectFault(); err != nil {
		return err
	}

	r.setPhase("network")
	if err := configureNetwork(r.req.IP); err != nil {
		return err
	}

	r.setPhase("load-module")
	if err := loadModule(r.req.ModuleParams); err != nil {
		return err
	}

	if r.req.Udev {
		r.setPhase("udev")
		if err := startUdev(); err != nil {
			return err
		}
	}

	deadline := r.start.Add(r.req.Timeout)
	if r.req.Mode == guestproto.ModeBench {
		r.setPhase("bench")
		res := r.runBench(deadline)
		r.mu.Lock()
		r.status.Suites = append(r.status.Suites, res)
		r.mu.Unlock()
	} else {
		r.setPhase("specs")
		suites, err := findSuites(guestproto.SpecsDir)
		if err != nil {
			return err
		}
		devs, err := streamDevices(streamCount(r.req, len(suites)))
		if err != nil {
			return err
		}
		if r.req.Udev {
			if err := settleUdev(); err != nil {
				return err
			}
			logNodes()
		}
		start := startOrder(suites, r.req.First)
		log.Printf("running %d suites in %d streams on devices %v, starting with %v", len(suites), len(devs), devs, r.req.First)
		began := time.Now()
		results := runStreams(suites, start, devs, func(suite string, dev int) guestproto.SuiteResult {
			return r.runSuite(suite, dev, len(devs) > 1, deadline)
		}, func(res guestproto.SuiteResult) {
			if r.req.Results != "" {
				r.console().print(signalText(res.Name))
			}
		})
		r.mu.Lock()
		r.status.Suites = append(r.status.Suites, results...)
		r.status.Streams, r.status.SuitesWall = len(devs), time.Since(began)
		r.mu.Unlock()
	}

	r.setPhase("unload-module")
	if err := unix.DeleteModule("kbus", 0); err != nil {
		return fmt.Errorf("rmmod kbus: %w", err)
	}
	r.mu.Lock()
	r.status.ModuleUnloaded = true
	r.mu.Unlock()

	// One kmemleak scan, after the unload: an object nothing referred to
	// while the module was loaded is still unreferenced after it, and the
	// unload frees the module's own data, so what only that held shows
	// too. A scan of the debug guest costs tens of seconds under TCG.
	r.setPhase("kmemleak-after-rmmod")
	if err := kmemleakScan("after-rmmod"); err != nil {
		return err
	}
	r.setPhase(guestproto.PhaseDone)
	return nil
}

// injectFault lets the rig's own tests check that a broken guest ends in a
// clear error on the host.
func (r *run) injectFault() error {
	switch r.req.Fault {
	case "":
		return nil
	case guestproto.FaultHang:
		log.Printf("fault injection: hanging forever")
		select {}
	case guestproto.FaultInitPanic:
		panic("fault injection: init-panic")
	case guestproto.FaultKernelPanic:
		log.Printf("fault injection: crashing the kernel")
		return os.WriteFile("/proc/sysrq-trigger", []byte("c"), 0)
	default:
		return fmt.Errorf("unknown rig.fault %q", r.req.Fault)
	}
}

// finish records the outcome, saves dmesg, writes the status file and
// powers off. Only the first call does anything; later callers (the
// watchdog racing the main path) wait for power-off.
//
// The status reaches the share before anything is written to the console:
// a console that no longer sends (a stalled UART, a wedged tty) blocks its
// writers, and must neither keep the host from the results nor keep the
// machine up. For the same reason the power-off does not wait for the
// console's last lines longer than finishConsoleLimit.
func (r *run) finish(runErr error) {
	r.mu.Lock()
	if r.finished {
		r.mu.Unlock()
		select {}
	}
	r.finished = true
	if runErr != nil {
		r.status.Error = runErr.Error()
	}
	r.status.Duration = time.Since(r.start)
	shared := r.shared
	st := r.status
	r.mu.Unlock()

	if shared {
		saved := make(chan struct{})
		go func() {
			defer close(saved)
			r.saveResults(&st)
		}()
		select {
		case <-saved:
		case <-time.After(shareLimit):
			// The share is stuck: power off anyway, the host reports
			// a run without a status as an infrastructure error.
		}
	}
	time.AfterFunc(finishConsoleLimit, powerOff)
	if runErr != nil {
		log.Printf("error: %v", runErr)
	}
	log.Printf("run finished in %v (phase %s); powering off", st.Duration.Round(time.Millisecond), st.Phase)
	// A board's console reader (rig board-test, a LAVA farm) stops here:
	// not every board powers off.
	r.console().print(guestproto.StatusText(&st) + "\n" + guestproto.EndMarker + "\n")
	drainConsole()
	powerOff()
}

// shareLimit bounds the writes of dmesg and the status to the share;
// finishConsoleLimit bounds the console's last lines after them.
const (
	shareLimit         = 2 * time.Minute
	finishConsoleLimit = drainLimit + 30*time.Second
)

// saveResults writes dmesg and the status to the share and unmounts it.
func (r *run) saveResults(st *guestproto.Status) {
	var problems []string
	if err := saveDmesg(filepath.Join(guestproto.ResultsMount, guestproto.DmesgFile)); err != nil {
		problems = append(problems, fmt.Sprintf("saving dmesg: %v", err))
	}
	if err := guestproto.WriteStatus(guestproto.ResultsMount, st); err != nil {
		problems = append(problems, err.Error())
	}
	unix.Sync()
	if err := unix.Unmount(guestproto.ResultsMount, 0); err != nil {
		problems = append(problems, fmt.Sprintf("unmounting %s: %v", guestproto.ResultsMount, err))
	}
	for _, p := range problems {
		log.Print(p)
	}
}

// dumpKernelState asks the kernel (magic SysRq) to log the stack of every
// blocked task and a backtrace of every CPU: what a hung run was waiting
// for, in dmesg.txt and on the console.
func dumpKernelState() {
	for _, key := range []string{"w", "l"} {
		if err := os.WriteFile("/proc/sysrq-trigger", []byte(key), 0); err != nil {
			log.Printf("sysrq %s: %v", key, err)
		}
	}
}

// drainConsole waits until the console has sent what was written to it:
// power-off does not wait for a UART, and the end marker must get out.
func drainConsole() {
	for _, fd := range []int{1, 2} {
		drain(fd, drainLimit)
	}
	time.Sleep(200 * time.Millisecond)
}

// powerOff needs no sync: the root is in memory, and finish synced and
// unmounted the share (a sync could wait for ever on a stuck share).
func powerOff() {
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		log.Printf("power off: %v; restarting instead (QEMU runs with -no-reboot)", err)
	}
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {}
}

// console is where the guest prints the lines a farm reads.
func (r *run) console() signalConsole {
	return signalConsole{out: os.Stdout, flood: r.req.PrintkFlood, mu: &r.consoleMu}
}

// signalText is a suite's specs as LAVA test cases, one console line
// each, from its JSON report, for boards read over a serial line.
func signalText(suite string) string {
	_, jsonReport := guestproto.SuiteReportPaths(guestproto.ResultsMount, suite)
	b, err := os.ReadFile(jsonReport)
	var reports []types.Report
	if err == nil {
		err = json.Unmarshal(b, &reports)
	}
	if err != nil {
		log.Printf("%s: no report for LAVA: %v", suite, err)
	}
	return strings.Join(guestproto.LAVASignals(suite, reports), "\n") + "\n"
}

func findSuites(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*"+guestproto.SuiteSuffix))
	if err != nil {
		return nil, err
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("no spec suites in %s", dir)
	}
	sort.Strings(matches)
	return matches, nil
}

// runSuite runs one compiled Ginkgo suite on device dev with its reports
// going to the share, its output to the console (each line marked with
// the suite's name when suites run side by side) and to a log beside the
// reports.
func (r *run) runSuite(path string, dev int, marked bool, deadline time.Time) (res guestproto.SuiteResult) {
	req := r.req
	name := strings.TrimSuffix(filepath.Base(path), guestproto.SuiteSuffix)
	res.Name = name
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()

	junit, jsonReport := guestproto.SuiteReportPaths(guestproto.ResultsMount, name)
	if err := os.MkdirAll(filepath.Dir(junit), 0o755); err != nil {
		res.Error = err.Error()
		res.ExitCode = -1
		return res
	}
	logFile, err := os.Create(guestproto.SuiteLogPath(guestproto.ResultsMount, name))
	if err != nil {
		res.Error = err.Error()
		res.ExitCode = -1
		return res
	}
	defer logFile.Close()

	env := []string{kbus.DeviceEnv + "=" + strconv.Itoa(dev)}
	if req.Peer != "" {
		env = append(env, guestproto.EnvPeer+"="+req.Peer)
	}
	var cred *syscall.Credential
	if req.Member.Has(name) {
		cred = memberCredential(req.Member)
		res.Member = true
	}
	console := &lineWriter{mu: &r.consoleMu, out: os.Stdout}
	if marked {
		console.prefix = name + "| "
	}
	defer console.Flush()

	// A suite repeated (rig test -repeat) runs as many times, each run
	// with reports of its own; their JSON reports are then joined, one
	// after the other, into the suite's (rig/report merges a spec's runs
	// into its pass rate), and the last run's JUnit report is the suite's.
	runs := max(req.Repeat, 1)
	var reports []string
	for i := 1; i <= runs; i++ {
		ju, js := junit, jsonReport
		if runs > 1 {
			ju, js = fmt.Sprintf("%s.%d", junit, i), fmt.Sprintf("%s.%d", jsonReport, i)
			log.Printf("%s: run %d of %d", name, i, runs)
		}
		if cred != nil {
			if err := prepareForMember(ju, js); err != nil {
				res.Error = fmt.Sprintf("preparing to run as a member of group %d: %v", req.Member.GID, err)
				res.ExitCode = -1
				return res
			}
		}
		args := []string{
			"-ginkgo.no-color",
			"-ginkgo.v",
			"-ginkgo.junit-report=" + ju,
			"-ginkgo.json-report=" + js,
			"-ginkgo.timeout=" + time.Until(deadline).Round(time.Second).String(),
		}
		if req.Labels != "" {
			args = append(args, "-ginkgo.label-filter="+req.Labels)
		}
		if req.Focus != "" {
			args = append(args, "-ginkgo.focus="+req.Focus)
		}
		var one guestproto.SuiteResult
		one.Name = name
		execute(&one, console, logFile, deadline, cred, env, path, args...)
		if one.ExitCode != 0 && res.ExitCode == 0 {
			res.ExitCode, res.Error = one.ExitCode, one.Error
		}
		reports = append(reports, js)
		if runs > 1 && i == runs {
			if err := os.Rename(ju, junit); err != nil {
				log.Printf("%s: %v", name, err)
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if runs > 1 {
		if err := joinReports(jsonReport, reports); err != nil && res.Error == "" {
			res.Error = "joining the runs' reports: " + err.Error()
		}
	}
	return res
}

// joinReports writes the Ginkgo JSON reports of a suite's runs (each an
// array of reports) into one array at to, removing them.
func joinReports(to string, from []string) error {
	var all []json.RawMessage
	for _, f := range from {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a run killed at the deadline wrote none: its absence shows
		}
		var some []json.RawMessage
		if err := json.Unmarshal(b, &some); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		all = append(all, some...)
		_ = os.Remove(f)
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// runBench runs the benchmark, its output to the console and the share.
func (r *run) runBench(deadline time.Time) (res guestproto.SuiteResult) {
	res.Name = "kbusbench"
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	out, err := os.Create(filepath.Join(guestproto.ResultsMount, guestproto.BenchFile))
	if err != nil {
		res.Error = err.Error()
		res.ExitCode = -1
		return res
	}
	defer out.Close()
	console := &lineWriter{mu: &r.consoleMu, out: os.Stdout}
	defer console.Flush()
	args := []string{"-json", filepath.Join(guestproto.ResultsMount, guestproto.BenchJSON),
		"-c", filepath.Join(guestproto.BinDir, guestproto.CBench)}
	if r.req.Focus != "" { // rig bench -focus: the rows it names
		args = append(args, "-focus", r.req.Focus)
	}
	if _, err := os.Stat(guestproto.PeersDir); err == nil { // the image has the peers
		args = append(args, "-peers", guestproto.PeersDir)
	}
	execute(&res, console, out, deadline, nil, nil, guestproto.BenchPath, args...)
	return res
}

// execute runs a guest program with env added to its environment, as cred
// (nil: as root), until it exits or the deadline, recording its exit in res
// and copying its output to console and to w.
func execute(res *guestproto.SuiteResult, console, w io.Writer, deadline time.Time, cred *syscall.Credential,
	env []string, path string, args ...string) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/tmp"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		env = append(env, fmt.Sprintf("%s=%d", guestproto.EnvMemberGID, cred.Groups[0]))
	}
	out := io.MultiWriter(console, w)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	as := ""
	if cred != nil {
		as = fmt.Sprintf(" (as uid %d, groups %v)", cred.Uid, cred.Groups)
	}
	log.Printf("%s: %s %s%s", res.Name, strings.Join(env, " "), strings.Join(cmd.Args, " "), as)

	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
		if ctx.Err() != nil {
			res.Error = "killed at the run's deadline"
		}
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Error = strings.TrimSpace(res.Error + " (signal " + ws.Signal().String() + ")")
		}
	default:
		res.ExitCode = -1
		res.Error = err.Error()
	}
	log.Printf("%s: exit %d %s", res.Name, res.ExitCode, res.Error)
}
