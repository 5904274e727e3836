// Package flash writes a board image to an SD card or USB disk carefully
// (docs/boards.md): it refuses any target that could be the wrong disk,
// writes only the blocks the image's block map (bmaptool's format) lists,
// shows progress, syncs, and reads every mapped block back against the
// map's checksums.
package flash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Bmap is a parsed block map, format 2.x with sha256 checksums.
type Bmap struct {
	ImageSize   int64
	BlockSize   int64
	BlocksCount int64
	Mapped      int64 // MappedBlocksCount
	Ranges      []Range
}

// Range is a run of mapped blocks, First..Last inclusive, with the
// sha256 of their bytes.
type Range struct {
	First, Last int64
	SHA256      string
}

// Bytes is the range's offset and length in bytes.
func (r Range) Bytes(blockSize, imageSize int64) (off, n int64) {
	off = r.First * blockSize
	end := min((r.Last+1)*blockSize, imageSize)
	return off, end - off
}

// MappedBytes is how much the map says to write.
func (b *Bmap) MappedBytes() int64 {
	var n int64
	for _, r := range b.Ranges {
		_, l := r.Bytes(b.BlockSize, b.ImageSize)
		n += l
	}
	return n
}

// ErrBadBmap means the block map is malformed or does not match itself.
var ErrBadBmap = errors.New("bad block map")

type xmlBmap struct {
	Version      string `xml:"version,attr"`
	ImageSize    string `xml:"ImageSize"`
	BlockSize    string `xml:"BlockSize"`
	BlocksCount  string `xml:"BlocksCount"`
	Mapped       string `xml:"MappedBlocksCount"`
	ChecksumType string `xml:"ChecksumType"`
	FileChecksum string `xml:"BmapFileChecksum"`
	Ranges       []struct {
		Chksum string `xml:"chksum,attr"`
		Text   string `xml:",chardata"`
	} `xml:"BlockMap>Range"`
}

// ReadBmap reads and checks a block map file: its own checksum, the
// version, and ranges that lie inside the image and add up.
func ReadBmap(path string) (*Bmap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseBmap(data)
}

// ParseBmap is ReadBmap on the file's bytes.
func ParseBmap(data []byte) (*Bmap, error) {
	var x xmlBmap
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBmap, err)
	}
	if !strings.HasPrefix(x.Version, "2.") {
		return nil, fmt.Errorf("%w: version %q (this tool reads 2.x)", ErrBadBmap, x.Version)
	}
	if t := strings.TrimSpace(x.ChecksumType); t != "sha256" {
		return nil, fmt.Errorf("%w: checksum type %q (sha256 expected)", ErrBadBmap, t)
	}
	// The file's checksum is taken with its own value replaced by zeros.
	sum := strings.TrimSpace(x.FileChecksum)
	if len(sum) != 64 {
		return nil, fmt.Errorf("%w: no BmapFileChecksum", ErrBadBmap)
	}
	zeroed := bytes.Replace(data, []byte(sum), bytes.Repeat([]byte("0"), 64), 1)
	if h := sha256.Sum256(zeroed); hex.EncodeToString(h[:]) != sum {
		return nil, fmt.Errorf("%w: the file's checksum does not match (damaged or edited)", ErrBadBmap)
	}
	b := &Bmap{}
	for _, f := range []struct {
		dst  *int64
		text string
		name string
	}{{&b.ImageSize, x.ImageSize, "ImageSize"}, {&b.BlockSize, x.BlockSize, "BlockSize"},
		{&b.BlocksCount, x.BlocksCount, "BlocksCount"}, {&b.Mapped, x.Mapped, "MappedBlocksCount"}} {
		v, err := strconv.ParseInt(strings.TrimSpace(f.text), 10, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%w: %s %q", ErrBadBmap, f.name, f.text)
		}
		*f.dst = v
	}
	if b.BlockSize <= 0 || (b.ImageSize+b.BlockSize-1)/b.BlockSize != b.BlocksCount {
		return nil, fmt.Errorf("%w: %d blocks of %d bytes do not make an image of %d bytes",
			ErrBadBmap, b.BlocksCount, b.BlockSize, b.ImageSize)
	}
	var mapped, next int64
	for _, xr := range x.Ranges {
		first, last, err := parseRange(strings.TrimSpace(xr.Text))
		if err != nil || first < next || last >= b.BlocksCount || len(xr.Chksum) != 64 {
			return nil, fmt.Errorf("%w: range %q (out of order, outside the image or without a checksum)",
				ErrBadBmap, strings.TrimSpace(xr.Text))
		}
		b.Ranges = append(b.Ranges, Range{First: first, Last: last, SHA256: xr.Chksum})
		mapped += last - first + 1
		next = last + 1
	}
	if mapped != b.Mapped {
		return nil, fmt.Errorf("%w: ranges hold %d blocks, MappedBlocksCount says %d", ErrBadBmap, mapped, b.Mapped)
	}
	return b, nil
}

func parseRange(s string) (first, last int64, err error) {
	a, z, ok := strings.Cut(s, "-")
	if first, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, err
	}
	last = first
	if ok {
		if last, err = strconv.ParseInt(z, 10, 64); err != nil {
			return 0, 0, err
		}
	}
	if last < first {
		return 0, 0, fmt.Errorf("backwards range")
	}
	return first, last, nil
}
