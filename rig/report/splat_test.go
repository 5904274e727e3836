package report

import (
	"strings"
	"testing"
)

func TestFindSplatsInDmesg(t *testing.T) {
	cases := map[string]string{
		"kasan":     "[   12.3] BUG: KASAN: slab-use-after-free in kbus_send+0x1c/0x40",
		"lockdep":   "[    5.1] WARNING: possible circular locking dependency detected",
		"warn":      "[    1.0] WARNING: CPU: 0 PID: 1 at kbus/kbus_device.c:10 kbus_init+0x1/0x2",
		"oops":      "[    2.0] Oops: 0002 [#1] PREEMPT SMP",
		"trace":     "[    2.0] Call Trace:",
		"panic":     "[    3.0] Kernel panic - not syncing: sysrq triggered crash",
		"list":      "[    4.0] list_del corruption. prev->next should be ffff, but was dead",
		"refcount":  "[    4.0] refcount_t: underflow; use-after-free.",
		"kmemleak":  "unreferenced object 0xffff888003a1c000 (size 64):",
		"hung task": "[  120.0] INFO: task kbus:55 blocked for more than 120 seconds.",
		"gpf":       "[    4.0] general protection fault, probably for non-canonical address",
		"arm":       "[    4.0] Unable to handle kernel NULL pointer dereference at virtual address 0",
		"initramfs": "[    2.2] Initramfs unpacking failed: write error",
	}
	for name, line := range cases {
		got := FindSplats("dmesg.txt", "[    0.0] Linux version 6.1\n"+line+"\n[    9.9] all fine\n")
		if len(got) != 1 || got[0].Line != 2 || got[0].Source != "dmesg.txt" {
			t.Errorf("%s: got %+v", name, got)
		}
	}
}

func TestCleanDmesgHasNoSplat(t *testing.T) {
	clean := `[    0.000000] Linux version 6.1.0 (gcc 12)
[    0.500000] Run /init as init process
[    1.200000] kbus: 1 device(s), mode 0666
[    1.300000] 9pnet: Installing 9P2000 support
[    2.263953] reboot: Power down`
	if got := FindSplats("dmesg.txt", clean); len(got) != 0 {
		t.Errorf("false positives: %+v", got)
	}
}

func TestConsoleSplatsOnlyFromKernelLines(t *testing.T) {
	console := `uinit: phase: specs
  WARNING: this is spec output that mentions a warning
[    3.100000] BUG: unable to handle page fault for address: 0000000000000008
Ran 8 of 8 Specs`
	got := FindConsoleSplats("serial.log", console)
	if len(got) != 1 || got[0].Line != 3 {
		t.Errorf("got %+v, want only the kernel's BUG line", got)
	}
}

// The stacks the guest's watchdog asks for (SysRq w, l) are evidence of a
// hang, not splats; a real report among them still is one.
func TestASysRqDumpIsNoSplat(t *testing.T) {
	log := strings.Join([]string{
		"[ 542.65] sysrq: Show Blocked State",
		"[ 542.66] sysrq: Show backtrace of all active CPUs",
		"[ 542.67] NMI backtrace for cpu 1",
		"[ 542.68] Call Trace:",
		"[ 542.69]  <TASK>",
		"[ 543.00] BUG: KASAN: slab-use-after-free in kbus_send+0x1c/0x40",
	}, "\n")
	got := FindConsoleSplats("serial.log", log)
	if len(got) != 1 || got[0].Line != 6 {
		t.Errorf("got %+v, want only the KASAN line", got)
	}
	if got := FindConsoleSplats("serial.log", "[ 1.0] Call Trace:\n"); len(got) != 1 {
		t.Errorf("a trace outside a dump: %+v", got)
	}
}
