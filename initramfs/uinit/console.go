package main

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The lines a farm reads from the serial console (LAVA's test-case
// signals, the status line, the end marker) share that line with the
// kernel's own messages, which the kernel writes to the UART from any CPU
// between any two bytes of ours: a signal cut in two is a test case lost
// (docs/boards.md, "Signals and kernel messages"). So the guest writes
// them through a signalConsole: the kernel's console output is switched
// off, the text is written and sent (tcdrain), the console is switched
// back on, and what the kernel logged meanwhile at warning level or worse
// is printed after the text, so that a console scan for oopses still
// sees it. Only KERN_EMERG still reaches the console in that window: the
// kernel's floor for the console log level is 1.

// heldBackShown is how many held-back kernel lines are printed after a
// signal block; dmesg.txt on the results share has them all.
const heldBackShown = 40

// floodMarker starts every line of the rig's own printk flood.
const floodMarker = "kbus-rig printk flood"

// signalConsole writes blocks of signal lines to the console.
type signalConsole struct {
	out *os.File
	// flood floods the kernel log from user space while a block is
	// written (rig.printk-flood): the proof that nothing is lost.
	flood bool
	// mu, held for the whole block, keeps the output of suites running
	// side by side off its lines.
	mu *sync.Mutex
}

// print writes text as described above. It never fails: a console that
// cannot be quietened is still written to, and the reason logged.
func (c signalConsole) print(text string) {
	if c.mu != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	kmsg := openKmsgAtEnd()
	stopFlood := func() int { return 0 }
	if c.flood {
		stopFlood = startPrintkFlood()
	}
	quiet := true
	if _, err := unix.Klogctl(unix.SYSLOG_ACTION_CONSOLE_OFF, nil); err != nil {
		quiet = false
		log.Printf("cannot keep kernel messages off the console while signalling: %v", err)
	}
	// A kernel line that passed the console's level just before is still
	// going out on the UART: wait for it before the block's first byte.
	consoleBarrier()
	_, _ = c.out.WriteString(text)
	// Every byte sent before the kernel may write to the UART again.
	drain(int(c.out.Fd()), drainLimit)
	flooded := stopFlood()
	// Lines logged during the block but not yet handled must meet the
	// quiet level, not the one switched back on below.
	consoleBarrier()
	if quiet {
		if _, err := unix.Klogctl(unix.SYSLOG_ACTION_CONSOLE_ON, nil); err != nil {
			log.Printf("switching kernel messages back on: %v", err)
		}
	}
	if kmsg >= 0 {
		replayHeldBack(kmsg, c.out, flooded)
		_ = unix.Close(kmsg)
	}
}

// writeToConsoleDirectly makes fds 1 and 2 the console itself. u-root's
// init, given console= on the kernel command line, starts the uinit with
// a pipe as its output and copies the pipe to the console in a goroutine;
// on a pipe drain has nothing to wait for, so a signal block would end its
// quiet window while its bytes were still on their way to the UART
// (docs/boards.md, "Signals and kernel messages"). Output written to the
// console descriptor goes to the UART's driver, which drain can wait on.
// If the console cannot be opened the pipe stays, and the reason is logged.
func writeToConsoleDirectly() {
	if _, err := unix.IoctlGetTermios(1, unix.TCGETS); err == nil {
		return // already a terminal
	}
	fd, err := unix.Open("/dev/console", unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		log.Printf("output is not a terminal and /dev/console cannot be opened (%v): signal blocks cannot wait for the UART", err)
		return
	}
	defer unix.Close(fd)
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		log.Printf("/dev/console is not a terminal (%v): signal blocks cannot wait for the UART", err)
		return
	}
	for _, to := range []int{1, 2} {
		if err := unix.Dup3(fd, to, 0); err != nil {
			log.Printf("writing fd %d to /dev/console: %v", to, err)
			return
		}
	}
	log.Printf("output was not a terminal; writing to /dev/console directly")
}

// consoleBarrier returns once no kernel line is being written to the
// consoles: reading /proc/consoles takes and releases the console lock,
// which the kernel holds while it prints (Linux 6.1; later kernels list
// the consoles under another lock, and there this is only a read). Two
// blocks written back to back once had kernel lines, printed as they
// began, cut into their first signal line.
func consoleBarrier() {
	_, _ = os.ReadFile("/proc/consoles")
}

// drainLimit bounds how long a block waits for the console to send it.
const drainLimit = 30 * time.Second

// drain waits until the terminal fd has sent every byte written to it, for
// at most limit. tcdrain (TCSBRK with a non-zero argument) waits
// interruptibly and fails with EINTR when a signal comes, and Go's runtime
// signals its threads (preemption, the garbage collector): a tcdrain that
// returned early once let kernel lines cut into the rest of a block on a
// LAVA job's console. So it is retried, and the driver's output queue
// (TIOCOUTQ) must be empty too. A descriptor that is not a terminal has
// nothing to wait for.
func drain(fd int, limit time.Duration) {
	for end := time.Now().Add(limit); time.Now().Before(end); {
		err := unix.IoctlSetInt(fd, unix.TCSBRK, 1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return // not a terminal
		}
		if n, err := unix.IoctlGetInt(fd, unix.TIOCOUTQ); err != nil || n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	log.Printf("console: still sending after %v", limit)
}

// openKmsgAtEnd opens the kernel log for reading from its next record;
// -1 if the kernel has no /dev/kmsg. A raw descriptor, not an os.File:
// Go's poller would wait for a record where the kernel says EAGAIN.
func openKmsgAtEnd() int {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		_ = unix.Close(fd)
		return -1
	}
	return fd
}

// kmsgRecord is one record of /dev/kmsg: "PRI,SEQ,TS,FLAGS;TEXT\n" with
// optional continuation lines after it.
type kmsgRecord struct {
	level int
	text  string
}

func parseKmsg(b []byte) (kmsgRecord, bool) {
	head, rest, ok := bytes.Cut(b, []byte(";"))
	if !ok {
		return kmsgRecord{}, false
	}
	pri, _, _ := bytes.Cut(head, []byte(","))
	n, err := strconv.Atoi(string(pri))
	if err != nil {
		return kmsgRecord{}, false
	}
	text, _, _ := bytes.Cut(rest, []byte("\n"))
	return kmsgRecord{level: n & 7, text: string(text)}, true
}

// replayHeldBack prints the kernel's records since kmsg was opened that
// the console would have shown at the default level (warning or worse),
// the rig's own flood counted apart.
func replayHeldBack(kmsg int, out *os.File, flooded int) {
	buf := make([]byte, 8192)
	var shown, more, flood int
	for {
		n, err := unix.Read(kmsg, buf)
		if errors.Is(err, unix.EPIPE) {
			continue // records were overwritten; the next read is from the oldest left
		}
		if err != nil || n <= 0 {
			break // EAGAIN: nothing more was logged
		}
		rec, ok := parseKmsg(buf[:n])
		if !ok || rec.level > 4 {
			continue
		}
		switch {
		case strings.HasPrefix(rec.text, floodMarker):
			flood++
		case shown < heldBackShown:
			shown++
			fmt.Fprintf(out, "uinit: kernel (held back while signalling): %s\n", rec.text)
		default:
			more++
		}
	}
	if more > 0 {
		fmt.Fprintf(out, "uinit: %d more kernel lines held back while signalling; dmesg.txt has them\n", more)
	}
	if flooded > 0 {
		fmt.Fprintf(out, "uinit: printk flood: %d lines written to /dev/kmsg while signalling, %d read back\n", flooded, flood)
	}
}

// startPrintkFlood writes warning-level lines to /dev/kmsg as fast as it
// can until the returned function is called, which returns how many it
// wrote. It returns once the first line is in, so the flood overlaps
// what follows.
func startPrintkFlood() (stop func() int) {
	// A raw descriptor, like openKmsgAtEnd's.
	fd, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		log.Printf("printk flood: %v", err)
		return func() int { return 0 }
	}
	var (
		done    atomic.Bool
		written atomic.Int64
		wg      sync.WaitGroup
		first   = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		once := sync.OnceFunc(func() { close(first) })
		defer once()
		for i := 0; !done.Load(); i++ {
			// <4> is KERN_WARNING, the level of the hrtimer line that
			// once cut a signal in two.
			line := fmt.Sprintf("<4>%s %d: the quick brown fox jumps over the lazy dog\n", floodMarker, i)
			if _, err := unix.Write(fd, []byte(line)); err != nil {
				log.Printf("printk flood: %v", err)
				return
			}
			written.Add(1)
			once()
		}
	}()
	<-first
	return func() int {
		done.Store(true)
		wg.Wait()
		_ = unix.Close(fd)
		return int(written.Load())
	}
}
