package image

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Partition is one primary entry of an MBR partition table.
type Partition struct {
	Number       int
	Type         byte
	Bootable     bool
	Offset, Size int64 // bytes
}

// ReadMBR returns the primary partitions of the image at r.
func ReadMBR(r io.ReaderAt) ([]Partition, error) {
	sector := make([]byte, 512)
	if _, err := r.ReadAt(sector, 0); err != nil {
		return nil, fmt.Errorf("reading the MBR: %w", err)
	}
	if sector[510] != 0x55 || sector[511] != 0xaa {
		return nil, fmt.Errorf("no MBR partition table (no boot signature)")
	}
	var parts []Partition
	for i := 0; i < 4; i++ {
		e := sector[446+16*i : 446+16*(i+1)]
		start, n := binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
		if e[4] == 0 || n == 0 {
			continue
		}
		parts = append(parts, Partition{Number: i + 1, Type: e[4], Bootable: e[0] == 0x80,
			Offset: int64(start) * 512, Size: int64(n) * 512})
	}
	return parts, nil
}

// ReadResults copies everything on the image's results partition into
// dir, with mtools (no mount, no root).
func ReadResults(ctx context.Context, img, dir string) error {
	img, err := filepath.Abs(img)
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	f, err := os.Open(img)
	if err != nil {
		return err
	}
	parts, err := ReadMBR(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", img, err)
	}
	for _, p := range parts {
		if p.Number != ResultsPartition {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		src := fmt.Sprintf("%s@@%d", img, p.Offset)
		// -s recursive, -n no overwrite questions, -m keep times; the
		// partition's root is "::".
		return run(ctx, dir, []string{"MTOOLS_SKIP_CHECK=1"}, "mcopy", "-s", "-n", "-m", "-i", src, "::/*", dir)
	}
	return fmt.Errorf("%s: no results partition (number %d)", img, ResultsPartition)
}
