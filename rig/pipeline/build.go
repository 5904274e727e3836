package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kbus-project/kbus/initramfs"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/peers"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
)

// guestTools are our commands in every guest image, in guestproto.BinDir.
var guestTools = []string{"cmd/kbus", "cmd/kbusbench", "cmd/limpet", "cmd/simdev"}

type kernel struct {
	dir   string // the build directory: KDIR for the module
	image string
	info  report.Kernel // what the report says of it
}

// module is the kbus.ko a guest loads.
type module struct {
	path string
	hash string // of its sources, as the report shows it
}

// buildKernel runs kernel/build.sh, which returns at once when the kernel
// is cached and shows its progress otherwise. The script is given the
// target's facts from the target table, as "rig target env" prints them.
func (r *runner) buildKernel(ctx context.Context) (kernel, string, error) {
	var k kernel
	var stdout bytes.Buffer
	t, f, v := r.cfg.Target, r.cfg.Flavour, r.cfg.Version
	cmd := exec.CommandContext(ctx, filepath.Join(r.cfg.Root, "kernel", "build.sh"), t.Name, f.Name, v.Name)
	cmd.Env = append(os.Environ(), "KBUS_RIG_CACHE="+r.cfg.CacheDir)
	for name, val := range t.KernelVars(f, v) {
		cmd.Env = append(cmd.Env, name+"="+val)
	}
	cmd.Stdout = &stdout
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(r.cfg.Log, &stderr)
	if err := cmd.Run(); err != nil {
		return k, "", fmt.Errorf("kernel build failed: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	k.dir = lines[len(lines)-1]
	img, err := os.ReadFile(filepath.Join(k.dir, "image"))
	if err != nil {
		return k, "", fmt.Errorf("kernel build left no image: %w", err)
	}
	k.image = filepath.Join(k.dir, strings.TrimSpace(string(img)))
	k.info = readKernelInfo(k.dir)
	note := "built"
	if strings.Contains(stderr.String(), "cached") {
		note = "cached"
	}
	return k, note + ": " + filepath.Base(k.dir), nil
}

// Version is the project's version, as scripts/version.sh derives it from
// git describe: the module, the .deb and the reports carry it.
func Version(root string) string {
	out, err := exec.Command(filepath.Join(root, "scripts", "version.sh")).Output()
	if err != nil {
		return "0.0.0+unknown"
	}
	return strings.TrimSpace(string(out))
}

// buildModule builds kbus.ko out of tree against the kernel, from a copy of
// module/ per architecture so that builds for several targets do not mix.
// Only changed files are copied, so Kbuild rebuilds only what changed. A
// module built before from the same sources, version, kernel build and
// compiler comes from the cache instead (~/.cache/kbus-rig/modules):
// make test boots one kernel in several targets.
func (r *runner) buildModule(ctx context.Context, k kernel, build string) (module, string, error) {
	src := filepath.Join(r.cfg.Root, "module")
	dst := filepath.Join(build, "module")
	changed, hash, err := syncTree(src, dst)
	m := module{hash: hash}
	if err != nil {
		return m, "", fmt.Errorf("copying module sources: %w", err)
	}
	kt := r.cfg.Target.Kernel
	var cached string
	if r.cfg.CacheDir != "" {
		cc, err := exec.CommandContext(ctx, kt.CrossCompile+"gcc", "-dumpfullversion").Output()
		if err != nil {
			return m, "", fmt.Errorf("%sgcc -dumpfullversion: %w", kt.CrossCompile, err)
		}
		sum := sha256.Sum256([]byte(strings.Join([]string{hash, r.version, k.dir, kt.Arch, kt.CrossCompile,
			strings.TrimSpace(string(cc))}, "\n")))
		key := hex.EncodeToString(sum[:])
		cached = filepath.Join(r.cfg.CacheDir, "modules", key, "kbus.ko")
		if _, err := os.Stat(cached); err == nil {
			now := time.Now()
			_ = os.Chtimes(filepath.Dir(cached), now, now)
			m.path = cached
			return m, "cached " + key[:16], r.keepLoaded(m, build)
		}
	}
	cmd := exec.CommandContext(ctx, "make", "-C", dst, "KDIR="+k.dir, "ARCH="+kt.Arch, "CROSS_COMPILE="+kt.CrossCompile,
		"KBUS_VERSION="+r.version)
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	if err := cmd.Run(); err != nil {
		r.cfg.Log.Write(outBuf.Bytes())
		return m, "", fmt.Errorf("module build failed: %w", err)
	}
	m.path = filepath.Join(dst, "kbus.ko")
	note := fmt.Sprintf("%d source file(s) changed", changed)
	if cached != "" {
		if err := keepFile(m.path, cached); err != nil {
			r.logf("keeping the module in the cache: %v", err)
		}
		pruneCache(filepath.Dir(filepath.Dir(cached)), modulesKeep)
	}
	return m, note, r.keepLoaded(m, build)
}

// keepLoaded copies the module the guest loads to build/kbus.ko, as a
// distribution's module is, for what reads it after the run (the
// fuzzer's figures count its instrumented blocks).
func (r *runner) keepLoaded(m module, build string) error {
	if err := keepFile(m.path, filepath.Join(build, "kbus.ko")); err != nil {
		return fmt.Errorf("keeping the module the guest loads: %w", err)
	}
	return nil
}

// modulesKeep is how many built modules the cache keeps: one per kernel
// of a run, and the last run's.
const modulesKeep = 12

// keepFile copies src to dst through a temporary file beside it, so that
// dst is whole or absent. A copy, not a link: Kbuild may rewrite src in
// place.
func keepFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dst, os.Getpid())
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// CFlags are how the C programs are built: strictly, and static, for a
// guest with no C library.
var CFlags = []string{"-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-static", "-pthread"}

// cPrograms are the C programs in every guest image: source in
// clients/c, name in guestproto.BinDir.
var cPrograms = []struct{ src, name string }{
	{"kbus_client.c", guestproto.CClient},
	{"kbus_bench.c", guestproto.CBench},
	{"kbus_flood.c", guestproto.CFlood},
}

// cCommand builds the C program src for target t with its C compiler,
// against the module's uapi header only.
func cCommand(ctx context.Context, root string, t target.Target, src, out string) *exec.Cmd {
	args := append(append([]string{}, CFlags...), "-I", filepath.Join(root, "module", "include", "uapi"),
		"-o", out, filepath.Join(root, "clients", "c", src))
	return exec.CommandContext(ctx, t.Kernel.CrossCompile+"gcc", args...)
}

// buildC builds every C program into bin and returns their paths.
func (r *runner) buildC(ctx context.Context, bin string) ([]string, error) {
	var outs []string
	for _, p := range cPrograms {
		out := filepath.Join(bin, p.name)
		cmd := cCommand(ctx, r.cfg.Root, r.cfg.Target, p.src, out)
		var outBuf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
		if err := cmd.Run(); err != nil {
			r.cfg.Log.Write(outBuf.Bytes())
			return nil, fmt.Errorf("%s %s: %w", cmd.Args[0], p.src, err)
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// kernelHas reports whether the kernel's configuration enables option.
func kernelHas(k kernel, option string) bool {
	b, err := os.ReadFile(filepath.Join(k.dir, ".config"))
	return err == nil && bytes.Contains(b, []byte("\n"+option+"=y\n"))
}

// findSuites lists the spec suites: the folders under specs/ with tests.
func findSuites(root string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(root, "specs", "*", "*_test.go"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var suites []string
	for _, m := range matches {
		rel, err := filepath.Rel(root, filepath.Dir(m))
		if err != nil {
			return nil, err
		}
		if !seen[rel] {
			seen[rel] = true
			suites = append(suites, rel)
		}
	}
	if len(suites) == 0 {
		return nil, fmt.Errorf("no spec suites under %s", filepath.Join(root, "specs"))
	}
	sort.Strings(suites)
	return suites, nil
}

// buildInitramfs lays the guest's files out as guestproto says the uinit
// finds them, on the target's cached u-root base.
func (r *runner) buildInitramfs(ctx context.Context, k kernel, m module, b binaries, build string) (string, string, error) {
	out := filepath.Join(build, "initramfs.cpio")
	logf := func(format string, a ...any) { r.logf(format, a...) }
	base, hit, err := initramfs.Base(r.cfg.CacheDir, r.cfg.Target.Go, logf)
	if err != nil {
		return "", "", err
	}
	files := []initramfs.File{
		{Src: b.uinit, Dst: guestproto.UinitPath},
		{Src: m.path, Dst: guestproto.ModulePath},
	}
	for _, t := range b.tools {
		files = append(files, initramfs.File{Src: t, Dst: path.Join(guestproto.BinDir, filepath.Base(t))})
	}
	for _, s := range b.suites {
		files = append(files, initramfs.File{Src: s, Dst: path.Join(guestproto.SpecsDir, filepath.Base(s))})
	}
	if d := r.cfg.Distro; d != nil {
		df, err := d.files(k.info.Release, build)
		if err != nil {
			return "", "", err
		}
		files = append(files, df...)
	}
	if r.cfg.Mode == guestproto.ModeBench {
		// The benchmark's peers (docs/benchmark.md, "Peers"): the
		// distribution's D-Bus and ZeroMQ for the target.
		pf, err := peers.Build(ctx, r.cfg.Root, r.cfg.CacheDir, r.cfg.Target, filepath.Join(build, "peers"))
		if err != nil {
			return "", "", err
		}
		files = append(files, pf...)
	}
	if err := initramfs.Build(base, out, files, logf); err != nil {
		return "", "", err
	}
	note := "base built"
	if hit {
		note = "base cached"
	}
	return out, note, nil
}

// syncTree copies the module's sources from src into dst when their size
// or modification time differ, keeping the times, and returns how many it
// copied and a content hash of the sources ("sha256:<12 hex> (N files)").
func syncTree(src, dst string) (int, string, error) {
	n, files := 0, 0
	h := sha256.New()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || !isModuleSource(d.Name()) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		si, err := d.Info()
		if err != nil {
			return err
		}
		if di, err := os.Stat(target); err == nil && di.Size() == si.Size() && di.ModTime().Equal(si.ModTime()) {
			return nil
		}
		if err := os.WriteFile(target, b, si.Mode().Perm()); err != nil {
			return err
		}
		n++
		return os.Chtimes(target, si.ModTime(), si.ModTime())
	})
	return n, fmt.Sprintf("sha256:%s (%d files)", hex.EncodeToString(h.Sum(nil))[:12], files), err
}

// isModuleSource tells the module's sources from build products that an
// in-tree "make -C module" may have left beside them.
func isModuleSource(name string) bool {
	switch {
	case name == "Kbuild" || name == "Makefile":
		return true
	case strings.HasSuffix(name, ".mod.c"):
		return false
	default:
		ext := filepath.Ext(name)
		return ext == ".c" || ext == ".h"
	}
}
