// Package image builds a board's disk image (docs/boards.md): an MBR
// partition table, a FAT boot partition holding the kernel, the initramfs,
// the device tree and the boot loader's entry, a FAT results partition the
// guest writes its reports onto, and the firmware where the board's boot
// ROM looks for it. genimage lays the image out (mkdosfs and mtools fill
// the file systems); bmaptool maps it for flashing.
//
// The same inputs give the same bytes: every file is staged with a fixed
// time, the file systems get fixed serial numbers and the MBR a fixed
// signature, and the initramfs is compressed with a zero gzip header.
package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kbus-project/kbus/rig/guestproto"
	"github.com/kbus-project/kbus/rig/target"
)

// The layout every board's image shares.
const (
	BootLabel = "KBUSBOOT"
	// ResultsLabel is the results partition's volume label, by which the
	// guest finds it (guestproto.ArgResults).
	ResultsLabel = guestproto.ResultsLabel
	// BootOffset leaves the first MiB to the MBR and the firmware.
	BootOffset = 1 << 20
	// ResultsSize is the results partition's least size; it takes the
	// rest of the image.
	ResultsSize = 64 << 20
	// MinSize is the smallest image; sizes are powers of two, as QEMU's SD
	// cards must be.
	MinSize = 512 << 20
	// ResultsPartition is the results partition's number in the MBR (the
	// boot partition is the first).
	ResultsPartition = 2

	diskSignature = 0x4b425553 // "KBUS"
	bootSerial    = "4b420001"
	resultsSerial = "4b420002"
)

// Names of the files on the boot partition.
const (
	InitramfsFile = "initramfs.cpio.gz"
	ExtlinuxConf  = "extlinux/extlinux.conf"
)

// epoch is the time every staged file carries.
var epoch = time.Unix(315532800, 0) // 1980-01-01, FAT's first day

// Inputs are what one board image is made of.
type Inputs struct {
	Board     target.Board
	Kernel    string // the kernel image file
	DTB       string // the device tree file; empty when the firmware gives one
	Initramfs string // the uncompressed cpio
	// Cmdline is the kernel's command line, console and results label
	// included (see Cmdline).
	Cmdline []string
	// FirmwareRoot is where the loader's package is unpacked ("/" for an
	// installed package).
	FirmwareRoot string
	// Manifest is written beside the image, completed with the image's
	// own facts.
	Manifest Manifest
}

// Manifest describes an image: what it was built from and the hashes of
// what it holds (manifest.json).
type Manifest struct {
	Board       string            `json:"board"`
	Arch        string            `json:"arch"`
	Summary     string            `json:"summary"`
	Kernel      string            `json:"kernel"`        // source package and version
	KernelKey   string            `json:"kernel_config"` // the kernel build's content key
	Module      string            `json:"module_version"`
	Git         string            `json:"git"`
	Firmware    string            `json:"firmware"` // the loader's Debian package and version
	Cmdline     string            `json:"cmdline"`
	Image       string            `json:"image"`
	ImageSHA256 string            `json:"image_sha256"`
	Size        int64             `json:"size"`
	Files       map[string]string `json:"files"` // boot partition path → sha256
}

// Result names what Build wrote.
type Result struct {
	Image, Bmap, SHA256, Manifest string
	Sum                           string // the image's sha256
}

// Cmdline is a board's kernel command line: its console, the results
// partition, the rig's guest request, and a panic that restarts (the
// QEMU runs stop on restart).
func Cmdline(b target.Board, request []string) []string {
	return append([]string{"console=" + b.Console, "loglevel=5", "panic=-1",
		guestproto.ArgResults + "=" + ResultsLabel}, request...)
}

// Build writes the board's image and its companions into out, using work
// as scratch space.
func Build(ctx context.Context, in Inputs, out, work string) (Result, error) {
	b := in.Board
	var err error
	// genimage runs in work; every path it is given is absolute.
	if out, err = filepath.Abs(out); err != nil {
		return Result{}, err
	}
	if work, err = filepath.Abs(work); err != nil {
		return Result{}, err
	}
	stage := filepath.Join(work, "boot")
	for _, d := range []string{stage, out} {
		if err := os.RemoveAll(d); err != nil {
			return Result{}, err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return Result{}, err
		}
	}
	files, err := stageBoot(in, stage)
	if err != nil {
		return Result{}, err
	}
	bootSize, err := treeSize(stage)
	if err != nil {
		return Result{}, err
	}
	// Room for FAT's tables and some slack, whole MiB.
	bootSize = roundUp(bootSize+bootSize/8+8<<20, 1<<20)
	size := int64(MinSize)
	for size < BootOffset+bootSize+ResultsSize {
		size *= 2
	}
	name := b.Name + ".img"
	cfg := genimageConfig(in, stage, name, bootSize, size)
	cfgPath := filepath.Join(work, "genimage.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return Result{}, err
	}
	for _, d := range []string{"tmp", "root", "input"} {
		p := filepath.Join(work, d)
		if err := os.RemoveAll(p); err != nil {
			return Result{}, err
		}
		if d != "tmp" { // genimage wants to create its tmppath itself
			if err := os.MkdirAll(p, 0o755); err != nil {
				return Result{}, err
			}
		}
	}
	if err := run(ctx, work, []string{"SOURCE_DATE_EPOCH=" + fmt.Sprint(epoch.Unix())}, "genimage",
		"--config", cfgPath, "--outputpath", out, "--inputpath", filepath.Join(work, "input"),
		"--rootpath", filepath.Join(work, "root"), "--tmppath", filepath.Join(work, "tmp")); err != nil {
		return Result{}, err
	}
	res := Result{Image: filepath.Join(out, name)}
	res.Bmap = res.Image + ".bmap"
	res.SHA256 = res.Image + ".sha256"
	res.Manifest = filepath.Join(out, "manifest.json")
	if err := run(ctx, work, nil, "bmaptool", "-q", "create", "-o", res.Bmap, res.Image); err != nil {
		return Result{}, err
	}
	if res.Sum, err = fileSHA256(res.Image); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(res.SHA256, []byte(res.Sum+"  "+name+"\n"), 0o644); err != nil {
		return Result{}, err
	}
	m := in.Manifest
	m.Board, m.Arch, m.Summary = b.Name, b.Arch, b.Summary
	m.Cmdline = strings.Join(in.Cmdline, " ")
	m.Image, m.ImageSHA256, m.Size, m.Files = name, res.Sum, size, files
	j, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, err
	}
	return res, os.WriteFile(res.Manifest, append(j, '\n'), 0o644)
}

// stageBoot lays the boot partition's files out in dir, each with the
// fixed time, and returns their hashes.
func stageBoot(in Inputs, dir string) (map[string]string, error) {
	b := in.Board
	kt := b.Target().Kernel
	kernelName := filepath.Base(kt.Image)
	files := map[string][]byte{}
	copyIn := func(dst, src string) error {
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("board %s: %w", b.Name, err)
		}
		files[dst] = data
		return nil
	}
	if err := copyIn(kernelName, in.Kernel); err != nil {
		return nil, err
	}
	cpio, err := os.ReadFile(in.Initramfs)
	if err != nil {
		return nil, err
	}
	if files[InitramfsFile], err = gzipped(cpio); err != nil {
		return nil, err
	}
	dtb := ""
	if b.DTB != "" {
		dtb = "dtbs/" + b.DTB
		if err := copyIn(dtb, in.DTB); err != nil {
			return nil, err
		}
	}
	cmdline := strings.Join(in.Cmdline, " ")
	switch b.Loader.Kind {
	case target.Extlinux:
		files[ExtlinuxConf] = []byte(extlinux(b, kernelName, dtb, cmdline))
	case target.SystemdBoot:
		if err := copyIn("EFI/BOOT/BOOTX64.EFI", filepath.Join(in.FirmwareRoot, b.Loader.EFI)); err != nil {
			return nil, err
		}
		files["loader/loader.conf"] = []byte("default kbus.conf\ntimeout 0\n")
		files["loader/entries/kbus.conf"] = []byte(fmt.Sprintf(
			"title KBUS rig (%s)\nlinux /%s\ninitrd /%s\noptions %s\n", b.Name, kernelName, InitramfsFile, cmdline))
	default:
		return nil, fmt.Errorf("board %s: unknown loader %q", b.Name, b.Loader.Kind)
	}
	sums := map[string]string{}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, err
		}
		h := sha256.Sum256(data)
		sums[name] = hex.EncodeToString(h[:])
	}
	// Directories and files alike carry the fixed time.
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, epoch, epoch)
	})
	return sums, err
}

// extlinux is U-Boot distro boot's entry for the board.
func extlinux(b target.Board, kernel, dtb, cmdline string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# KBUS rig, board %s (docs/boards.md)\n", b.Name)
	s.WriteString("DEFAULT kbus\nTIMEOUT 1\nMENU TITLE KBUS rig\n\n")
	s.WriteString("LABEL kbus\n")
	fmt.Fprintf(&s, "\tKERNEL /%s\n\tINITRD /%s\n", kernel, InitramfsFile)
	if dtb != "" {
		fmt.Fprintf(&s, "\tFDT /%s\n", dtb)
	}
	fmt.Fprintf(&s, "\tAPPEND %s\n", cmdline)
	return s.String()
}

// genimageConfig lays out the image: firmware outside the partitions,
// the boot partition (bootable, or the ESP), then the results partition
// to the end.
func genimageConfig(in Inputs, stage, name string, bootSize, size int64) string {
	b := in.Board
	var s strings.Builder
	fmt.Fprintf(&s, "# board %s: generated by rig/image\n", b.Name)
	fmt.Fprintf(&s, "image boot.vfat {\n\tvfat {\n\t\tlabel = %q\n\t\textraargs = \"-i %s --invariant\"\n\t}\n"+
		"\tsrcpath = %q\n\tsize = %d\n\ttemporary = true\n}\n", BootLabel, bootSerial, stage, bootSize)
	fmt.Fprintf(&s, "image results.vfat {\n\tvfat {\n\t\tlabel = %q\n\t\textraargs = \"-i %s --invariant\"\n\t}\n"+
		"\tempty = true\n\tsize = %d\n\ttemporary = true\n}\n", ResultsLabel, resultsSerial, size-BootOffset-bootSize)
	fmt.Fprintf(&s, "image %s {\n\thdimage {\n\t\tpartition-table-type = \"mbr\"\n\t\tdisk-signature = %#x\n\t}\n",
		name, diskSignature)
	if l := b.Loader; l.Raw != "" {
		fmt.Fprintf(&s, "\tpartition firmware {\n\t\tin-partition-table = false\n\t\timage = %q\n\t\toffset = %d\n\t}\n",
			filepath.Join(in.FirmwareRoot, l.Raw), l.RawOffset)
	}
	bootType := "0x0c" // FAT32 LBA
	if b.Loader.Kind == target.SystemdBoot {
		bootType = "0xef" // EFI system partition
	}
	fmt.Fprintf(&s, "\tpartition boot {\n\t\tpartition-type = %s\n\t\tbootable = true\n\t\timage = \"boot.vfat\"\n"+
		"\t\toffset = %d\n\t}\n", bootType, BootOffset)
	s.WriteString("\tpartition results {\n\t\tpartition-type = 0x0c\n\t\timage = \"results.vfat\"\n\t}\n")
	fmt.Fprintf(&s, "\tsize = %d\n}\n", size)
	return s.String()
}

func gzipped(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	// The header's time and name stay zero: the same bytes every time.
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += roundUp(fi.Size(), 4096)
		}
		return err
	})
	return n, err
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// run runs a tool, quoting its output in the error when it fails.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, lastLines(string(out), 15))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
