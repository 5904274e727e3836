package fuzz

import "testing"

const leakReport = `unreferenced object 0xffff888005a3c000 (size 64):
  comm "kbus-flood", pid 123, jiffies 4294937296 (age 12.340s)
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace:
    [<000000007d9c4e3a>] __kmalloc+0x4c/0x90
    [<00000000b1a2c3d4>] kbus_push+0x12/0x80 [kbus]
unreferenced object 0xffff888005a3d000 (size 32):
  comm "init", pid 1, jiffies 4294937000 (age 13.000s)
  backtrace:
    [<000000007d9c4e3a>] kmem_cache_alloc+0x4c/0x90
`

func TestLeakWatchReportsOnlyNewObjects(t *testing.T) {
	w := &leakWatch{known: map[string]bool{"0xffff888005a3d000": true}}
	got := w.fresh(leakReport)
	want := "kmemleak: unreferenced object 0xffff888005a3c000 (size 64), allocated in [<00000000b1a2c3d4>] kbus_push+0x12/0x80 [kbus]"
	if got != want {
		t.Fatalf("first scan: %q, want %q", got, want)
	}
	if again := w.fresh(leakReport); again != "" {
		t.Fatalf("a leak reported twice: %q", again)
	}
	if none := (&leakWatch{known: map[string]bool{}}).fresh(""); none != "" {
		t.Fatalf("an empty report gave %q", none)
	}
}
