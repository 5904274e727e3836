package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/internal/rigtest"
)

func TestSyncTreeCopiesOnlyChangedSources(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	rigtest.WriteFile(t, filepath.Join(src, "kbus_device.c"), "int a;")
	rigtest.WriteFile(t, filepath.Join(src, "kbus_internal.h"), "int b;")
	rigtest.WriteFile(t, filepath.Join(src, "include/uapi/linux/kbus_defns.h"), "int c;")
	rigtest.WriteFile(t, filepath.Join(src, "Kbuild"), "obj-m := kbus.o")
	rigtest.WriteFile(t, filepath.Join(src, "kbus_device.o"), "object")
	rigtest.WriteFile(t, filepath.Join(src, "kbus.mod.c"), "generated")

	n, hash, err := syncTree(src, dst)
	if err != nil || n != 4 {
		t.Fatalf("first sync copied %d (%v), want 4 sources", n, err)
	}
	for _, gone := range []string{"kbus_device.o", "kbus.mod.c"} {
		if _, err := os.Stat(filepath.Join(dst, gone)); err == nil {
			t.Errorf("build product %s was copied", gone)
		}
	}
	if n, again, _ := syncTree(src, dst); n != 0 || again != hash || !strings.HasSuffix(hash, "(4 files)") {
		t.Errorf("unchanged tree copied %d files, hash %s then %s", n, hash, again)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(src, "kbus_device.c"), later, later); err != nil {
		t.Fatal(err)
	}
	if n, touched, _ := syncTree(src, dst); n != 1 || touched != hash {
		t.Errorf("after touching one file %d were copied (want 1), hash %s (want the same)", n, touched)
	}
	rigtest.WriteFile(t, filepath.Join(src, "kbus_device.c"), "int changed;")
	if _, changed, _ := syncTree(src, dst); changed == hash {
		t.Error("a changed source kept the hash")
	}
}

func TestFindSuites(t *testing.T) {
	root := t.TempDir()
	rigtest.WriteFile(t, filepath.Join(root, "specs/b/b_test.go"), "package b_test")
	rigtest.WriteFile(t, filepath.Join(root, "specs/a/a_suite_test.go"), "package a_test")
	rigtest.WriteFile(t, filepath.Join(root, "specs/a/more_test.go"), "package a_test")
	rigtest.WriteFile(t, filepath.Join(root, "specs/helpers/helpers.go"), "package helpers")
	got, err := findSuites(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "specs/a" || got[1] != "specs/b" {
		t.Errorf("suites %q", got)
	}
	if _, err := findSuites(t.TempDir()); err == nil {
		t.Error("no suites is not an error")
	}
}

func TestGuestWatchdogFiresBeforeTheHostTimeout(t *testing.T) {
	for _, d := range []time.Duration{20 * time.Second, time.Minute, 10 * time.Minute, time.Hour} {
		r := &runner{cfg: Config{Timeout: d}}
		h, g := r.timeouts()
		if h != d || g >= h || g < h/2 {
			t.Errorf("timeout %v: guest %v, host %v", d, g, h)
		}
	}
}
