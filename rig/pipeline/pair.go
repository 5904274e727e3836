package pipeline

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kbus-project/kbus/rig/target"
	"github.com/kbus-project/kbus/rig/vm"
)

// PairSuite is the suite both machines of the pair topology run; its
// labels choose each machine's side.
const PairSuite = "specs/pair"

// pairGuest is one machine of the two-machine topology.
type pairGuest struct {
	target string
	role   string
	labels string
	ip     string
	mac    net.HardwareAddr
	server bool // creates the network link
}

// pairGuests are the service box, which serves the tuner, DRM and recorder
// and runs the listening Limpet, and the set-top box, whose remote and UI
// use them across the network. Both boot at once: the service box's QEMU
// creates the link, the set-top box's waits for it, and the set-top box's
// Limpet retries until the service box's listens.
var pairGuests = []pairGuest{
	{target: target.ARM64, role: "service box", labels: "pair-service", ip: "10.0.2.1",
		mac: net.HardwareAddr{0x52, 0x54, 0x00, 0x4b, 0x42, 0x01}, server: true},
	{target: target.X86_64, role: "set-top box", labels: "pair-client", ip: "10.0.2.2",
		mac: net.HardwareAddr{0x52, 0x54, 0x00, 0x4b, 0x42, 0x02}},
}

// RunPair runs the two-machine topology: it builds an image for each
// machine, boots both at once joined by a QEMU network over a Unix socket
// (nothing on the host's network), and reports each machine on its own.
// cfg gives the repository, cache, output folder, kernel flavour and log;
// the architectures, suites and labels are the topology's.
func RunPair(ctx context.Context, cfg Config) []*Outcome {
	dir, err := os.MkdirTemp("", "kbus-pair-")
	cfgs := pairConfigs(cfg, dir)
	runners := make([]*runner, len(cfgs))
	for i, c := range cfgs {
		runners[i] = newRunner(c)
	}
	outs := make([]*Outcome, len(runners))
	if err != nil {
		for i, r := range runners {
			outs[i] = r.finish(fmt.Errorf("a folder for the network socket: %w", err))
		}
		return outs
	}
	defer os.RemoveAll(dir)

	// Build both images before booting either: a guest alone would only
	// wait for its peer.
	files := make([]guestFiles, len(runners))
	for i, r := range runners {
		if files[i], err = r.prepare(ctx); err != nil {
			outs[i] = r.finish(err)
			for j, other := range runners {
				if j != i && outs[j] == nil {
					outs[j] = other.finish(fmt.Errorf("not booted: the %s's build failed", pairGuests[i].role))
				}
			}
			return outs
		}
	}

	var wg sync.WaitGroup
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = r.finish(r.bootAndReport(ctx, files[i]))
		}()
	}
	wg.Wait()
	return outs
}

// pairConfigs returns the configuration of each machine of the pair: the
// topology's architecture, suite, labels and addresses, and a link through
// a socket in dir.
func pairConfigs(cfg Config, dir string) []Config {
	cfgs := make([]Config, len(pairGuests))
	for i, g := range pairGuests {
		c := cfg
		c.Name = "pair-" + g.target
		c.Role = g.role
		c.Suites = []string{PairSuite}
		c.Labels = g.labels
		c.NativeOnly = true
		c.Target = target.MustLookup(g.target)
		c.Net = &Net{
			Link: vm.Link{Socket: filepath.Join(dir, "link.sock"), Server: g.server, MAC: g.mac, Wait: 2 * time.Minute},
			IP:   g.ip + "/24",
			Peer: pairGuests[1-i].ip,
		}
		cfgs[i] = c
	}
	return cfgs
}
