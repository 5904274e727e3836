// Package lava writes LAVA job definitions for the board images and runs
// them with Debian's lava-dispatcher (docs/boards.md, "LAVA"): the guest's
// console carries one LAVA test-case signal per spec, and a job's monitors
// turn them into LAVA test cases, a test suite per spec suite.
package lava

import (
	"fmt"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/target"
	"go.yaml.in/yaml/v3"
)

// Job is a LAVA job definition, in the order LAVA's documentation lists
// its keys.
type Job struct {
	DeviceType string            `yaml:"device_type"`
	JobName    string            `yaml:"job_name"`
	Timeouts   Timeouts          `yaml:"timeouts"`
	Priority   string            `yaml:"priority"`
	Visibility string            `yaml:"visibility"`
	Context    map[string]string `yaml:"context,omitempty"`
	Actions    []Action          `yaml:"actions"`
}

// Timeouts are a job's overall and per-action limits. Connection is how
// long LAVA waits for the console to show what it expects next (LAVA's
// default is 30 s): a monitor waits that long for its suite's start
// signal, which the guest prints when the suite has run, so it must
// outlast the slowest suite on the slowest architecture.
type Timeouts struct {
	Job        Duration `yaml:"job"`
	Action     Duration `yaml:"action"`
	Connection Duration `yaml:"connection"`
}

// Duration is LAVA's {minutes: N}.
type Duration struct {
	Minutes int `yaml:"minutes"`
}

func minutes(d time.Duration) Duration {
	return Duration{Minutes: int((d + time.Minute - 1) / time.Minute)}
}

// Action is one step; exactly one field is set.
type Action struct {
	Deploy *Deploy `yaml:"deploy,omitempty"`
	Boot   *Boot   `yaml:"boot,omitempty"`
	Test   *Test   `yaml:"test,omitempty"`
}

// Deploy puts the image where the device boots it from.
type Deploy struct {
	To      string           `yaml:"to"`
	Timeout Duration         `yaml:"timeout"`
	Images  map[string]Image `yaml:"images"`
}

// Image is a deployed file.
type Image struct {
	ImageArg string `yaml:"image_arg,omitempty"` // QEMU: how the file is attached
	URL      string `yaml:"url"`
}

// Boot starts the device.
type Boot struct {
	Method  string   `yaml:"method"`
	Media   string   `yaml:"media,omitempty"`
	Timeout Duration `yaml:"timeout"`
}

// Test watches the console: no shell, only monitors.
type Test struct {
	Timeout  Duration  `yaml:"timeout"`
	Monitors []Monitor `yaml:"monitors"`
}

// Monitor turns the lines between Start and End that match Pattern into
// test cases of the suite Name.
type Monitor struct {
	Name    string `yaml:"name"`
	Start   string `yaml:"start"`
	End     string `yaml:"end"`
	Pattern string `yaml:"pattern"`
}

// CasePattern matches guestproto's test-case signal, with the named
// groups LAVA's monitors read.
const CasePattern = `<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=(?P<test_case_id>\S+) RESULT=(?P<result>(pass|fail|skip))>`

// lavaArch is the job context's arch, as LAVA's qemu device type names it.
func lavaArch(t target.Target) string {
	switch t.Name {
	case target.X86_64:
		return "x86_64"
	case target.ARM64:
		return "arm64"
	default:
		return "arm"
	}
}

func monitors(suites []string) []Monitor {
	var ms []Monitor
	for _, s := range suites {
		id := guestproto.LAVACaseID(s)
		ms = append(ms, Monitor{Name: id, Start: fmt.Sprintf("<LAVA_SIGNAL_TESTSET START %s>", id),
			End: "<LAVA_SIGNAL_TESTSET STOP>", Pattern: CasePattern})
	}
	return ms
}

// QEMUJob is the job that boots the board's image in QEMU through its
// firmware, on LAVA's qemu device type (with QEMUDevice's dictionary).
// suites are the spec suites in the order the guest runs them.
func QEMUJob(b target.Board, imageURL string, suites []string) Job {
	t := b.Target()
	budget := t.Timeout
	arg := "-drive format=raw,file={disk},if=none,id=disk0 -device " + t.QEMU.Block + ",drive=disk0"
	if b.QEMU.SD {
		arg = "-drive format=raw,file={disk},if=sd"
	}
	return Job{
		DeviceType: "qemu", JobName: "kbus " + b.Name + " (QEMU, through its firmware)",
		Timeouts: Timeouts{Job: minutes(budget + 10*time.Minute), Action: minutes(budget), Connection: minutes(budget)},
		Priority: "medium", Visibility: "public",
		Context: map[string]string{"arch": lavaArch(t)},
		Actions: []Action{
			{Deploy: &Deploy{To: "tmpfs", Timeout: minutes(5 * time.Minute),
				Images: map[string]Image{"disk": {ImageArg: arg, URL: imageURL}}}},
			{Boot: &Boot{Method: "qemu", Media: "tmpfs", Timeout: minutes(5 * time.Minute)}},
			{Test: &Test{Timeout: minutes(budget), Monitors: monitors(suites)}},
		},
	}
}

// BoardJob is the job for the real board on a farm: the farm's flasher
// writes the image (an SD mux, a USB mass-storage gadget), the board is
// powered on and its console watched. The device dictionary is the
// farm's.
func BoardJob(b target.Board, imageURL string, suites []string) Job {
	t := b.Target()
	return Job{
		DeviceType: b.Name, JobName: "kbus " + b.Name,
		Timeouts: Timeouts{Job: minutes(t.Timeout + 15*time.Minute), Action: minutes(t.Timeout), Connection: minutes(t.Timeout)},
		Priority: "medium", Visibility: "public",
		Actions: []Action{
			{Deploy: &Deploy{To: "flasher", Timeout: minutes(10 * time.Minute),
				Images: map[string]Image{"image": {URL: imageURL}}}},
			{Boot: &Boot{Method: "minimal", Timeout: minutes(5 * time.Minute)}},
			{Test: &Test{Timeout: minutes(t.Timeout), Monitors: monitors(suites)}},
		},
	}
}

// Device is a rendered device dictionary for LAVA's qemu device type: what
// lava-run reads with --device (a LAVA server renders the same from its
// templates and the device's dictionary).
type Device struct {
	DeviceType             string        `yaml:"device_type"`
	AvailableArchitectures []string      `yaml:"available_architectures"`
	Actions                DeviceActions `yaml:"actions"`
	Timeouts               struct {
		Actions     map[string]Duration `yaml:"actions"`
		Connections map[string]Duration `yaml:"connections"`
	} `yaml:"timeouts"`
}

// DeviceActions are the methods the device offers.
type DeviceActions struct {
	Deploy struct {
		Methods struct {
			Image struct {
				Parameters struct {
					Guest map[string]any `yaml:"guest"`
				} `yaml:"parameters"`
			} `yaml:"image"`
		} `yaml:"methods"`
	} `yaml:"deploy"`
	Boot struct {
		Methods struct {
			QEMU struct {
				Parameters struct {
					Command string   `yaml:"command"`
					Options []string `yaml:"options"`
				} `yaml:"parameters"`
			} `yaml:"qemu"`
		} `yaml:"methods"`
	} `yaml:"boot"`
}

// QEMUDevice is the device for b's QEMU job: the board's machine and
// firmware (firmware is the -bios file, if any).
func QEMUDevice(b target.Board, accel []string, firmware string) Device {
	t := b.Target()
	var d Device
	d.DeviceType = "qemu"
	d.AvailableArchitectures = []string{lavaArch(t)}
	d.Actions.Deploy.Methods.Image.Parameters.Guest = map[string]any{"size": 512, "interface": "virtio", "driveid": "disk0"}
	machine := t.QEMU.Machine
	if b.QEMU.Machine != nil {
		machine = b.QEMU.Machine
	}
	opts := []string{"-nographic", "-no-reboot"}
	opts = append(opts, pairs(append(accel, machine...))...)
	if firmware != "" {
		opts = append(opts, "-bios "+firmware)
	}
	q := &d.Actions.Boot.Methods.QEMU.Parameters
	q.Command, q.Options = t.QEMU.Binary, opts
	d.Timeouts.Actions = map[string]Duration{}
	d.Timeouts.Connections = map[string]Duration{}
	return d
}

// pairs joins "-flag value" arguments into one option each, as LAVA's
// device dictionaries list them.
func pairs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, args[i]+" "+args[i+1])
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// Marshal writes a job or device as YAML, with a header comment.
func Marshal(v any, comment string) ([]byte, error) {
	body, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	var head strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(comment), "\n") {
		head.WriteString("# " + line + "\n")
	}
	return append([]byte(head.String()), body...), nil
}
