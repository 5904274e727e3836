package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// A command is one verb of rig: its usage, the flag groups it takes, and
// what it does. The table below is the only list of verbs: dispatch, rig -h
// and each verb's -h are made from it.
type command struct {
	Name string
	// Args follows "rig NAME" in the usage line, e.g. "[flags] IMAGE DEVICE".
	Args  string
	Short string // one line for rig -h
	Long  string // what rig NAME -h says above the flags
	// Groups are the flag groups (flags.go) the verb takes, in the order
	// -h lists them.
	Groups []flagGroup
	// Board says whether the verb takes -board and whether it must.
	Board boardUse
	// Positional says the verb takes arguments after its flags.
	Positional bool
	Run        func(ctx context.Context, inv *invocation) int
}

type boardUse int

const (
	noBoard       boardUse = iota
	boardOptional          // rig test: a board instead of an architecture
	boardRequired          // every board verb
)

// An invocation is a command being run: its vetted options, the arguments
// after its flags, and where it writes.
type invocation struct {
	cmd            *command
	opts           *options
	args           []string
	stdout, stderr io.Writer
}

// commands is rig's table of verbs (docs/testing.md describes each).
func commands() []*command {
	guest := []flagGroup{targetFlags, distroFlags, specFlags, bootFlags, timeoutFlag, runFlags, cacheFlag}
	board := []flagGroup{boardFlags, specFlags, bootFlags, runFlags, cacheFlag}
	return []*command{
		{
			Name: "test", Args: "[flags]", Short: "build, boot, run the specs, write the report",
			Long: "Builds the kernel, module and initramfs of each -arch (or the image of each -board), boots it in QEMU,\n" +
				"runs the specs and writes the target's report and the run's page under -out.\n" +
				"With -board B it boots the board's disk image through the board's own firmware.\n" +
				"With -topology pair it boots an x86_64 set-top box and an arm64 service box joined by a network.",
			Groups: append(append([]flagGroup{}, guest...), topologyFlag, boardFlags, imageFlag),
			Board:  boardOptional, Run: runTest,
		},
		{
			Name: "bench", Args: "[flags]", Short: "build, boot, run the benchmark, print its figures",
			Long: "Like rig test, but the guest runs the benchmark (internal/bench) and prints its figures.\n" +
				"-focus keeps the rows whose name it matches: -focus '^c' runs the C program alone.\n" +
				"-icount measures in instructions instead of the host's time, to compare two modules.",
			Groups: append(append([]flagGroup{}, guest...), benchFlags), Run: runBench,
		},
		{
			Name: "shell", Args: "[flags]", Short: "build, then boot the same image to a shell on the console",
			Long:   "Builds what rig test builds for one -arch and boots it to an interactive shell.",
			Groups: []flagGroup{targetFlags, distroFlags, specFlags, bootFlags, runFlags, cacheFlag}, Run: runShell,
		},
		{
			Name: "report", Args: "[flags]", Short: "write the run's page from its targets' reports",
			Long:   "Writes out/reports/index.html again for the latest run (or -run-id), e.g. against another -baseline,\nand prints the run's profile. The exit status is the run's verdict.",
			Groups: []flagGroup{runFlags, reportFlags}, Run: runReport,
		},
		{
			Name: "accept", Args: "-by \"Name <mail>\" -key KEY [-waive ID=reason ...] | -verify -allowed-signers FILE",
			Short: "sign a run off, or check a sign-off",
			Long: "Writes acceptance.json beside -report: the report's hash, what it tested, its verdict, the reviewer,\n" +
				"the time, the notes and a waiver for every item that did not pass (each failed spec, target and\n" +
				"requirement no spec verified), signed with -key by ssh-keygen; then writes the run's page again.\n" +
				"With -verify, checks the signature against -allowed-signers and the report against its hash.",
			Groups: []flagGroup{acceptFlags}, Run: runAccept,
		},
		{
			Name: "image", Args: "-board B|all [flags]", Short: "build a board's disk image (out/images/B)",
			Long:   "Builds the board's disk image with its block map, checksum and manifest under out/images/BOARD.",
			Groups: board, Board: boardRequired, Run: runImage,
		},
		{
			Name: "flash", Args: "[flags] IMAGE DEVICE", Short: "write an image to an SD card or USB disk, safely",
			Long: "Writes IMAGE's mapped blocks (IMAGE.bmap) to the whole disk DEVICE and reads them back;\n" +
				"IMAGE.sha256 must match. Refuses partitions, disks in use or holding /, /boot or swap,\n" +
				"and, unless -force, fixed disks and disks larger than -max-size.",
			Groups: []flagGroup{flashFlags}, Positional: true, Run: runFlash,
		},
		{
			Name: "lava-jobs", Args: "-board B|all [flags]", Short: "write the board's LAVA job definitions (out/lava/B)",
			Long:   "Writes the board's LAVA jobs: one for QEMU with its device dictionary, one for a real board.",
			Groups: board, Board: boardRequired, Run: runLAVAJobs,
		},
		{
			Name: "lava-test", Args: "-board B|all [flags]", Short: "run the board's QEMU job with lava-run, check LAVA's results",
			Long: "Runs the board's QEMU job with Debian's lava-dispatcher and checks that LAVA recorded every spec\n" +
				"of the board's last image test with the guest's own result.",
			Groups: append(append([]flagGroup{}, board...), timeoutFlag), Board: boardRequired, Run: runLAVATest,
		},
		{
			Name: "board-test", Args: "-board B -console DEV [flags]", Short: "test a real board on the desk over its serial line",
			Long: "Writes the board's image (with -flash), power-cycles the board (with -power-cmd, or asks you to),\n" +
				"and reads the specs' results from its serial console.",
			Groups: append(append([]flagGroup{}, board...), deskFlags), Board: boardRequired, Run: runBoardTest,
		},
		{
			Name: "target", Args: "list | env ARCH [FLAVOUR [KVER]]", Short: "the targets, kernel flavours and boards",
			Long: "rig target list prints the target table; rig target env prints what kernel/build.sh needs\n" +
				"for ARCH, FLAVOUR and KVER, as shell assignments.",
			Positional: true, Run: runTarget,
		},
		{
			Name: "version", Short: "print rig's version",
			Run: runVersion,
		},
	}
}

// lookup returns the command named name.
func lookup(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// usageLine is "rig NAME ARGS".
func (c *command) usageLine() string {
	return strings.TrimSpace("rig " + c.Name + " " + c.Args)
}

// flagSet registers the verb's flags into o.
func (c *command) flagSet(o *options, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rig "+c.Name, flag.ContinueOnError)
	fs.SetOutput(w)
	for _, g := range c.Groups {
		g.Add(o, fs)
	}
	fs.Usage = func() { c.printHelp(fs.Output()) }
	return fs
}

// printHelp is rig NAME -h.
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.usageLine(), c.Short)
	if c.Long != "" {
		fmt.Fprintf(w, "\n%s\n", c.Long)
	}
	for _, g := range c.Groups {
		one := flag.NewFlagSet(g.Name, flag.ContinueOnError)
		one.SetOutput(w)
		g.Add(&options{}, one)
		fmt.Fprintf(w, "\n%s flags:\n", g.Name)
		one.PrintDefaults()
	}
}

// printUsage is rig -h: every verb with its line.
func printUsage(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "usage: rig COMMAND [flags]")
	fmt.Fprintln(w, "\nrig builds KBUS guests, boots them in QEMU or on boards, and reports on the specs they ran.\n\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-11s %s\n", c.Name, c.Short)
	}
	fmt.Fprintln(w, "\n\"rig COMMAND -h\" lists a command's flags; docs/testing.md and docs/boards.md say more.")
	fmt.Fprintln(w, "Exit status: 0 every spec passed; 1 specs failed, none ran, or the kernel splatted;\n"+
		"2 infrastructure error (build failed, guest hung, panicked or never reported); 64 bad usage.")
}
