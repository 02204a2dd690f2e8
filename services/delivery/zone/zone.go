// Package zone is the requesters' drop zones on a filesystem: one folder
// per requester (per account, or per request for a tracking-token holder)
// under a root, laid out so that an SFTP or web server can expose each as
// it is:
//
//	<root>/<zone>/MANIFEST.sha256          sha256sum -c format
//	<root>/<zone>/manifest.json            deliverable, pôle, rows, bytes, checksum, rule, instants
//	<root>/<zone>/<reference>/<archive>.7z a released archive
//	<root>/<zone>/<reference>/NOTICE_F2_<pôle>.txt   a withheld F2's notice
//
// Files appear whole or not at all (written under a dot-name, fsynced,
// verified, renamed, the folder fsynced); readers ignore dot-names. Every
// name comes from the system and is checked; every access goes through an
// os.Root of the zone, so neither a name nor a symbolic link planted in a
// zone can reach outside it.
package zone

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ErrName: a name the system would not have made.
var ErrName = errors.New("zone: not a drop-zone name")

// ValidName says whether a name (a zone, a reference, a file) is one the
// system makes: ASCII letters, digits, '.', '_', '-', not starting with a
// dot, at most 128 bytes.
func ValidName(s string) bool {
	return nameRe.MatchString(s) && !strings.Contains(s, "..")
}

// For returns the drop zone of a requester: its account's, or, without an
// account, the request's.
func For(accountID, reference string) (string, error) {
	z := "req-" + reference
	if accountID != "" {
		z = accountID
		if !strings.HasPrefix(z, "acc-") {
			z = "acc-" + z
		}
	}
	if !ValidName(z) {
		return "", fmt.Errorf("%w: zone %q", ErrName, z)
	}
	return z, nil
}

// Root holds every drop zone.
type Root struct {
	dir  string
	root *os.Root
}

// Open opens (creating it) the folder holding the drop zones.
func Open(dir string) (*Root, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("zone: %w", err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("zone: %w", err)
	}
	return &Root{dir: dir, root: r}, nil
}

// Dir is the folder holding the zones.
func (r *Root) Dir() string { return r.dir }

// zone opens one zone (creating it) as a root of its own.
func (r *Root) zone(z string) (*os.Root, error) {
	if !ValidName(z) {
		return nil, fmt.Errorf("%w: zone %q", ErrName, z)
	}
	if err := r.root.Mkdir(z, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("zone: %w", err)
	}
	return r.root.OpenRoot(z)
}

// Path is a file's path in its zone.
func Path(reference, name string) (string, error) {
	if !ValidName(reference) || !ValidName(name) {
		return "", fmt.Errorf("%w: %q/%q", ErrName, reference, name)
	}
	return reference + "/" + name, nil
}

// Placed says what Place did.
type Placed struct {
	Path   string
	SHA256 string
	Bytes  int64
	// Already: the complete, verified file was there (a redelivered
	// publication after a crash between placing it and recording it).
	Already bool
}

// ErrMismatch: the source is not what the staging record says.
var ErrMismatch = errors.New("zone: the staged archive does not match its record")

// Place copies src into <zone>/<reference>/<name>, whole or not at all:
// checked against the expected size and SHA-256 while copying, fsynced,
// read back and checked again, then renamed into place and the folder
// fsynced. A complete file already there with the expected checksum is
// kept as it is.
func (r *Root) Place(z, reference, name string, src io.Reader, size int64, sum string) (Placed, error) {
	p, err := Path(reference, name)
	if err != nil {
		return Placed{}, err
	}
	zr, err := r.zone(z)
	if err != nil {
		return Placed{}, err
	}
	defer zr.Close()
	if err := zr.Mkdir(reference, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return Placed{}, fmt.Errorf("zone: %w", err)
	}
	if got, n, err := hashOf(zr, p); err == nil && got == sum && n == size {
		return Placed{Path: p, SHA256: sum, Bytes: size, Already: true}, nil
	}
	tmp := reference + "/." + name + ".partial-" + random()
	f, err := zr.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return Placed{}, fmt.Errorf("zone: %w", err)
	}
	defer zr.Remove(tmp) // after a successful rename it is gone already
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Placed{}, fmt.Errorf("zone: writing %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum || n != size {
		return Placed{}, fmt.Errorf("%w: %s is %d bytes %s, recorded %d bytes %s", ErrMismatch, name, n, got, size, sum)
	}
	if got, m, err := hashOf(zr, tmp); err != nil || got != sum || m != size {
		return Placed{}, fmt.Errorf("zone: %s did not read back as written (%v)", p, err)
	}
	if err := zr.Rename(tmp, p); err != nil {
		return Placed{}, fmt.Errorf("zone: %w", err)
	}
	if err := syncDir(zr, reference); err != nil {
		return Placed{}, err
	}
	return Placed{Path: p, SHA256: sum, Bytes: size}, nil
}

// WriteFile writes a small file (a notice) whole or not at all and
// returns its path, checksum and size.
func (r *Root) WriteFile(z, reference, name string, data []byte) (Placed, error) {
	sum := sha256.Sum256(data)
	return r.Place(z, reference, name, strings.NewReader(string(data)), int64(len(data)), hex.EncodeToString(sum[:]))
}

// Remove deletes a file of a zone (an expired archive).
func (r *Root) Remove(z, p string) error {
	zr, err := r.zone(z)
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := zr.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("zone: %w", err)
	}
	return syncDir(zr, path.Dir(p))
}

// Open opens a file of a zone for reading; a link leading outside the
// zone, or anything but a regular file, is refused.
func (r *Root) Open(z, p string) (*os.File, os.FileInfo, error) {
	ref, name := path.Split(p)
	if _, err := Path(strings.TrimSuffix(ref, "/"), name); err != nil {
		return nil, nil, err
	}
	zr, err := r.zone(z)
	if err != nil {
		return nil, nil, err
	}
	defer zr.Close()
	return openRegular(zr, p)
}

// Entry is one file of a zone's manifest.
type Entry struct {
	Path          string    `json:"path"`
	DeliverableID string    `json:"deliverable_id"`
	Reference     string    `json:"reference"`
	Kind          string    `json:"kind"`
	Pole          string    `json:"pole,omitempty"`
	Nature        string    `json:"nature"`
	Rows          int64     `json:"rows"`
	Bytes         int64     `json:"bytes"`
	SHA256        string    `json:"sha256"`
	Rule          string    `json:"release_rule,omitempty"`
	ReleasedAt    time.Time `json:"released_at,omitzero"`
	PublishedAt   time.Time `json:"published_at"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
}

// WriteManifests rewrites a zone's MANIFEST.sha256 and manifest.json from
// its files, each whole or not at all.
func (r *Root) WriteManifests(z string, entries []Entry) error {
	zr, err := r.zone(z)
	if err != nil {
		return err
	}
	defer zr.Close()
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	var sums strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&sums, "%s  %s\n", e.SHA256, e.Path)
	}
	doc, err := json.MarshalIndent(struct {
		DropZone string  `json:"drop_zone"`
		Files    []Entry `json:"files"`
	}{z, entries}, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"MANIFEST.sha256": []byte(sums.String()), "manifest.json": append(doc, '\n')} {
		if err := replace(zr, name, data); err != nil {
			return err
		}
	}
	return syncDir(zr, ".")
}

func replace(zr *os.Root, name string, data []byte) error {
	tmp := "." + name + ".partial-" + random()
	f, err := zr.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("zone: %w", err)
	}
	defer zr.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = zr.Rename(tmp, name)
	}
	if err != nil {
		return fmt.Errorf("zone: %s: %w", name, err)
	}
	return nil
}

// openRegular opens a regular file of a root for reading: never through
// a link out of the root (os.Root), never blocking on a pipe or device
// planted in its place (O_NONBLOCK, then refused).
func openRegular(zr *os.Root, p string) (*os.File, os.FileInfo, error) {
	f, err := zr.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("zone: %s is not a regular file", p)
	}
	return f, st, nil
}

func hashOf(zr *os.Root, p string) (string, int64, error) {
	f, _, err := openRegular(zr, p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func syncDir(zr *os.Root, dir string) error {
	d, err := zr.Open(dir)
	if err != nil {
		return fmt.Errorf("zone: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("zone: %w", err)
	}
	return nil
}

func random() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
