package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/internal/rigtest"
	"github.com/kbus-project/kbus/rig/target"
)

// The binaries' key follows what builds them and nothing else.
func TestBinariesKeyFollowsTheInputs(t *testing.T) {
	root := t.TempDir()
	rigtest.WriteFile(t, filepath.Join(root, "go.mod"), "module example")
	rigtest.WriteFile(t, filepath.Join(root, "specs/core/core_test.go"), "package core")
	rigtest.WriteFile(t, filepath.Join(root, "fuzz/corpus/00.json"), "[]")
	rigtest.WriteFile(t, filepath.Join(root, "README.md"), "words")
	rigtest.WriteFile(t, filepath.Join(root, "out/build/x/specs/core.test"), "binary")
	x86, arm := target.MustLookup("x86_64"), target.MustLookup("arm64")
	rigtest.RequireTools(t, "go", x86.Kernel.CrossCompile+"gcc", arm.Kernel.CrossCompile+"gcc")
	r := newRunner(Config{Root: root, Target: x86, Log: os.Stderr})
	key := func() string {
		t.Helper()
		k, err := r.binariesKey(context.Background(), []string{"specs/core"}, false)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	first := key()
	rigtest.WriteFile(t, filepath.Join(root, "README.md"), "other words")
	rigtest.WriteFile(t, filepath.Join(root, "out/build/x/specs/core.test"), "another binary")
	if key() != first {
		t.Fatal("the key changed with files that build no binary")
	}
	rigtest.WriteFile(t, filepath.Join(root, "fuzz/corpus/00.json"), "[{}]")
	second := key()
	if second == first {
		t.Fatal("the key ignored the embedded corpus")
	}
	rigtest.WriteFile(t, filepath.Join(root, "specs/core/core_test.go"), "package core // changed")
	if key() == second {
		t.Fatal("the key ignored a Go file")
	}
	other := newRunner(Config{Root: root, Target: arm, Log: os.Stderr})
	if k, err := other.binariesKey(context.Background(), []string{"specs/core"}, false); err != nil || k == key() {
		t.Fatalf("two architectures, one key (%v)", err)
	}
}

// A set kept in the cache comes back whole; only a complete set counts,
// and the cache keeps the most recently used.
func TestBinariesCacheStoresRestoresAndPrunes(t *testing.T) {
	build, cache := t.TempDir(), t.TempDir()
	rigtest.WriteFile(t, filepath.Join(build, "bin/uinit"), "init")
	rigtest.WriteFile(t, filepath.Join(build, "specs/core.test"), "suite")
	set := filepath.Join(cache, "k1")
	if err := storeTree(build, set); err != nil {
		t.Fatal(err)
	}
	again := t.TempDir()
	if err := emptyDirs(filepath.Join(again, "bin"), filepath.Join(again, "specs")); err != nil {
		t.Fatal(err)
	}
	if err := restoreTree(set, again); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(again, "specs/core.test")); err != nil || string(b) != "suite" {
		t.Fatalf("restored %q, %v", b, err)
	}
	if err := os.Remove(filepath.Join(set, "complete")); err != nil {
		t.Fatal(err)
	}
	if err := restoreTree(set, t.TempDir()); err == nil {
		t.Fatal("an incomplete set was restored")
	}
	for i, name := range []string{"a", "b", "c", "d"} {
		rigtest.WriteFile(t, filepath.Join(cache, name, "complete"), "")
		at := time.Now().Add(time.Duration(i-10) * time.Minute)
		if err := os.Chtimes(filepath.Join(cache, name), at, at); err != nil {
			t.Fatal(err)
		}
	}
	pruneCache(cache, 2)
	entries, _ := os.ReadDir(cache)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) != 2 || left[0] != "d" || left[1] != "k1" {
		t.Fatalf("left after pruning: %v", left)
	}
}

// A module kept in the cache is a copy: Kbuild rewriting the build's
// kbus.ko later must not change it.
func TestKeepFileCopies(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "build/kbus.ko"), filepath.Join(dir, "cache/k/kbus.ko")
	rigtest.WriteFile(t, src, "first")
	if err := keepFile(src, dst); err != nil {
		t.Fatal(err)
	}
	rigtest.WriteFile(t, src, "second")
	if b, err := os.ReadFile(dst); err != nil || string(b) != "first" {
		t.Fatalf("the kept module reads %q (%v)", b, err)
	}
}
