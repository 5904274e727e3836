// Package atomicfile replaces a file whole: through a temporary file
// beside it, renamed over it, so that a reader, or another rig process
// writing the same file at the same moment (make test's stages side by
// side), sees the old file or the new one, never half of one.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file at path with data, mode 0644.
func Write(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
