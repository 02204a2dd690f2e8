package sevenz

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/bodgit/sevenzip"
)

// ErrCorrupt reports an archive that does not read back as written: a
// checksum mismatch, a truncated stream, or a wrong password.
var ErrCorrupt = errors.New("sevenz: archive is corrupt or the password is wrong")

// Verify reads the archive at path back with an independent 7z reader
// (bodgit/sevenzip) and checks every file's size and CRC32 against the
// header. The password may be empty for plain archives.
func Verify(path, password string) error {
	if empty, err := isEmptyArchive(path); err != nil || empty {
		return err
	}
	r, err := sevenzip.OpenReaderWithPassword(path, password)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	defer r.Close()
	buf := make([]byte, 1<<20)
	for _, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if err := verifyFile(f, buf); err != nil {
			return fmt.Errorf("%w: %s: %s: %v", ErrCorrupt, path, f.Name, err)
		}
	}
	return nil
}

func verifyFile(f *sevenzip.File, buf []byte) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	h := crc32.NewIEEE()
	n, err := io.CopyBuffer(h, rc, buf)
	if err != nil {
		return err
	}
	if uint64(n) != f.UncompressedSize {
		return fmt.Errorf("read %d bytes, header says %d", n, f.UncompressedSize)
	}
	if n > 0 && h.Sum32() != f.CRC32 {
		return fmt.Errorf("CRC32 %08x, header says %08x", h.Sum32(), f.CRC32)
	}
	return nil
}

// isEmptyArchive recognises the 32-byte archive of no files, which 7-Zip
// reads but bodgit/sevenzip does not.
func isEmptyArchive(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("sevenz: verify: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() != signatureHeaderSize {
		return false, err
	}
	b := make([]byte, signatureHeaderSize)
	if _, err := io.ReadFull(f, b); err != nil {
		return false, fmt.Errorf("sevenz: verify: %w", err)
	}
	if _, nextSize, _, err := parseSignatureHeader(b); err != nil || nextSize != 0 {
		return false, fmt.Errorf("%w: %s: bad signature header", ErrCorrupt, path)
	}
	return true, nil
}
