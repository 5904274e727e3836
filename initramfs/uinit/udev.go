package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kbus-project/kbus/rig/guestproto"
)

// udevWait bounds each wait for udev's queue to empty.
const udevWait = 30 * time.Second

// startUdev starts the distribution's udev daemon and replays the add
// events of the KBUS nodes the module made at load, so that they get what
// the package's rules give them (docs/kbus.md §18.5): the same path a
// device takes on a Debian system. Devices made later get their events
// from the running daemon; settleUdev waits for them.
func startUdev() error {
	if err := os.MkdirAll("/run", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("udev: mounting /run: %w", err)
	}
	// udevadm is the daemon when it is called by that name.
	daemon := &exec.Cmd{Path: guestproto.UdevadmPath, Args: []string{"systemd-udevd", "--daemon"}}
	if out, err := daemon.CombinedOutput(); err != nil {
		return fmt.Errorf("udev: starting the daemon: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if err := udevadm("trigger", "--action=add", "--subsystem-match=kbus"); err != nil {
		return err
	}
	return settleUdev()
}

// settleUdev waits until udev has handled every event so far.
func settleUdev() error {
	return udevadm("settle", fmt.Sprintf("--timeout=%d", int(udevWait.Seconds())))
}

func udevadm(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), udevWait+5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, guestproto.UdevadmPath, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("udevadm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// logNodes says who may open each KBUS node: what udev made of them.
func logNodes() {
	nodes, _ := filepath.Glob("/dev/kbus[0-9]*")
	var said []string
	for _, n := range nodes {
		var st unix.Stat_t
		if err := unix.Stat(n, &st); err != nil {
			continue
		}
		said = append(said, fmt.Sprintf("%s %04o %d:%d", filepath.Base(n), st.Mode&0o7777, st.Uid, st.Gid))
	}
	log.Printf("device nodes (mode uid:gid): %s", strings.Join(said, ", "))
}

// memberCredential is how a suite that runs as a member of m's group is
// started: as Nobody, with the group among its supplementary groups.
func memberCredential(m guestproto.Member) *syscall.Credential {
	return &syscall.Credential{Uid: guestproto.Nobody, Gid: guestproto.Nobody, Groups: []uint32{uint32(m.GID)}}
}

// prepareForMember lets Nobody write what a suite writes: its reports on
// the results share, which the uinit makes for it, and /tmp.
func prepareForMember(paths ...string) error {
	if err := os.Chmod("/tmp", 0o1777); err != nil {
		return err
	}
	for _, p := range paths {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		f.Close()
		if err := os.Chown(p, guestproto.Nobody, guestproto.Nobody); err != nil {
			return err
		}
	}
	return nil
}
