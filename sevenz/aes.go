package sevenz

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"
)

// 7-Zip's AES coder: AES-256-CBC, key = SHA-256 iterated 2^cycles times over
// salt || UTF-16LE(password) || 64-bit counter.
var methodAES = []byte{0x06, 0xF1, 0x07, 0x01}

const (
	saltSize = 16
	ivSize   = aes.BlockSize
	// maxKeyCycles is the largest exponent that readers such as
	// bodgit/sevenzip accept.
	maxKeyCycles = 24
)

// archiveKey is the key derived once per archive; each encrypted stream has
// its own IV.
type archiveKey struct {
	cycles int
	salt   []byte
	key    []byte
}

func deriveKey(password string, salt []byte, cycles int) []byte {
	var buf []byte
	buf = append(buf, salt...)
	for _, u := range utf16.Encode([]rune(password)) {
		buf = binary.LittleEndian.AppendUint16(buf, u)
	}
	counter := len(buf)
	buf = append(buf, make([]byte, 8)...)
	h := sha256.New()
	for i := uint64(0); i < 1<<cycles; i++ {
		binary.LittleEndian.PutUint64(buf[counter:], i)
		h.Write(buf)
	}
	return h.Sum(nil)
}

func newArchiveKey(password string, cycles int, rand io.Reader) (*archiveKey, error) {
	salt := make([]byte, saltSize)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, fmt.Errorf("sevenz: drawing salt: %w", err)
	}
	return &archiveKey{cycles: cycles, salt: salt, key: deriveKey(password, salt, cycles)}, nil
}

// coder returns the AES coder description for a stream with this IV.
func (k *archiveKey) coder(iv []byte) coderSpec {
	props := []byte{
		byte(k.cycles) | 0xC0, // salt and IV present
		byte(len(k.salt)-1)<<4 | byte(len(iv)-1),
	}
	props = append(props, k.salt...)
	props = append(props, iv...)
	return coderSpec{id: methodAES, props: props}
}

// cbcWriter encrypts a stream in CBC mode, padding the last block with zeros;
// the reader knows the plain size from the header.
type cbcWriter struct {
	w       io.Writer
	mode    cipher.BlockMode
	pending []byte // fewer than 16 bytes awaiting a full block
	buf     []byte
	plain   int64
}

func newCBCWriter(w io.Writer, key, iv []byte) (*cbcWriter, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sevenz: aes: %w", err)
	}
	return &cbcWriter{w: w, mode: cipher.NewCBCEncrypter(block, iv)}, nil
}

func (c *cbcWriter) Write(p []byte) (int, error) {
	c.plain += int64(len(p))
	n := len(p)
	if len(c.pending) > 0 {
		k := min(len(p), aes.BlockSize-len(c.pending))
		c.pending = append(c.pending, p[:k]...)
		p = p[k:]
		if len(c.pending) < aes.BlockSize {
			return n, nil
		}
		c.mode.CryptBlocks(c.pending, c.pending)
		if _, err := c.w.Write(c.pending); err != nil {
			return 0, err
		}
		c.pending = c.pending[:0]
	}
	full := len(p) &^ (aes.BlockSize - 1)
	if full > 0 {
		c.buf = append(c.buf[:0], p[:full]...)
		c.mode.CryptBlocks(c.buf, c.buf)
		if _, err := c.w.Write(c.buf); err != nil {
			return 0, err
		}
	}
	c.pending = append(c.pending, p[full:]...)
	return n, nil
}

// Close pads and writes the last block; it does not close w.
func (c *cbcWriter) Close() error {
	if len(c.pending) == 0 {
		return nil
	}
	block := make([]byte, aes.BlockSize)
	copy(block, c.pending)
	c.mode.CryptBlocks(block, block)
	c.pending = c.pending[:0]
	_, err := c.w.Write(block)
	return err
}
