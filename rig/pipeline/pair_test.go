package pipeline

import (
	"strings"
	"testing"
)

func TestPairConfigsJoinTwoMachinesOnOneLink(t *testing.T) {
	cfgs := pairConfigs(Config{OutDir: "out", Labels: "ignored"}, "/tmp/x")
	if len(cfgs) != 2 {
		t.Fatalf("%d machines, want 2", len(cfgs))
	}
	a, b := cfgs[0], cfgs[1]
	if a.Target.Name == b.Target.Name || a.Target.Name == "" || b.Target.Name == "" {
		t.Errorf("architectures %q and %q: want two different ones", a.Target.Name, b.Target.Name)
	}
	if a.Net.Link.Server == b.Net.Link.Server {
		t.Error("exactly one machine must create the link")
	}
	if a.Net.Link.Socket != b.Net.Link.Socket || !strings.HasPrefix(a.Net.Link.Socket, "/tmp/x/") {
		t.Errorf("sockets %q and %q: want one, in the given folder", a.Net.Link.Socket, b.Net.Link.Socket)
	}
	if a.Net.Link.MAC.String() == b.Net.Link.MAC.String() {
		t.Error("both NICs have the same MAC")
	}
	for i, c := range cfgs {
		other := cfgs[1-i]
		if ip, _, _ := strings.Cut(other.Net.IP, "/"); c.Net.Peer != ip {
			t.Errorf("%s's peer is %s, but the other machine is %s", c.Target.Name, c.Net.Peer, other.Net.IP)
		}
		if len(c.Suites) != 1 || c.Suites[0] != PairSuite || !c.NativeOnly || c.OutDir != "out" || c.Role == "" {
			t.Errorf("%s: suites %v, native only %v, out %s, role %q", c.Target.Name, c.Suites, c.NativeOnly, c.OutDir, c.Role)
		}
	}
	if a.Name == b.Name || !strings.HasPrefix(a.Name, "pair-") {
		t.Errorf("report folders %q and %q: want one each, named for the topology", a.Name, b.Name)
	}
	if a.Labels == b.Labels || !strings.HasPrefix(a.Labels, "pair-") || !strings.HasPrefix(b.Labels, "pair-") {
		t.Errorf("labels %q and %q: want one side each", a.Labels, b.Labels)
	}
}
