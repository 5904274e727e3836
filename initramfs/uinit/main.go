// Command uinit is the rig's guest init. u-root's init starts it once the
// kernel has booted; it prepares the guest, loads kbus.ko, runs every spec
// suite in /specs, writes the results to the host's 9P share and powers the
// machine off on every path.
//
// Everything it needs comes from the kernel command line, read with
// guestproto.ParseCmdline; what it writes back and where is that package's
// contract too:
//
//	rig.mode=test|bench|shell  run the specs (default), the benchmark, or
//	                           stop at a shell
//	rig.timeout=DURATION       guest watchdog for the whole run
//	rig.labels=FILTER          Ginkgo label filter passed to every suite
//	rig.fault=NAME             fault injection for the rig's own tests:
//	                           hang, init-panic, kernel-panic
//	rig.ip=ADDR/PREFIX         address of the network link to another guest
//	rig.peer=ADDR              that guest's address, given to the suites as
//	                           $KBUS_RIG_PEER
//	kbus.PARAM=VALUE           module parameters for kbus.ko
package main

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("uinit: ")

	// u-root's init has mounted most of what we need; mountBasics mounts
	// the rest (and /proc itself, should it be missing) before anything
	// is read from it.
	mountBasics()
	writeToConsoleDirectly()
	useCgroup2()
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		log.Printf("reading the kernel command line: %v; running with the defaults", err)
	}
	req := guestproto.ParseCmdline(string(cmdline))

	if req.Mode == guestproto.ModeShell {
		if err := loadModule(req.ModuleParams); err != nil {
			log.Printf("%v", err)
		}
		fmt.Println("rig: kbus loaded; this is a debug shell. 'exit' or 'poweroff' ends it.")
		// By its full path: u-root's multi-call binary finds out what to
		// be from it. The machine powers off when the shell ends.
		sh := exec.Command("/bin/sh")
		sh.Stdin, sh.Stdout, sh.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := sh.Run(); err != nil {
			log.Printf("shell: %v", err)
		}
		powerOff()
	}

	r := newRun(req, time.Now())
	r.execute()
}
