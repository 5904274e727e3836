package flash

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Options are one flash of an image onto a disk.
type Options struct {
	Image  string // IMAGE; IMAGE.bmap and IMAGE.sha256 must be beside it
	Device string
	// Force writes a fixed or very large disk; the other checks still hold.
	Force   bool
	MaxSize int64 // 0 means DefaultMaxSize
	System  System
	// Progress receives the progress bar; nil for none.
	Progress io.Writer
	// BeforeVerify runs between the write and the read-back: tests damage
	// the device there to prove that verification fails.
	BeforeVerify func(device string) error
}

// Report is what a flash did.
type Report struct {
	Disk     *Disk
	Written  int64 // bytes
	Ranges   int
	Duration time.Duration
	Verified bool
}

// ErrChecksum means the image does not match its .sha256 file.
var ErrChecksum = errors.New("image checksum mismatch")

// ErrVerify means a block read back from the device differs from the map.
var ErrVerify = errors.New("verification failed")

// Flash checks the image and the target, writes the mapped blocks, syncs
// and verifies them. Every refusal comes before the first byte written.
func Flash(ctx context.Context, o Options) (*Report, error) {
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.System == (System{}) {
		o.System = Host
	}
	bm, err := ReadBmap(o.Image + ".bmap")
	if err != nil {
		return nil, fmt.Errorf("%w: %s.bmap: %w", ErrRefused, o.Image, err)
	}
	img, err := os.Open(o.Image)
	if err != nil {
		return nil, refuse("%v", err)
	}
	defer img.Close()
	if fi, err := img.Stat(); err != nil || fi.Size() != bm.ImageSize {
		return nil, refuse("%s is not the image its block map describes (%d bytes expected)", o.Image, bm.ImageSize)
	}
	if err := checkSum(ctx, img, o.Image+".sha256"); err != nil {
		return nil, err
	}
	disk, err := o.System.Inspect(o.Device)
	if err != nil {
		return nil, err
	}
	if err := disk.Writable(bm.ImageSize, o.MaxSize, o.Force); err != nil {
		return nil, err
	}
	// O_EXCL on a block device fails while the kernel has it in use.
	dev, err := os.OpenFile(o.Device, os.O_RDWR|unix.O_EXCL, 0)
	if err != nil {
		return nil, refuse("opening %s exclusively: %v", o.Device, err)
	}
	defer dev.Close()

	rep := &Report{Disk: disk, Ranges: len(bm.Ranges)}
	start := time.Now()
	bar := newBar(o.Progress, "writing", bm.MappedBytes())
	buf := make([]byte, 1<<20)
	for _, r := range bm.Ranges {
		off, n := r.Bytes(bm.BlockSize, bm.ImageSize)
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("flash interrupted after %s: the card is incomplete: %w", human(rep.Written), err)
		}
		if err := copyRange(dev, img, off, n, buf, bar); err != nil {
			return rep, fmt.Errorf("writing %s at %d: %w", o.Device, off, err)
		}
		rep.Written += n
	}
	bar.done()
	if err := dev.Sync(); err != nil {
		return rep, fmt.Errorf("syncing %s: %w", o.Device, err)
	}
	if o.BeforeVerify != nil {
		if err := o.BeforeVerify(o.Device); err != nil {
			return rep, err
		}
	}
	// Read back from the medium, not from the page cache.
	_ = unix.Fadvise(int(dev.Fd()), 0, 0, unix.FADV_DONTNEED)
	_ = unix.IoctlSetInt(int(dev.Fd()), unix.BLKFLSBUF, 0)
	bar = newBar(o.Progress, "verifying", bm.MappedBytes())
	for _, r := range bm.Ranges {
		off, n := r.Bytes(bm.BlockSize, bm.ImageSize)
		h := sha256.New()
		if err := readRange(h, dev, off, n, buf, bar); err != nil {
			return rep, fmt.Errorf("reading %s back at %d: %w", o.Device, off, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
			return rep, fmt.Errorf("%w: blocks %d-%d of %s differ from the image (sha256 %s, want %s)",
				ErrVerify, r.First, r.Last, o.Device, got[:16], r.SHA256[:16])
		}
	}
	bar.done()
	rep.Verified = true
	rep.Duration = time.Since(start)
	return rep, nil
}

func checkSum(ctx context.Context, img *os.File, sumFile string) error {
	b, err := os.ReadFile(sumFile)
	if err != nil {
		return refuse("no checksum for the image: %v", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 || len(fields[0]) != 64 {
		return refuse("%s holds no sha256", sumFile)
	}
	h := sha256.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: bufio.NewReaderSize(img, 1<<20)}); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != fields[0] {
		return fmt.Errorf("%w: %s: %w: sha256 %s, %s says %s", ErrRefused, filepath.Base(img.Name()), ErrChecksum,
			got, filepath.Base(sumFile), fields[0])
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func copyRange(dst io.WriterAt, src io.ReaderAt, off, n int64, buf []byte, bar *bar) error {
	for n > 0 {
		chunk := buf[:min(int64(len(buf)), n)]
		if _, err := src.ReadAt(chunk, off); err != nil {
			return err
		}
		if _, err := dst.WriteAt(chunk, off); err != nil {
			return err
		}
		off += int64(len(chunk))
		n -= int64(len(chunk))
		bar.add(int64(len(chunk)))
	}
	return nil
}

func readRange(h io.Writer, src io.ReaderAt, off, n int64, buf []byte, bar *bar) error {
	for n > 0 {
		chunk := buf[:min(int64(len(buf)), n)]
		if _, err := src.ReadAt(chunk, off); err != nil {
			return err
		}
		h.Write(chunk)
		off += int64(len(chunk))
		n -= int64(len(chunk))
		bar.add(int64(len(chunk)))
	}
	return nil
}

// bar is a one-line progress display: bytes, rate and time left.
type bar struct {
	w           io.Writer
	what        string
	total, n    int64
	start, last time.Time
}

func newBar(w io.Writer, what string, total int64) *bar {
	now := time.Now()
	return &bar{w: w, what: what, total: total, start: now, last: now.Add(-time.Second)}
}

func (b *bar) add(n int64) {
	b.n += n
	if b.w == nil || time.Since(b.last) < 200*time.Millisecond {
		return
	}
	b.last = time.Now()
	b.print("\r")
}

func (b *bar) print(prefix string) {
	el := time.Since(b.start).Seconds()
	rate := float64(b.n) / max(el, 1e-3)
	eta := "--"
	if rate > 0 {
		eta = time.Duration(float64(b.total-b.n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	pct := 100.0
	if b.total > 0 {
		pct = 100 * float64(b.n) / float64(b.total)
	}
	fmt.Fprintf(b.w, "%s%-9s %5.1f%%  %s of %s  %s/s  ETA %s   ", prefix, b.what, pct,
		human(b.n), human(b.total), human(int64(rate)), eta)
}

func (b *bar) done() {
	if b.w == nil {
		return
	}
	b.print("\r")
	fmt.Fprintln(b.w)
}
