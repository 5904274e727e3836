//go:build vmtest

package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kbus-project/kbus/rig/image"
	"github.com/kbus-project/kbus/rig/report"
	"github.com/kbus-project/kbus/rig/target"
	"github.com/kbus-project/kbus/rig/vm"
)

// A board on the desk, with QEMU's -serial pty standing in for the
// USB-serial adapter and a monitor command for the power switch: the
// image boots through U-Boot, and the verdict comes from the console
// alone. The guest floods the kernel log while it signals, as a busy
// board's kernel might: every result still arrives.
func TestDeskBoardIsReadOverItsSerialLine(t *testing.T) {
	t.Parallel()
	b, _ := target.LookupBoard("qemu-arm64")
	cfg := vmConfig(t, []string{"rig/pipeline/testdata/failing"})
	cfg.Board, cfg.NativeOnly, cfg.PrintkFlood = &b, true, true
	bi, disk := boardCard(t, cfg)
	tg := b.Target()
	mon := filepath.Join(t.TempDir(), "monitor")
	args := append(append(vm.Accel(tg), tg.QEMU.Machine...), "-S", "-display", "none", "-no-reboot",
		"-serial", "pty", "-monitor", "unix:"+mon+",server,nowait", "-bios", b.QEMUFirmware(bi.FirmwareRoot),
		"-drive", "file="+disk+",format=raw,if=none,id=disk0", "-device", tg.QEMU.Block+",drive=disk0")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	pty := startPtyQEMU(t, ctx, tg.QEMU.Binary, args...)
	// "Power on": the stopped machine is continued through its monitor.
	power := fmt.Sprintf(`python3 -c 'import socket,time; s=socket.socket(socket.AF_UNIX); s.connect("%s"); s.send(b"cont\n"); time.sleep(0.5)'`, mon)
	o := RunDeskBoard(ctx, cfg, DeskBoard{Console: pty, PowerCmd: power, Silent: time.Minute})
	if o.Verdict != report.Fail || o.Summary.Run != 2 || o.Summary.Failed != 1 {
		t.Fatalf("verdict %v %q, summary %+v: want FAIL with 2 specs run, 1 failed, read from the console",
			o.Verdict, o.Reasons, o.Summary)
	}
	if !strings.Contains(strings.Join(o.Reasons, " "), "1 spec(s) failed") {
		t.Errorf("reasons %q", o.Reasons)
	}
}

// boardCard builds cfg's board image and returns it with a copy of it to
// boot (or break) in its place.
func boardCard(t *testing.T, cfg Config) (BoardImage, string) {
	t.Helper()
	bi, err := BuildImage(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(t.TempDir(), "card.img")
	if err := image.Copy(bi.Image, card); err != nil {
		t.Fatal(err)
	}
	return bi, card
}

// startPtyQEMU starts QEMU with its serial line on a pty and returns the
// pty's path, which QEMU prints on its standard output.
func startPtyQEMU(t *testing.T, ctx context.Context, bin string, args ...string) string {
	t.Helper()
	qemu := exec.CommandContext(ctx, bin, args...)
	pr, pw := io.Pipe()
	qemu.Stdout, qemu.Stderr = pw, pw
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qemu.Process.Kill(); qemu.Wait(); pw.Close() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`char device redirected to (/dev/pts/\d+)`)
		for sc.Scan() {
			// Keep draining QEMU's output; only the first pty counts.
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case pty := <-found:
		return pty
	case <-time.After(30 * time.Second):
		t.Fatal("QEMU gave no pty in 30 s")
	}
	return ""
}

func TestDeskBoardThatNeverSpeaksIsAnInfrastructureError(t *testing.T) {
	t.Parallel()
	b, _ := target.LookupBoard("qemu-arm64")
	cfg := vmConfig(t, []string{"rig/pipeline/testdata/failing"})
	cfg.Board, cfg.NativeOnly = &b, true
	// QEMU stopped and never continued: the console stays silent.
	tg := b.Target()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pty := startPtyQEMU(t, ctx, tg.QEMU.Binary, append(tg.QEMU.Machine, "-S", "-display", "none", "-serial", "pty")...)
	o := RunDeskBoard(ctx, cfg, DeskBoard{Console: pty, PowerCmd: "true", Silent: 3 * time.Second})
	if o.Verdict != report.Infra || !strings.Contains(strings.Join(o.Reasons, " "), "never spoke") {
		t.Fatalf("verdict %v %q, want an infrastructure error saying the board never spoke", o.Verdict, o.Reasons)
	}
}

// A broken boot loader entry: U-Boot finds the partition and the entry
// but not the kernel it names, so the guest never starts. That is an
// infrastructure error, and it quotes what the console said last.
func TestBrokenBootEntryIsAnInfrastructureErrorWithTheConsole(t *testing.T) {
	t.Parallel()
	b, _ := target.LookupBoard("qemu-arm64")
	cfg := vmConfig(t, []string{"rig/pipeline/testdata/failing"})
	cfg.Board, cfg.NativeOnly = &b, true
	_, broken := boardCard(t, cfg)
	conf := filepath.Join(t.TempDir(), "extlinux.conf")
	os.WriteFile(conf, []byte("DEFAULT kbus\nLABEL kbus\n\tKERNEL /no-such-kernel\n\tAPPEND console=ttyAMA0\n"), 0o644)
	mcopy := exec.Command("mcopy", "-o", "-i", broken+"@@"+strconv.Itoa(image.BootOffset), conf, "::/extlinux/extlinux.conf")
	mcopy.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := mcopy.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cfg.Image, cfg.Timeout = broken, 90*time.Second
	o := RunBoard(context.Background(), cfg)
	why := strings.Join(o.Reasons, "\n")
	if o.Verdict != report.Infra || !strings.Contains(why, "console's last lines") || !strings.Contains(why, "no-such-kernel") {
		t.Fatalf("verdict %v, reasons:\n%s\nwant an infrastructure error quoting U-Boot on the missing kernel", o.Verdict, why)
	}
}
