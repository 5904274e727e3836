// Package initramfs assembles the guest's u-root initramfs.
//
// An image is built in two layers. The base holds u-root's init and core
// commands compiled as one busybox binary; compiling it takes ~25 s (u-root
// always builds with -a), so it is cached by content: u-root's version, the
// command list, the target architecture and the Go version. The final image
// adds the rig's own files to a cached base — the guest init (uinit),
// kbus.ko and the compiled spec suites — in tens of milliseconds.
package initramfs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/kbus-project/kbus/rig/target"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"
	"log/slog"
)

// Commands are the u-root commands in every guest: enough for a debug shell.
var Commands = []string{
	"init", "gosh",
	"cat", "chmod", "cp", "date", "dd", "df", "dmesg", "echo", "false", "find",
	"free", "grep", "head", "hexdump", "insmod", "kill", "ln", "ls", "lsmod",
	"mkdir", "mount", "mv", "poweroff", "ps", "pwd", "rm", "rmmod", "shutdown",
	"sleep", "strace", "sync", "tail", "true", "umount", "uname", "uptime", "wc",
}

const urootModule = "github.com/u-root/u-root"

// File is one file to add to the final image.
type File struct {
	Src string // path on the host
	Dst string // path in the image, relative to its root
}

// Base returns the path of the cached base archive for t under cacheDir,
// building it first if it is not there. The boolean reports a cache hit.
func Base(cacheDir string, t target.Go, logf func(string, ...any)) (string, bool, error) {
	key := baseKey(t)
	path := filepath.Join(cacheDir, "initramfs", fmt.Sprintf("base-%s-%s.cpio", t.GOARCH, key))
	if _, err := os.Stat(path); err == nil {
		return path, true, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", false, err
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), "build-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmpDir)

	cmds := make([]string, len(Commands))
	for i, c := range Commands {
		cmds[i] = urootModule + "/cmds/core/" + c
	}
	// The busybox builder passes the process environment through to the Go
	// tool; GOAMD64 and GOARM have no option of their own.
	restore := setenv(t.Env())
	defer restore()

	tmpOut := filepath.Join(tmpDir, "base.cpio")
	logf("building u-root base for %s (%d commands, cached afterwards)", t.GOARCH, len(cmds))
	err = uimage.Create(logger(logf),
		uimage.WithEnv(golang.DisableCGO(), golang.WithGOARCH(t.GOARCH)),
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithBusyboxCommands(cmds...),
		uimage.WithInit("init"),
		uimage.WithShell("gosh"),
		uimage.WithSkipLDD(),
		uimage.WithTempDir(tmpDir),
		uimage.WithCPIOOutput(tmpOut),
	)
	if err != nil {
		return "", false, fmt.Errorf("building the u-root base: %w", err)
	}
	if err := os.Rename(tmpOut, path); err != nil {
		return "", false, err
	}
	return path, false, nil
}

// Build writes the final image to out: the base plus files.
func Build(base, out string, files []File, logf func(string, ...any)) error {
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".initramfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpDir)

	extra := make([]string, len(files))
	for i, f := range files {
		if _, err := os.Stat(f.Src); err != nil {
			return fmt.Errorf("initramfs file: %w", err)
		}
		extra[i] = f.Src + ":" + strings.TrimPrefix(f.Dst, "/")
	}
	err = uimage.Create(logger(logf),
		uimage.WithBaseFile(base),
		uimage.WithExistingInit(true),
		uimage.WithFiles(extra...),
		uimage.WithSkipLDD(),
		uimage.WithTempDir(tmpDir),
		uimage.WithCPIOOutput(out),
	)
	if err != nil {
		return fmt.Errorf("building the initramfs: %w", err)
	}
	return nil
}

func baseKey(t target.Go) string {
	h := sha256.New()
	fmt.Fprintf(h, "u-root %s\n", moduleVersion(urootModule))
	fmt.Fprintf(h, "go %s\n", runtime.Version())
	fmt.Fprintf(h, "target %v\n", t.Env())
	fmt.Fprintf(h, "commands %s\n", strings.Join(Commands, " "))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// moduleVersion is the version of a dependency this binary was built with.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

func setenv(kv []string) (restore func()) {
	type old struct {
		val string
		ok  bool
	}
	saved := map[string]old{}
	for _, e := range kv {
		k, v, _ := strings.Cut(e, "=")
		val, ok := os.LookupEnv(k)
		saved[k] = old{val, ok}
		os.Setenv(k, v)
	}
	return func() {
		for k, o := range saved {
			if o.ok {
				os.Setenv(k, o.val)
			} else {
				os.Unsetenv(k)
			}
		}
	}
}

func logger(logf func(string, ...any)) *llog.Logger {
	l := llog.New(slog.LevelWarn, func(format string, v ...any) { logf(format, v...) })
	return l
}
