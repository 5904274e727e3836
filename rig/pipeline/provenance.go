package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kbus-project/kbus/rig/report"
)

// Provenance returns what records, for the run's page, what a run tested
// and with what: the source tree's git description, Go, each QEMU binary
// the run used, and the host. The module's version is its targets'
// (report.TargetMeta.Module).
func Provenance(root string) func(ctx context.Context, qemuBinaries []string) report.Versions {
	return func(ctx context.Context, qemuBinaries []string) report.Versions {
		return versions(ctx, root, qemuBinaries)
	}
}

func versions(ctx context.Context, root string, qemuBinaries []string) report.Versions {
	v := report.Versions{Go: runtime.Version(), QEMU: map[string]string{}, Host: host()}
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
		v.QEMU[bin], _, _ = strings.Cut(string(out), "\n")
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

// readKernelInfo reads the build-info file kernel/build.sh leaves in a
// kernel build folder.
func readKernelInfo(dir string) report.Kernel {
	var k report.Kernel
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
