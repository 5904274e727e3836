package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/initramfs"
)

// guestTools are our commands in every guest image, on its PATH.
var guestTools = []string{"cmd/kbus", "cmd/kbusbench", "cmd/limpet", "cmd/simdev"}

type kernel struct {
	dir   string // the build directory: KDIR for the module
	image string
}

// buildKernel runs kernel/build.sh, which returns at once when the kernel
// is cached and shows its progress otherwise.
func (r *runner) buildKernel(ctx context.Context, k *kernel) (string, error) {
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(r.cfg.Root, "kernel", "build.sh"), r.cfg.Arch.Name, r.cfg.Flavour)
	cmd.Env = append(os.Environ(), "KBUS_RIG_CACHE="+r.cfg.CacheDir)
	cmd.Stdout = &stdout
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(r.cfg.Log, &stderr)
	if err := cmd.Run(); err != nil {
		return "", infra("kernel build failed: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	k.dir = lines[len(lines)-1]
	img, err := os.ReadFile(filepath.Join(k.dir, "image"))
	if err != nil {
		return "", infra("kernel build left no image: %w", err)
	}
	k.image = filepath.Join(k.dir, strings.TrimSpace(string(img)))
	note := "built"
	if strings.Contains(stderr.String(), "cached") {
		note = "cached"
	}
	return note + ": " + filepath.Base(k.dir), nil
}

// buildModule builds kbus.ko out of tree against the kernel, from a copy of
// module/ per architecture so that builds for several targets do not mix.
// Only changed files are copied, so Kbuild rebuilds only what changed.
func (r *runner) buildModule(ctx context.Context, k kernel, build string, ko *string) (string, error) {
	src := filepath.Join(r.cfg.Root, "module")
	dst := filepath.Join(build, "module")
	changed, err := syncTree(src, dst)
	if err != nil {
		return "", infra("copying module sources: %w", err)
	}
	cmd := exec.CommandContext(ctx, "make", "-C", dst, "KDIR="+k.dir,
		"ARCH="+r.cfg.Arch.KernelArch, "CROSS_COMPILE="+r.cfg.Arch.CrossCompile)
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	if err := cmd.Run(); err != nil {
		r.cfg.Log.Write(outBuf.Bytes())
		return "", infra("module build failed: %w", err)
	}
	*ko = filepath.Join(dst, "kbus.ko")
	return fmt.Sprintf("%d source file(s) changed", changed), nil
}

type binaries struct {
	uinit  string
	tools  []string // guest commands of ours, for bin/
	suites []string // compiled spec suites, name.test
}

// buildBinaries compiles the guest init and the spec suites for the guest.
// The Go build cache makes an unchanged suite cost well under a second.
func (r *runner) buildBinaries(ctx context.Context, build string, k kernel, b *binaries) (string, error) {
	bin := filepath.Join(build, "bin")
	specs := filepath.Join(build, "specs")
	for _, d := range []string{bin, specs} {
		if err := os.RemoveAll(d); err != nil {
			return "", infra("%w", err)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", infra("%w", err)
		}
	}
	native := initramfs.Target{GOARCH: r.cfg.Arch.GOARCH, GOARM: r.cfg.Arch.GOARM}
	env := append(os.Environ(), native.Env()...)
	goCmdEnv := func(env []string, args ...string) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = r.cfg.Root
		cmd.Env = env
		var outBuf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
		if err := cmd.Run(); err != nil {
			r.cfg.Log.Write(outBuf.Bytes())
			return infra("go %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	goCmd := func(args ...string) error { return goCmdEnv(env, args...) }
	b.uinit = filepath.Join(bin, "uinit")
	if err := goCmd("build", "-trimpath", "-o", b.uinit, "./initramfs/uinit"); err != nil {
		return "", err
	}
	for _, tool := range guestTools {
		out := filepath.Join(bin, filepath.Base(tool))
		if err := goCmd("build", "-trimpath", "-o", out, "./"+tool); err != nil {
			return "", err
		}
		b.tools = append(b.tools, out)
	}
	suites := r.cfg.Suites
	if len(suites) == 0 {
		var err error
		if suites, err = findSuites(r.cfg.Root); err != nil {
			return "", infra("%w", err)
		}
	}
	for _, s := range suites {
		out := filepath.Join(specs, filepath.Base(s)+".test")
		if err := goCmd("test", "-c", "-trimpath", "-o", out, "./"+filepath.ToSlash(s)); err != nil {
			return "", err
		}
		b.suites = append(b.suites, out)
	}
	note := fmt.Sprintf("%d suite(s) for %s", len(b.suites), r.cfg.Arch.GOARCH)
	// A 64-bit ARM kernel that runs 32-bit programs also runs the armv7
	// build of the suites: the module must serve both layouts.
	if r.cfg.Arch.Name == "arm64" && !r.cfg.NativeOnly && kernelHas(k, "CONFIG_COMPAT") {
		env32 := append(os.Environ(), initramfs.Target{GOARCH: "arm", GOARM: "7"}.Env()...)
		for _, s := range suites {
			out := filepath.Join(specs, filepath.Base(s)+"-arm32.test")
			if err := goCmdEnv(env32, "test", "-c", "-trimpath", "-o", out, "./"+filepath.ToSlash(s)); err != nil {
				return "", err
			}
			b.suites = append(b.suites, out)
		}
		note += fmt.Sprintf(", and the same %d for 32-bit arm (compat)", len(suites))
	}
	return note, nil
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

func (r *runner) buildInitramfs(ko string, b binaries, out string) (string, error) {
	t := initramfs.Target{GOARCH: r.cfg.Arch.GOARCH, GOARM: r.cfg.Arch.GOARM}
	logf := func(format string, a ...any) { r.logf(format, a...) }
	base, hit, err := initramfs.Base(r.cfg.CacheDir, t, logf)
	if err != nil {
		return "", infra("%w", err)
	}
	files := []initramfs.File{
		{Src: b.uinit, Dst: "bin/uinit"},
		{Src: ko, Dst: "kbus/kbus.ko"},
	}
	for _, t := range b.tools {
		files = append(files, initramfs.File{Src: t, Dst: "bin/" + filepath.Base(t)})
	}
	for _, s := range b.suites {
		files = append(files, initramfs.File{Src: s, Dst: "specs/" + filepath.Base(s)})
	}
	if err := initramfs.Build(base, out, files, logf); err != nil {
		return "", infra("%w", err)
	}
	note := "base built"
	if hit {
		note = "base cached"
	}
	return note, nil
}

// syncTree copies the regular files of src into dst when their size or
// modification time differ, keeping the times, and returns how many it
// copied.
func syncTree(src, dst string) (int, error) {
	n := 0
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
		si, err := d.Info()
		if err != nil {
			return err
		}
		if di, err := os.Stat(target); err == nil && di.Size() == si.Size() && di.ModTime().Equal(si.ModTime()) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, si.Mode().Perm()); err != nil {
			return err
		}
		n++
		return os.Chtimes(target, si.ModTime(), si.ModTime())
	})
	return n, err
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
