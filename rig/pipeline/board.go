package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/image"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/vm"
)

// endGrace is how long a board guest may take to power off once it has
// printed guestproto.EndMarker before the rig stops QEMU.
const endGrace = 10 * time.Second

// ImageDir is where a board's image and its companions go under OutDir.
func ImageDir(outDir, board string) string { return filepath.Join(outDir, "images", board) }

// BoardImage is a built board image and what booting it needs.
type BoardImage struct {
	image.Result
	FirmwareRoot string   // where the loader's package is unpacked
	Suites       []string // the spec suites in it, in the order the guest runs them
}

// BuildImage runs the build stages and writes the board's image
// (cfg.Board must be set) under OutDir/images/NAME, NAME being the board's
// unless cfg.Name says otherwise.
func BuildImage(ctx context.Context, cfg Config) (BoardImage, error) {
	r := newRunner(cfg)
	res, fw, err := r.buildBoardImage(ctx)
	if err != nil {
		return BoardImage{}, err
	}
	bi := BoardImage{Result: res, FirmwareRoot: fw}
	suites, err := filepath.Glob(filepath.Join(r.buildDir(), "specs", "*"+guestproto.SuiteSuffix))
	if err != nil {
		return bi, err
	}
	sort.Strings(suites) // the guest's order (initramfs/uinit)
	for _, s := range suites {
		bi.Suites = append(bi.Suites, strings.TrimSuffix(filepath.Base(s), guestproto.SuiteSuffix))
	}
	return bi, nil
}

// RunBoard builds the board's image, boots a copy of it in QEMU through
// the board's firmware, reads the results back from its results partition
// and reports them as Run does.
func RunBoard(ctx context.Context, cfg Config) *Outcome {
	r := newRunner(cfg)
	var img image.Result
	var fw string
	var err error
	if b := cfg.Board; !b.QEMU.Emulated {
		return r.finish(fmt.Errorf("board %s has no QEMU model here: build its image (rig image) and test it "+
			"on the board (rig board-test)", b.Name))
	}
	if cfg.Image != "" {
		img.Image = cfg.Image
		err = r.stage("image", func() (string, error) {
			var err error
			fw, _, err = r.firmwareRoot(ctx)
			return "given: " + cfg.Image, err
		})
	} else {
		img, fw, err = r.buildBoardImage(ctx)
	}
	if err == nil {
		err = r.bootBoard(ctx, img, fw)
	}
	return r.finish(err)
}

// firmwareRoot is where the board loader's package is: "/" when it is
// installed, else unpacked in the cache by scripts/board-firmware.sh.
func (r *runner) firmwareRoot(ctx context.Context) (root, version string, err error) {
	pkg := r.cfg.Board.Loader.Package
	if !strings.Contains(pkg, ":") {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Version}", pkg).Output()
		if err != nil {
			return "", "", fmt.Errorf("board %s needs the package %s (make deps installs it): %w", r.cfg.Board.Name, pkg, err)
		}
		return "/", pkg + " " + string(out), nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(r.cfg.Root, "scripts", "board-firmware.sh"), r.cfg.CacheDir, pkg)
	cmd.Stderr = r.cfg.Log
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("unpacking %s: %w", pkg, err)
	}
	root = strings.TrimSpace(string(out))
	ver, err := os.ReadFile(filepath.Join(root, ".version"))
	if err != nil {
		return "", "", fmt.Errorf("unpacked %s: %w", pkg, err)
	}
	return root, pkg + " " + strings.TrimSpace(string(ver)), nil
}

func (r *runner) buildBoardImage(ctx context.Context) (image.Result, string, error) {
	var res image.Result
	b := r.cfg.Board
	build := r.buildDir()
	g, err := r.buildGuest(ctx, build)
	if err != nil {
		return res, "", err
	}
	var fwRoot string
	err = r.stage("image", func() (string, error) {
		root, fwVersion, err := r.firmwareRoot(ctx)
		if err != nil {
			return "", err
		}
		fwRoot = root
		in := image.Inputs{
			Board: *b, Kernel: g.kernel.image, Initramfs: g.initramfs, FirmwareRoot: root,
			Cmdline: image.Cmdline(*b, append(r.request().KernelArgs(), r.cfg.KernelArgs...)),
			Manifest: image.Manifest{Kernel: g.kernel.info.Source, KernelKey: g.kernel.info.ConfigKey, Module: r.version,
				Git: GitDescribe(ctx, r.cfg.Root), Firmware: fwVersion},
		}
		if b.DTB != "" {
			in.DTB = filepath.Join(g.kernel.dir, b.Target().Kernel.DTSDir, b.DTB)
		}
		res, err = image.Build(ctx, in, ImageDir(r.cfg.OutDir, r.cfg.Name), filepath.Join(build, "image"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, sha256 %s", res.Image, res.Sum[:16]), nil
	})
	return res, fwRoot, err
}

// bootBoard boots a copy of the image (the artefact stays as built) and
// collects the results from the copy's results partition.
func (r *runner) bootBoard(ctx context.Context, img image.Result, fwRoot string) error {
	b := r.cfg.Board
	share, err := r.freshResults()
	if err != nil {
		return err
	}
	disk := filepath.Join(r.buildDir(), "boot.img")
	if err := image.Copy(img.Image, disk); err != nil {
		return err
	}
	serialPath := filepath.Join(r.out.ReportDir, report.SerialFile)
	boot := func() error {
		serial, err := os.Create(serialPath)
		if err != nil {
			return err
		}
		defer serial.Close()
		host, _ := r.timeouts()
		d := &vm.Disk{Image: disk, SD: b.QEMU.SD, Block: b.Target().QEMU.Block, Machine: b.QEMU.Machine,
			EndMarker: guestproto.EndMarker, EndGrace: endGrace}
		d.Firmware = b.QEMUFirmware(fwRoot)
		c := vm.Config{Target: b.Target(), Timeout: host, Serial: serial, Disk: d}
		r.logf("booting %s through its firmware (timeout %v): console in %s", b.Name, host, serialPath)
		res, err := vm.Run(ctx, c)
		r.out.Cmdline = res.Cmdline
		r.logf("qemu: %s", res.Cmdline)
		if err != nil {
			return fmt.Errorf("booting the board image: %w%s", err, consoleTail(serialPath))
		}
		return nil
	}
	fetch := func() (string, error) {
		if err := image.ReadResults(ctx, disk, share); err != nil {
			return "", fmt.Errorf("reading the results partition back: %w", err)
		}
		return "", nil
	}
	check := func() (string, error) {
		if r.results.Status == nil {
			return "", fmt.Errorf("the guest left no status on the results partition (did the boot loader start it?)%s",
				consoleTail(serialPath))
		}
		return r.checkSignals(serialPath)
	}
	return r.bootThenCollect(share, boot, fetch, check)
}

// checkSignals compares the console's LAVA test cases with the specs the
// results partition holds (report.CheckSignals).
func (r *runner) checkSignals(serialPath string) (string, error) {
	f, err := os.Open(serialPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return report.CheckSignals(f, r.results)
}

// bootFailures are what U-Boot, systemd-boot and OVMF print when they
// cannot boot what the image holds.
var bootFailures = []string{
	"No partition table", "Skipping ", "failure retrieving", "Wrong Image Format", "Bad Linux", "bad magic",
	"Unable to read", "not found", "Failed to load", "Error loading", "No bootable device",
}

// consoleTail quotes, for an error message, what the firmware or boot
// loader said went wrong and the console's last lines.
func consoleTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n"), "\n")
	var said []string
	for _, l := range lines {
		for _, f := range bootFailures {
			if strings.Contains(l, f) && len(said) < 6 {
				said = append(said, strings.TrimSpace(l))
				break
			}
		}
	}
	var out strings.Builder
	if len(said) > 0 {
		out.WriteString("; the boot loader said:\n    " + strings.Join(said, "\n    "))
	}
	out.WriteString(lastLines(lines, 12))
	return out.String()
}

// guestConsoleTail quotes the last lines of a guest's console for an error
// message, so that a guest that hung or died says where even in a CI log
// that keeps only the end of the output.
func guestConsoleTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	return lastLines(strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n"), "\n"), 30)
}

func lastLines(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "; the console's last lines:\n    " + strings.Join(lines, "\n    ")
}
