// Package archivekey gives each F2 archive a password of its own, derived
// from the deployment's secret and the deliverable's id: the extractor
// encrypts with it and delivery shows it to the entitled requester, and no
// password ever travels in an event or is shared between archives.
package archivekey

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Secret is the deployment's secret.
type Secret []byte

// Password is the password of one deliverable's archive: 26 letters and
// digits (130 bits), lower case so that it reads aloud.
func (s Secret) Password(deliverableID string) string {
	m := hmac.New(sha256.New, s)
	m.Write([]byte("sinp F2 archive password v1\x00"))
	m.Write([]byte(deliverableID))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))
	return strings.ToLower(enc[:26])
}

// ID names the secret without revealing it (16 hex digits of an HMAC):
// an archive records the id of the secret its password derives from, so
// that a process holding another secret (a deployment whose services do
// not share the file) refuses to show a password that would not open it.
func (s Secret) ID() string {
	m := hmac.New(sha256.New, s)
	m.Write([]byte("sinp F2 secret id v1"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Path is the secret file: file (SINP_F2_SECRET_FILE) when set, else
// <data dir>/secrets/f2.secret. Every process that encrypts or shows F2
// passwords must read the same one.
func Path(file, dataDir string) string {
	if file != "" {
		return file
	}
	return filepath.Join(dataDir, "secrets", "f2.secret")
}

// LoadOrCreate reads the secret file (64 hex digits), creating it with a
// new secret, readable by its owner only, when it does not exist.
func LoadOrCreate(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := create(path); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("SINP_F2_SECRET_FILE=%s: %w", path, err)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("SINP_F2_SECRET_FILE=%s: %w", path, err)
	}
	s, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(s) < 32 {
		return nil, fmt.Errorf("SINP_F2_SECRET_FILE=%s: want at least 64 hex digits", path)
	}
	return Secret(s), nil
}

func create(path string) error {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(s) + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Of two processes creating it at once, one wins; both read its secret.
	return os.Link(tmp.Name(), path)
}
