package pipeline

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/initramfs"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Distro is a distribution's kernel, which the rig boots instead of one it
// builds, with the module built for it elsewhere (by DKMS: make
// distro-test).
type Distro struct {
	// Root is the kernel's image package unpacked: boot/vmlinuz-RELEASE,
	// boot/config-RELEASE, lib/modules/RELEASE/.
	Root string
	// Module is kbus.ko built for that kernel, or kbus.ko.xz where the
	// distribution compresses its modules (Debian's 6.12 does).
	Module string
	// Load are the kernel's own modules the guest needs (virtio, 9P):
	// the image carries them with what they depend on, and u-root's init
	// loads them before the uinit runs.
	Load []string
	// Package, when set, is the module's package installed here: the
	// guest starts udev with its rules, and runs MemberSuites as a member
	// of the group they give the nodes, not as root.
	Package      *Package
	MemberSuites []string
}

// DistroLoad are the modules a Debian kernel needs to give the guest its
// results share.
var DistroLoad = []string{"virtio_pci", "9pnet_virtio", "9p"}

// Release is the kernel's release, the one folder under lib/modules.
func (d Distro) Release() (string, error) {
	ents, err := os.ReadDir(filepath.Join(d.Root, "lib", "modules"))
	if err != nil {
		return "", fmt.Errorf("distribution kernel: %w", err)
	}
	if len(ents) != 1 || !ents[0].IsDir() {
		return "", fmt.Errorf("distribution kernel: want one release under %s/lib/modules, found %d entries", d.Root, len(ents))
	}
	return ents[0].Name(), nil
}

// Image is the kernel's image.
func (d Distro) Image(release string) string {
	return filepath.Join(d.Root, "boot", "vmlinuz-"+release)
}

// Info is what the report says of the kernel.
func (d Distro) Info(release string) report.Kernel {
	k := report.Kernel{Release: release, Source: "distribution kernel " + release, ConfigKey: "-"}
	if b, err := os.ReadFile(filepath.Join(d.Root, "boot", "config-"+release)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CONFIG_CC_VERSION_TEXT="); ok {
				k.Compiler = strings.Trim(v, `"`)
			}
		}
	}
	return k
}

// builtIn are the names of the modules the kernel has built in, from its
// modules.builtin (none when it has no such file).
func builtIn(dir string) (map[string]bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, line := range strings.Fields(string(b)) {
		names[strings.ReplaceAll(moduleName(line), "-", "_")] = true
	}
	return names, nil
}

// modulePaths resolves names, with what they depend on, to their files
// under lib/modules/RELEASE, from the kernel's modules.dep, and says which
// of names are to be loaded: those the kernel has not built in (Debian's
// 6.12 has virtio_pci built in, its 6.1 has it as a module).
func modulePaths(dir string, names []string) (files, load []string, err error) {
	builtin, err := builtIn(dir)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	deps := map[string][]string{} // module file -> the files it needs
	byName := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		file, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		deps[file] = strings.Fields(rest)
		name := moduleName(file)
		byName[strings.ReplaceAll(name, "-", "_")] = file
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	var add func(file string)
	add = func(file string) {
		if seen[file] {
			return
		}
		seen[file] = true
		for _, d := range deps[file] {
			add(d)
		}
	}
	for _, n := range names {
		key := strings.ReplaceAll(n, "-", "_")
		file, ok := byName[key]
		switch {
		case ok:
			add(file)
			load = append(load, n)
		case builtin[key]:
		default:
			return nil, nil, fmt.Errorf("module %s is neither in %s/modules.dep nor built in", n, dir)
		}
	}
	files = make([]string, 0, len(seen))
	for f := range seen {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, load, nil
}

// moduleName is a module file's name without its extension: the kernel
// may keep its modules compressed (kbus.ko.xz), which u-root's init reads,
// and module unpacks kbus.ko the same three ways.
func moduleName(file string) string {
	base := path.Base(file)
	for _, ext := range []string{".xz", ".gz", ".zst"} {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.TrimSuffix(base, ".ko")
}

// files are what the image needs of the distribution's kernel: the
// modules to load and their dependencies, modules.dep, and a
// modules-load.d file naming them, written into build.
func (d Distro) files(release, build string) ([]initramfs.File, error) {
	dir := filepath.Join(d.Root, "lib", "modules", release)
	mods, load, err := modulePaths(dir, d.Load)
	if err != nil {
		return nil, err
	}
	dst := path.Join("lib", "modules", release)
	files := []initramfs.File{{Src: filepath.Join(dir, "modules.dep"), Dst: path.Join(dst, "modules.dep")}}
	for _, m := range mods {
		files = append(files, initramfs.File{Src: filepath.Join(dir, m), Dst: path.Join(dst, m)})
	}
	conf := filepath.Join(build, "distro-modules.conf")
	if err := os.WriteFile(conf, []byte(strings.Join(load, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	files = append(files, initramfs.File{Src: conf, Dst: "lib/modules-load.d/rig.conf"})
	if d.Package != nil {
		pf, err := d.Package.files(build)
		if err != nil {
			return nil, err
		}
		files = append(files, pf...)
	}
	return files, nil
}

// kernel is the build stage "kernel" for a distribution kernel: nothing
// to build, its release read from the unpacked package.
func (d Distro) kernel() (kernel, string, error) {
	rel, err := d.Release()
	if err != nil {
		return kernel{}, "", err
	}
	return kernel{image: d.Image(rel), info: d.Info(rel)}, "distribution kernel " + rel, nil
}

// module is the build stage "module" for a distribution kernel: the
// module DKMS built for it, unpacked into build when the distribution
// compresses it (the guest's init loads a plain kbus.ko).
func (d Distro) module(build string) (module, string, error) {
	f, err := os.Open(d.Module)
	if err != nil {
		return module{}, "", fmt.Errorf("the module built for the distribution kernel: %w", err)
	}
	defer f.Close()
	var r io.Reader
	switch filepath.Ext(d.Module) {
	case ".xz":
		r, err = xz.NewReader(f)
	case ".gz":
		r, err = gzip.NewReader(f)
	case ".zst":
		var z *zstd.Decoder
		if z, err = zstd.NewReader(f); err == nil {
			defer z.Close()
			r = z
		}
	default:
		return module{path: d.Module}, "built elsewhere: " + d.Module, nil
	}
	if err != nil {
		return module{}, "", fmt.Errorf("the module built for the distribution kernel: %s: %w", d.Module, err)
	}
	out := filepath.Join(build, "kbus.ko")
	w, err := os.Create(out)
	if err != nil {
		return module{}, "", err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return module{}, "", fmt.Errorf("unpacking %s: %w", d.Module, err)
	}
	if err := w.Close(); err != nil {
		return module{}, "", err
	}
	return module{path: out}, "built elsewhere: " + d.Module + ", unpacked", nil
}
