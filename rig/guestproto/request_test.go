package guestproto

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCmdline(t *testing.T) {
	req := ParseCmdline(`console=ttyS0 panic=-1 rig.timeout=90s rig.labels="stb || industrial" ` +
		`kbus.kbus_num_devices=3 kbus.kbus_dev_mode=0660 rig.fault=hang VMTEST_MOUNT9P_fsdev0=results ` +
		`rig.ip=10.0.2.1/24 rig.peer=10.0.2.2` + "\n")
	want := Request{
		Mode: ModeTest, Timeout: 90 * time.Second, Labels: "stb || industrial", Fault: FaultHang,
		IP: "10.0.2.1/24", Peer: "10.0.2.2",
		ModuleParams: []string{"kbus_num_devices=3", "kbus_dev_mode=0660"},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got %+v\nwant %+v", req, want)
	}
}

func TestParseCmdlineDefaults(t *testing.T) {
	req := ParseCmdline("console=ttyS0 rig.timeout=bogus rig.streams=-2")
	if req.Timeout != DefaultTimeout || req.Mode != ModeTest || req.ModuleParams != nil || req.IP != "" || req.Streams != 0 {
		t.Errorf("unexpected defaults: %+v", req)
	}
}

// What the host writes is what the guest reads.
func TestKernelArgsRoundTrip(t *testing.T) {
	for _, req := range []Request{
		{Mode: ModeBench, Timeout: 17 * time.Minute, Labels: "!soak && !pair"},
		{Mode: ModeTest, Timeout: time.Minute, Labels: "stb", Focus: `Limpets a pair \(of buses\) .* answers`},
		{Mode: ModeTest, Timeout: time.Minute, Labels: "pair-client", IP: "10.0.2.2/24", Peer: "10.0.2.1",
			ModuleParams: []string{"kbus_num_devices=3"}},
		{Mode: ModeShell, Timeout: DefaultTimeout, Fault: FaultKernelPanic},
		{Mode: ModeTest, Timeout: time.Minute, Results: "RIGRESULTS", PrintkFlood: true},
		{Mode: ModeTest, Timeout: time.Minute, Streams: 1},
		{Mode: ModeTest, Timeout: time.Minute, Streams: 3},
		{Mode: ModeTest, Timeout: time.Minute, Repeat: 5},
		{Mode: ModeTest, Timeout: time.Minute, First: []string{"model", "core", "limpet"}},
		{Mode: ModeTest, Timeout: time.Minute, Udev: true, Member: Member{GID: 111, Suites: []string{"api", "cli"}}},
	} {
		line := "console=ttyS0 " + strings.Join(req.KernelArgs(), " ") + " loglevel=5"
		if got := ParseCmdline(line); !reflect.DeepEqual(got, req) {
			t.Errorf("%s\nread back %+v\nwant      %+v", line, got, req)
		}
	}
}

func TestLaterArgumentsOverrideEarlierOnes(t *testing.T) {
	req := ParseCmdline(strings.Join(append(Request{Timeout: time.Minute}.KernelArgs(), ArgTimeout+"=1h"), " "))
	if req.Timeout != time.Hour {
		t.Errorf("timeout %v, want the later 1h", req.Timeout)
	}
}

func TestABadMemberArgumentRunsEverySuiteAsRoot(t *testing.T) {
	for _, val := range []string{"", "kbus:api", "0:api", "111:", "111"} {
		if m := ParseCmdline(ArgMember + "=" + val).Member; len(m.Suites) != 0 {
			t.Errorf("%s=%s read as %+v", ArgMember, val, m)
		}
	}
	m := ParseCmdline(ArgMember + "=111:api,cli").Member
	if !m.Has("cli") || m.Has("core") {
		t.Errorf("member %+v", m)
	}
}

func TestTheFirstSuitesKeepOnlyNamesASuiteCanHave(t *testing.T) {
	got := ParseCmdline("rig.first=model,,core;rm,x86_64-debug.v2,a b").First
	if want := []string{"model", "x86_64-debug.v2", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("first %q, want %q", got, want)
	}
}
