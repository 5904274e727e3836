package report

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// CollectVersions records what a run tested and with what: the source
// tree's git description, Go, each QEMU binary the run used, and the
// host. The module's version is its targets' (TargetMeta.Module).
func CollectVersions(ctx context.Context, root string, qemuBinaries []string) Versions {
	v := Versions{Go: runtime.Version(), QEMU: map[string]string{}, Host: host()}
	v.Git = GitDescribe(ctx, root)
	v.Dirty = strings.HasSuffix(v.Git, "-dirty")
	for _, bin := range qemuBinaries {
		if _, ok := v.QEMU[bin]; ok {
			continue
		}
		out, err := exec.CommandContext(ctx, bin, "--version").Output()
		if err != nil {
			v.QEMU[bin] = "unknown: " + err.Error()
			continue
		}
		v.QEMU[bin] = firstLine(string(out))
	}
	return v
}

// GitDescribe names the source tree's commit as git describe does, or
// says it is not a git checkout.
func GitDescribe(ctx context.Context, root string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty", "--tags").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	return strings.TrimSpace(string(out))
}

func host() string {
	name, _ := os.Hostname()
	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%s, Linux %s %s, %d CPUs", name, strings.TrimSpace(string(rel)), runtime.GOARCH, runtime.NumCPU())
}

// ReadKernelInfo reads the build-info file kernel/build.sh leaves in a
// kernel build folder.
func ReadKernelInfo(dir string) Kernel {
	var k Kernel
	f, err := os.Open(filepath.Join(dir, "build-info"))
	if err != nil {
		return k
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ": ")
		switch key {
		case "source":
			k.Source = val
		case "compiler":
			k.Compiler = val
		case "key":
			k.ConfigKey = val
		}
	}
	return k
}
