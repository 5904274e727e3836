// Package peers builds the benchmark's peers for a target's guest
// (docs/benchmark.md, "Peers"): the distribution's dbus-daemon, libdbus
// and libzmq for the target's architecture, unpacked from Debian's
// packages by scripts/peer-sysroot.sh; the C programs of clients/c/peers
// built against them with the target's C compiler; and every shared
// library those load, with the dynamic loader, laid out for the image.
package peers

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kbus-project/kbus/initramfs"
	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/target"
)

// ErrNoArch is returned for a target whose architecture has no Debian
// name here.
var ErrNoArch = errors.New("peers: no Debian architecture for this target")

// arch is a target's architecture as Debian names it, and its library
// folder (the GNU triplet).
type arch struct{ debian, triplet string }

func archOf(g target.Go) (arch, error) {
	switch g.GOARCH {
	case "amd64":
		return arch{"amd64", "x86_64-linux-gnu"}, nil
	case "arm64":
		return arch{"arm64", "aarch64-linux-gnu"}, nil
	case "arm":
		return arch{"armhf", "arm-linux-gnueabihf"}, nil
	}
	return arch{}, fmt.Errorf("%w: %s", ErrNoArch, g)
}

// programs are the peers' C programs: source in clients/c/peers, name in
// the image, and the library each links, by its file name: the
// development packages' unversioned links point at absolute paths, which
// the linker would look for on this machine instead of in the sysroot.
var programs = []struct{ src, name, lib string }{
	{"dbus_bench.c", guestproto.DBusBench, "-l:libdbus-1.so.3"},
	{"zmq_bench.c", guestproto.ZMQBench, "-l:libzmq.so.5"},
}

// cFlags are kbus_bench.c's flags but dynamic: the peers load the
// distribution's libraries.
var cFlags = []string{"-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-pthread"}

// Build fetches the sysroot for t (once: it is kept in cacheDir), builds
// the peers into out, and returns the files of the image: the programs,
// dbus-daemon and its configuration under guestproto.PeersDir, the
// shared libraries under /lib/TRIPLET, and the loader at the path the
// programs name. root is the repository.
func Build(ctx context.Context, root, cacheDir string, t target.Target, out string) ([]initramfs.File, error) {
	a, err := archOf(t.Go)
	if err != nil {
		return nil, err
	}
	sysroot, err := fetch(ctx, root, cacheDir, a.debian)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	libDirs := []string{filepath.Join(sysroot, "lib", a.triplet), filepath.Join(sysroot, "usr", "lib", a.triplet)}
	var files []initramfs.File
	var bins []string
	for _, p := range programs {
		bin := filepath.Join(out, p.name)
		args := append(append([]string{}, cFlags...),
			"-I", filepath.Join(sysroot, "usr", "include"),
			"-I", filepath.Join(sysroot, "usr", "include", "dbus-1.0"),
			"-I", filepath.Join(sysroot, "usr", "lib", a.triplet, "dbus-1.0", "include"),
			"-o", bin, filepath.Join(root, "clients", "c", "peers", p.src),
			"-L", libDirs[1], "-L", libDirs[0],
			"-Wl,-rpath-link="+strings.Join(libDirs, ":"), p.lib)
		cmd := exec.CommandContext(ctx, t.Kernel.CrossCompile+"gcc", args...)
		var msg bytes.Buffer
		cmd.Stdout, cmd.Stderr = &msg, &msg
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("peers: %s: %w\n%s", strings.Join(cmd.Args, " "), err, msg.String())
		}
		bins = append(bins, bin)
		files = append(files, initramfs.File{Src: bin, Dst: path.Join(guestproto.PeersDir, p.name)})
	}
	daemon := filepath.Join(sysroot, "usr", "bin", "dbus-daemon")
	bins = append(bins, daemon)
	files = append(files,
		initramfs.File{Src: daemon, Dst: path.Join(guestproto.PeersDir, guestproto.DBusDaemon)},
		initramfs.File{Src: filepath.Join(root, "clients", "c", "peers", guestproto.DBusConfig),
			Dst: path.Join(guestproto.PeersDir, guestproto.DBusConfig)})
	// dbus-daemon looks up the user of every connection, its own
	// included, in the C library's password database: the image has none
	// of its own (u-root's init needs none).
	for name, text := range map[string]string{
		"passwd": "root:x:0:0:root:/:/bin/sh\n", "group": "root:x:0:\n",
	} {
		f := filepath.Join(out, "etc-"+name)
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			return nil, err
		}
		files = append(files, initramfs.File{Src: f, Dst: "/etc/" + name})
	}
	libs, err := closure(sysroot, libDirs, bins)
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		dst := l.dst
		if dst == "" {
			dst = path.Join("/lib", a.triplet, filepath.Base(l.name))
		}
		files = append(files, initramfs.File{Src: l.src, Dst: dst})
	}
	return files, nil
}

// fetch runs scripts/peer-sysroot.sh and returns the sysroot it printed.
func fetch(ctx context.Context, root, cacheDir, debArch string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "peer-sysroot.sh"), cacheDir, debArch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("peers: scripts/peer-sysroot.sh %s: %w: %s", debArch, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(b)), nil
}

// lib is a file the loader maps: where it is in the sysroot, the name a
// program asks for, and, for the loader itself, the path it must have in
// the image ("" for a library: the loader's own folder).
type lib struct{ src, name, dst string }

// closure lists the shared libraries bins need, each once, and their
// loader, found in libDirs as the loader would find them in the image.
func closure(sysroot string, libDirs, bins []string) ([]lib, error) {
	seen := map[string]bool{}
	var out []lib
	queue := append([]string{}, bins...)
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		f, err := elf.Open(file)
		if err != nil {
			return nil, fmt.Errorf("peers: %w", err)
		}
		needed, err := f.ImportedLibraries()
		interp := interpreter(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("peers: %s: %w", file, err)
		}
		if interp != "" && !seen[interp] {
			// The C library names the loader by its own name: it
			// is the loader already mapped, not a second file.
			seen[interp], seen[path.Base(interp)] = true, true
			src, err := resolve(sysroot, filepath.Join(sysroot, interp))
			if err != nil {
				return nil, err
			}
			out = append(out, lib{src: src, name: interp, dst: interp})
		}
		for _, n := range needed {
			if seen[n] {
				continue
			}
			seen[n] = true
			src, err := find(sysroot, libDirs, n)
			if err != nil {
				return nil, fmt.Errorf("peers: %s needs %s: %w", filepath.Base(file), n, err)
			}
			out = append(out, lib{src: src, name: n})
			queue = append(queue, src)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// interpreter is the loader an executable names (PT_INTERP), "" for none.
func interpreter(f *elf.File) string {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return ""
		}
		return string(bytes.TrimRight(b, "\x00"))
	}
	return ""
}

// find is the file name resolves to in the first of dirs that has it.
func find(sysroot string, dirs []string, name string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Lstat(p); err == nil {
			return resolve(sysroot, p)
		}
	}
	return "", fmt.Errorf("not in %s", strings.Join(dirs, ", "))
}

// resolve follows p's symbolic links inside sysroot: an absolute link
// target is a path in the sysroot, not on this machine.
func resolve(sysroot, p string) (string, error) {
	for i := 0; i < 40; i++ {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("peers: %w", err)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return p, nil
		}
		to, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("peers: %w", err)
		}
		if filepath.IsAbs(to) {
			p = filepath.Join(sysroot, to)
		} else {
			p = filepath.Join(filepath.Dir(p), to)
		}
	}
	return "", fmt.Errorf("peers: %s: too many symbolic links", p)
}
