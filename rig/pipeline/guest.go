package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/vm"
)

// timeouts returns the host's hard limit for the guest and the guest's own
// watchdog, which fires first so that a hung suite is reported by name; the
// margin covers the boot and writing the results.
func (r *runner) timeouts() (host, guest time.Duration) {
	host = r.cfg.Timeout
	if host == 0 {
		// A target's budget is for one run of its suites.
		host = r.cfg.Target.TimeoutFor(r.cfg.Flavour) * time.Duration(max(r.cfg.Repeat, 1))
	}
	margin := max(host/10, 15*time.Second)
	return host, max(host-margin, host/2)
}

// request is what this run asks of the guest.
func (r *runner) request() guestproto.Request {
	_, guest := r.timeouts()
	req := guestproto.Request{
		Mode: r.cfg.Mode, Timeout: guest, Labels: r.cfg.Labels, Focus: r.cfg.Focus, ModuleParams: r.cfg.ModuleParams,
		PrintkFlood: r.cfg.PrintkFlood, Streams: r.cfg.Streams, Repeat: r.cfg.Repeat,
	}
	if req.Labels == "" {
		req.Labels = DefaultLabels
	}
	if n := r.cfg.Net; n != nil {
		req.IP, req.Peer = n.IP, n.Peer
	}
	if d := r.cfg.Distro; d != nil && d.Package != nil {
		req.Udev = true
		req.Member = guestproto.Member{GID: d.Package.GID, Suites: d.MemberSuites}
	}
	return req
}

func (r *runner) vmConfig(g guestFiles) vm.Config {
	host, _ := r.timeouts()
	req := r.request()
	req.First = r.firstSuites()
	c := vm.Config{
		Target:     r.cfg.Target,
		Kernel:     g.kernel,
		Initramfs:  g.initramfs,
		ResultsDir: g.share,
		KernelArgs: append(req.KernelArgs(), r.cfg.KernelArgs...),
		Timeout:    host,
		Icount:     r.cfg.Icount,
	}
	if n := r.cfg.Net; n != nil {
		c.Link = &n.Link
	}
	return c
}

func (r *runner) boot(ctx context.Context, g guestFiles) error {
	serial, err := os.Create(filepath.Join(r.out.ReportDir, report.SerialFile))
	if err != nil {
		return err
	}
	defer serial.Close()
	c := r.vmConfig(g)
	c.Serial = serial
	r.logf("booting (timeout %v): console in %s", c.Timeout, serial.Name())
	res, err := vm.Run(ctx, c)
	r.out.Cmdline = res.Cmdline
	r.logf("qemu: %s", res.Cmdline)
	if err != nil {
		return fmt.Errorf("booting the guest: %w%s", err, guestConsoleTail(serial.Name()))
	}
	return nil
}
