// Package procfs parses KBUS's /proc/kbus/bindings and /proc/kbus/stats.
package procfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Paths of the files.
const (
	BindingsPath = "/proc/kbus/bindings"
	StatsPath    = "/proc/kbus/stats"
)

// Binding is one line of /proc/kbus/bindings.
type Binding struct {
	Device  int    `json:"device"`
	Ksock   uint32 `json:"ksock"`
	PID     int    `json:"pid"`
	Replier bool   `json:"replier"`
	Name    string `json:"name"`
}

var bindingLine = regexp.MustCompile(`^\s*(\d+):\s+(\d+)\s+(\d+)\s+([RL])\s+(.*)$`)

// ParseBindings reads the bindings file's format: every device's
// bindings, or only those of the devices named. A line of another device
// costs only the reading of its device number: a listing may hold
// millions of bindings (docs/kbus.md §12).
func ParseBindings(r io.Reader, devices ...int) ([]Binding, error) {
	var out []Binding
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(devices) > 0 {
			dev, _, ok := strings.Cut(line, ":")
			if d, err := strconv.Atoi(strings.TrimSpace(dev)); ok && err == nil && !slices.Contains(devices, d) {
				continue
			}
		}
		m := bindingLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("bindings line %d: unexpected %q", n, line)
		}
		dev, _ := strconv.Atoi(m[1])
		ks, _ := strconv.ParseUint(m[2], 10, 32)
		pid, _ := strconv.Atoi(m[3])
		out = append(out, Binding{Device: dev, Ksock: uint32(ks), PID: pid, Replier: m[4] == "R", Name: m[5]})
	}
	return out, sc.Err()
}

// Device is one device's part of /proc/kbus/stats.
type Device struct {
	Index            int     `json:"index"`
	NextKsock        uint32  `json:"next_ksock"`
	NextMsg          uint32  `json:"next_msg"`
	UnsentUnbindings uint32  `json:"unsent_unbindings"`
	Tragic           bool    `json:"tragic"`
	Ksocks           []Ksock `json:"ksocks"`
}

// Ksock is one open Ksock in /proc/kbus/stats.
type Ksock struct {
	ID               uint32 `json:"id"`
	LastMsg          string `json:"last_msg"`
	Queued           uint32 `json:"queued"`
	MaxMessages      uint32 `json:"max_messages"`
	ReadByte         uint32 `json:"read_byte"`
	ReadLength       uint32 `json:"read_length"`
	WriteByte        uint32 `json:"write_byte"`
	WritePart        string `json:"write_part"`
	WriteFinished    bool   `json:"write_finished"`
	Sending          bool   `json:"sending"`
	Outstanding      uint32 `json:"outstanding_requests"`
	OutstandingSize  uint32 `json:"outstanding_size"`
	OutstandingMax   uint32 `json:"outstanding_max"`
	UnsentReplies    uint32 `json:"unsent_replies"`
	UnsentRepliesMax uint32 `json:"unsent_replies_max"`
}

var (
	devLine   = regexp.MustCompile(`^dev\s+(\d+): next ksock (\d+) next msg (\d+) unsent unbindings (\d+)(\(gone tragic\))?$`)
	ksockLine = regexp.MustCompile(`^    ksock (\d+) last msg (\d+:\d+) queue (\d+) of (\d+)$`)
	readLine  = regexp.MustCompile(`^      read byte (\d+) of (\d+), wrote byte (\d+) of (\w+) \((not )?finished\), (not )?sending$`)
	outLine   = regexp.MustCompile(`^      outstanding requests (\d+) \(size (\d+), max (\d+)\), unsent replies (\d+) \(max (\d+)\)$`)
)

func u32(s string) uint32 {
	v, _ := strconv.ParseUint(s, 10, 32)
	return uint32(v)
}

// ParseStats reads the stats file's format: every device, or only the
// devices named. Each line is matched by the one pattern its indentation
// and first word call for, and the Ksocks of a device not asked for cost
// only that look: the file lists every open Ksock of every device.
func ParseStats(r io.Reader, devices ...int) ([]Device, error) {
	var devs []Device
	skipping := false // the lines of a device not asked for
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		var ks *Ksock
		if len(devs) > 0 && len(devs[len(devs)-1].Ksocks) > 0 {
			d := &devs[len(devs)-1]
			ks = &d.Ksocks[len(d.Ksocks)-1]
		}
		var m []string
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "dev"):
			if m = devLine.FindStringSubmatch(line); m == nil {
				break
			}
			idx, _ := strconv.Atoi(m[1])
			if skipping = len(devices) > 0 && !slices.Contains(devices, idx); skipping {
				continue
			}
			devs = append(devs, Device{Index: idx, NextKsock: u32(m[2]), NextMsg: u32(m[3]),
				UnsentUnbindings: u32(m[4]), Tragic: m[5] != ""})
			continue
		case skipping && strings.HasPrefix(line, " "):
			continue
		case strings.HasPrefix(line, "    ksock "):
			if m = ksockLine.FindStringSubmatch(line); m == nil || len(devs) == 0 {
				break
			}
			d := &devs[len(devs)-1]
			d.Ksocks = append(d.Ksocks, Ksock{ID: u32(m[1]), LastMsg: m[2], Queued: u32(m[3]), MaxMessages: u32(m[4])})
			continue
		case strings.HasPrefix(line, "      read "):
			if m = readLine.FindStringSubmatch(line); m == nil || ks == nil {
				break
			}
			ks.ReadByte, ks.ReadLength, ks.WriteByte = u32(m[1]), u32(m[2]), u32(m[3])
			ks.WritePart, ks.WriteFinished, ks.Sending = m[4], m[5] == "", m[6] == ""
			continue
		case strings.HasPrefix(line, "      outstanding "):
			if m = outLine.FindStringSubmatch(line); m == nil || ks == nil {
				break
			}
			ks.Outstanding, ks.OutstandingSize, ks.OutstandingMax = u32(m[1]), u32(m[2]), u32(m[3])
			ks.UnsentReplies, ks.UnsentRepliesMax = u32(m[4]), u32(m[5])
			continue
		}
		return nil, fmt.Errorf("stats line %d: unexpected %q", n, line)
	}
	return devs, sc.Err()
}

// ReadBindings parses the live bindings file: every device's bindings, or
// only those of the devices named.
func ReadBindings(devices ...int) ([]Binding, error) {
	f, err := os.Open(BindingsPath)
	if err != nil {
		return nil, fmt.Errorf("%w (is the kbus module loaded?)", err)
	}
	defer f.Close()
	return ParseBindings(f, devices...)
}

// ReadStats parses the live stats file: every device, or only the
// devices named.
func ReadStats(devices ...int) ([]Device, error) {
	f, err := os.Open(StatsPath)
	if err != nil {
		return nil, fmt.Errorf("%w (is the kbus module loaded?)", err)
	}
	defer f.Close()
	return ParseStats(f, devices...)
}
