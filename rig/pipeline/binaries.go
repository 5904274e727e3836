package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kbus-project/kbus/internal/version"
	"github.com/kbus-project/kbus/rig/guestproto"
)

// binaries are the guest's programs: ours (the init, the commands, the
// API examples, the C clients) under bin/, the spec suites under specs/.
type binaries struct {
	uinit  string
	tools  []string // guest commands of ours, for bin/
	suites []string // compiled spec suites, name.test
}

// binariesKeep is how many sets of binaries the cache keeps, newest used
// first: a run's architectures, and the last run's.
const binariesKeep = 6

// buildBinaries puts the guest's programs under build/bin and
// build/specs. The same inputs (the Go and C sources, the target's
// GOARCH, the compiler versions, the suites, the link flags) give the
// same programs, so they come from the binaries cache when any target
// built them before, in this run or an earlier one: make test's
// x86_64 targets all run the same set (docs/testing.md, "Where the time
// goes"). Otherwise they are compiled, each kind in one go command that
// builds its packages side by side, and kept in the cache.
func (r *runner) buildBinaries(ctx context.Context, build string, k kernel) (binaries, string, error) {
	var b binaries
	bin, specs := filepath.Join(build, "bin"), filepath.Join(build, "specs")
	if err := emptyDirs(bin, specs); err != nil {
		return b, "", err
	}
	suites := r.cfg.Suites
	if len(suites) == 0 {
		var err error
		if suites, err = findSuites(r.cfg.Root); err != nil {
			return b, "", err
		}
	}
	t := r.cfg.Target
	compat := t.Compat != nil && !r.cfg.NativeOnly && kernelHas(k, "CONFIG_COMPAT")
	r.layOut(bin, specs, suites, compat, &b)
	note := fmt.Sprintf("%d suite(s) for %s", len(suites), t.Go)
	if compat {
		note += fmt.Sprintf(", and the same %d for %s (compat)", len(suites), t.Compat)
	}

	key, err := r.binariesKey(ctx, suites, compat)
	if err != nil {
		return b, "", err
	}
	cached := filepath.Join(r.cfg.CacheDir, "binaries", key)
	if r.cfg.CacheDir != "" {
		if err := restoreTree(cached, build); err == nil {
			now := time.Now()
			_ = os.Chtimes(cached, now, now)
			return b, note + "; cached " + key[:16], nil
		}
		if err := emptyDirs(bin, specs); err != nil {
			return b, "", err
		}
	}
	if err := r.compileBinaries(ctx, bin, specs, suites, compat); err != nil {
		return b, "", err
	}
	if r.cfg.CacheDir != "" {
		if err := storeTree(build, cached); err != nil {
			r.logf("keeping the binaries in the cache: %v", err)
		}
		pruneCache(filepath.Dir(cached), binariesKeep)
	}
	return b, note + "; built " + key[:16], nil
}

// layOut names the files buildBinaries leaves, as the initramfs lays them
// out.
func (r *runner) layOut(bin, specs string, suites []string, compat bool, b *binaries) {
	b.uinit = filepath.Join(bin, "uinit")
	for _, tool := range guestTools {
		b.tools = append(b.tools, filepath.Join(bin, filepath.Base(tool)))
	}
	b.tools = append(b.tools, filepath.Join(bin, guestproto.APIExamples))
	for _, p := range cPrograms {
		b.tools = append(b.tools, filepath.Join(bin, p.name))
	}
	for _, s := range suites {
		b.suites = append(b.suites, filepath.Join(specs, filepath.Base(s)+guestproto.SuiteSuffix))
	}
	if compat {
		c := r.cfg.Target.Compat
		for _, s := range suites {
			b.suites = append(b.suites, filepath.Join(specs, filepath.Base(s)+"-"+c.GOARCH+"32"+guestproto.SuiteSuffix))
		}
	}
}

// compileBinaries builds everything layOut names.
func (r *runner) compileBinaries(ctx context.Context, bin, specs string, suites []string, compat bool) error {
	t := r.cfg.Target
	goCmd := func(env []string, args ...string) error {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = r.cfg.Root
		cmd.Env = append(os.Environ(), env...)
		var outBuf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
		if err := cmd.Run(); err != nil {
			r.cfg.Log.Write(outBuf.Bytes())
			return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	// Without the symbol table and DWARF (-s -w) the guest's binaries are
	// a third smaller; a panic's trace still has files and lines. On
	// arm64, which carries every suite twice (64- and 32-bit), the image
	// must be unpacked into half the guest's memory: 406 MB did not fit.
	link := r.linkFlag()
	pkgs := func(dirs []string) []string {
		var out []string
		for _, d := range dirs {
			out = append(out, "./"+filepath.ToSlash(d))
		}
		return out
	}
	// go build and go test -c with -o naming a folder write each package
	// as its last path element (.test for tests), building side by side.
	mains := append([]string{"initramfs/uinit"}, guestTools...)
	if err := goCmd(t.Go.Env(), append([]string{"build", link, "-trimpath", "-o", bin + "/"}, pkgs(mains)...)...); err != nil {
		return err
	}
	if err := goCmd(t.Go.Env(), "test", link, "-c", "-trimpath", "-o", filepath.Join(bin, guestproto.APIExamples), "./kbus"); err != nil {
		return err
	}
	if _, err := r.buildC(ctx, bin); err != nil {
		return err
	}
	if err := goCmd(t.Go.Env(), append([]string{"test", link, "-c", "-trimpath", "-o", specs + "/"}, pkgs(suites)...)...); err != nil {
		return err
	}
	if !compat {
		return nil
	}
	// A 64-bit kernel that runs 32-bit programs also runs the 32-bit build
	// of the suites: the module must serve both layouts.
	c := t.Compat
	tmp := filepath.Join(specs, ".compat")
	if err := goCmd(c.Env(), append([]string{"test", link, "-c", "-trimpath", "-o", tmp + "/"}, pkgs(suites)...)...); err != nil {
		return err
	}
	for _, s := range suites {
		name := filepath.Base(s)
		if err := os.Rename(filepath.Join(tmp, name+guestproto.SuiteSuffix),
			filepath.Join(specs, name+"-"+c.GOARCH+"32"+guestproto.SuiteSuffix)); err != nil {
			return err
		}
	}
	return os.Remove(tmp)
}

// linkFlag carries the project's version to the linker, without the
// symbol table and DWARF.
func (r *runner) linkFlag() string {
	return strings.Replace(version.LinkFlag(r.version), "-ldflags=", "-ldflags=-s -w ", 1)
}

// binariesKey is a content key of everything the guest's programs are
// built from: the go command's version and environment, the C
// compiler's, the target, the suites, the link flags, and every Go file,
// go.mod and go.sum, the embedded fuzz corpus, the C clients and the
// module's uapi header.
func (r *runner) binariesKey(ctx context.Context, suites []string, compat bool) (string, error) {
	h := sha256.New()
	t := r.cfg.Target
	goVersion, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION: %w", err)
	}
	ccVersion, err := exec.CommandContext(ctx, t.Kernel.CrossCompile+"gcc", "-dumpfullversion").Output()
	if err != nil {
		return "", fmt.Errorf("%sgcc -dumpfullversion: %w", t.Kernel.CrossCompile, err)
	}
	fmt.Fprintf(h, "go %s\ngcc %s %s\nGOFLAGS=%s\nenv %q\nlink %s\ncflags %q\nsuites %q\n",
		bytes.TrimSpace(goVersion), t.Kernel.CrossCompile, bytes.TrimSpace(ccVersion), os.Getenv("GOFLAGS"),
		t.Go.Env(), r.linkFlag(), CFlags, suites)
	if compat {
		fmt.Fprintf(h, "compat %q\n", t.Compat.Env())
	}
	err = filepath.WalkDir(r.cfg.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r.cfg.Root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "out" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !buildsGuestPrograms(rel) {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "file %s\n", rel)
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("the binaries' key: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildsGuestPrograms reports whether the file at rel (slash-separated,
// from the repository's root) is an input of the guest's programs.
func buildsGuestPrograms(rel string) bool {
	switch {
	case strings.HasSuffix(rel, ".go"), rel == "go.mod", rel == "go.sum":
		return true
	case strings.HasPrefix(rel, "fuzz/corpus/"), strings.HasPrefix(rel, "clients/c/"),
		strings.HasPrefix(rel, "module/include/uapi/"):
		return true
	}
	return false
}

// restoreTree links (or, across file systems, copies) the cached set's
// bin/ and specs/ into build, whose bin/ and specs/ are empty.
func restoreTree(cached, build string) error {
	if _, err := os.Stat(filepath.Join(cached, "complete")); err != nil {
		return err
	}
	for _, dir := range []string{"bin", "specs"} {
		src := filepath.Join(cached, dir)
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := linkOrCopy(filepath.Join(src, e.Name()), filepath.Join(build, dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// storeTree keeps build's bin/ and specs/ as the cached set at cached,
// written beside it and renamed into place, so that a set is whole or
// absent.
func storeTree(build, cached string) error {
	tmp := fmt.Sprintf("%s.tmp-%d", cached, os.Getpid())
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for _, dir := range []string{"bin", "specs"} {
		if err := os.MkdirAll(filepath.Join(tmp, dir), 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(filepath.Join(build, dir))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := linkOrCopy(filepath.Join(build, dir, e.Name()), filepath.Join(tmp, dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, cached); err != nil {
		os.RemoveAll(tmp)
		if errors.Is(err, fs.ErrExist) || isDirNotEmpty(err) {
			return nil // another rig kept the same set first
		}
		return err
	}
	return nil
}

func isDirNotEmpty(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le) && strings.Contains(le.Err.Error(), "not empty")
}

// pruneCache removes all but the keep most recently used entries of dir.
func pruneCache(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type used struct {
		path string
		at   time.Time
	}
	var all []used
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.IsDir() && !strings.Contains(e.Name(), ".tmp-") {
			all = append(all, used{filepath.Join(dir, e.Name()), info.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.After(all[j].at) })
	for _, u := range all[min(keep, len(all)):] {
		os.RemoveAll(u.path)
	}
}
