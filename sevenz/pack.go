package sevenz

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Summary tells an operator what PackFiles put in the archive.
type Summary struct {
	Files   int           // regular files
	Dirs    int           // directories
	Bytes   int64         // content of the files
	Packed  int64         // size of the archive
	Elapsed time.Duration // wall time
}

// String reads well in an operator's terminal.
func (s Summary) String() string {
	ratio := 0.0
	if s.Bytes > 0 {
		ratio = 100 * float64(s.Packed) / float64(s.Bytes)
	}
	return fmt.Sprintf("%d files, %d directories, %d bytes packed into %d (%.1f%%) in %s",
		s.Files, s.Dirs, s.Bytes, s.Packed, ratio, s.Elapsed.Round(time.Millisecond))
}

// PasswordFromFile reads an archive password kept in a file, as `sinp pack
// --password-file` takes it: the file's content less one trailing newline.
// Short passwords are refused with ErrPasswordTooShort.
func PasswordFromFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("sevenz: password file: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return "", ErrPasswordTooShort
	}
	return pw, nil
}

// PackFiles writes the archive out from files and directories (recursed).
// Names are relative to each argument's parent: packing /data/2024 stores
// 2024/.... Modification times and permissions are kept. The archive appears
// at out only when complete: it is written to a temporary file beside out,
// then renamed.
func PackFiles(ctx context.Context, out string, files []string, opts Options) (Summary, error) {
	start := time.Now()
	var sum Summary
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return sum, fmt.Errorf("sevenz: pack: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w, err := NewWriter(tmp, opts)
	if err != nil {
		return sum, err
	}
	p := &packer{ctx: ctx, w: w, sum: &sum, names: map[string]string{}, buf: make([]byte, 1<<20)}
	for _, arg := range files {
		if err := p.add(arg); err != nil {
			w.Close() // removes the writer's temporary files
			return sum, err
		}
	}
	if err := w.Close(); err != nil {
		return sum, err
	}
	if err := tmp.Sync(); err != nil {
		return sum, fmt.Errorf("sevenz: pack: %w", err)
	}
	info, err := tmp.Stat()
	if err != nil {
		return sum, fmt.Errorf("sevenz: pack: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return sum, fmt.Errorf("sevenz: pack: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return sum, fmt.Errorf("sevenz: pack: %w", err)
	}
	committed = true
	sum.Packed = info.Size()
	sum.Elapsed = time.Since(start)
	return sum, nil
}

type packer struct {
	ctx   context.Context
	w     *Writer
	sum   *Summary
	names map[string]string // archive name -> source path
	buf   []byte
}

func (p *packer) add(arg string) error {
	arg = filepath.Clean(arg)
	base := filepath.Dir(arg)
	return filepath.WalkDir(arg, func(src string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("sevenz: pack: %w", err)
		}
		if err := p.ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(base, src)
		if err != nil {
			return fmt.Errorf("sevenz: pack: %w", err)
		}
		name := filepath.ToSlash(rel)
		if prev, dup := p.names[name]; dup {
			return fmt.Errorf("sevenz: pack: %s and %s would both be stored as %s", prev, src, name)
		}
		p.names[name] = src
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("sevenz: pack: %w", err)
		}
		h := &FileHeader{Name: name, Modified: info.ModTime(), Mode: info.Mode()}
		switch {
		case info.IsDir():
			fw, err := p.w.Create(h)
			if err != nil {
				return err
			}
			p.sum.Dirs++
			return fw.Close()
		case info.Mode().IsRegular():
			n, err := p.copyFile(src, h)
			p.sum.Files++
			p.sum.Bytes += n
			return err
		default:
			return fmt.Errorf("sevenz: pack: %s is neither a regular file nor a directory", src)
		}
	})
}

func (p *packer) copyFile(src string, h *FileHeader) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("sevenz: pack: %w", err)
	}
	defer f.Close()
	fw, err := p.w.Create(h)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyBuffer(fw, ctxReader{p.ctx, f}, p.buf)
	if err != nil {
		fw.Close()
		return n, fmt.Errorf("sevenz: pack %s: %w", src, err)
	}
	return n, fw.Close()
}

// ctxReader stops a copy when the context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
