package sevenz

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"unicode/utf16"

	"github.com/ulikunitz/xz/lzma"
)

// Check tells whether the archive at path is, byte for byte, the archive
// this package wrote, without decompressing its files: it checks the
// signature header's CRC, the header's CRC and structure, and the CRC32 of
// every packed stream, which the header records. Every byte of such an
// archive is covered, so a damaged or truncated copy, or one with bytes
// added, fails. It reads the archive once at disk speed; the header alone is
// decompressed (and decrypted, with the password, which encrypted archives
// need).
//
// Check cannot see an archive whose packed streams were wrong when written
// (an encoder bug): Verify decodes everything with an independent reader and
// checks each file's CRC32, at the decoder's speed, 50 to 100 times slower.
// Check every archive before staging it; Verify when the encoder changed, or
// for a sample. Check knows the archives this package writes; an archive
// from another tool that does not record the CRC32 of its packed streams (as
// 7-Zip does not) fails it.
func Check(path, password string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sevenz: check: %w", err)
	}
	defer f.Close()
	if err := check(f, password); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return nil
}

// maxHeaderSize bounds what Check reads into memory before believing a size.
const maxHeaderSize = 1 << 30

func check(f *os.File, password string) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	sig := make([]byte, signatureHeaderSize)
	if _, err := io.ReadFull(f, sig); err != nil {
		return fmt.Errorf("signature header: %w", err)
	}
	nextOffset, nextSize, nextCRC, err := parseSignatureHeader(sig)
	if err != nil {
		return err
	}
	if nextSize > maxHeaderSize || nextOffset > uint64(size) {
		return fmt.Errorf("header of %d bytes at %d: out of the file", nextSize, nextOffset)
	}
	if end := signatureHeaderSize + int64(nextOffset) + int64(nextSize); end != size {
		return fmt.Errorf("archive ends at %d, file has %d bytes (truncated or with bytes added)", end, size)
	}
	if nextSize == 0 {
		if nextOffset != 0 {
			return errors.New("no header, yet packed data")
		}
		return nil // the archive of no files
	}
	next := make([]byte, nextSize)
	if _, err := f.ReadAt(next, signatureHeaderSize+int64(nextOffset)); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if got := crc32.ChecksumIEEE(next); got != nextCRC {
		return fmt.Errorf("header CRC %08x, recorded %08x", got, nextCRC)
	}

	r := &hdrReader{b: next}
	var packs []packStream
	var names []string
	switch id := r.byte(); id {
	case idHeader:
		packs, names = r.header()
	case idEncodedHeader:
		hs := r.streamsInfo()
		if r.err == nil && (len(hs.packs) != 1 || len(hs.folders) != 1) {
			r.fail("encoded header has %d packed streams and %d folders, want 1", len(hs.packs), len(hs.folders))
		}
		r.end()
		if r.err != nil {
			return fmt.Errorf("encoded header: %w", r.err)
		}
		hp := hs.packs[0]
		hp.name = "the header"
		if err := checkStreams(f, []packStream{hp}, hp.pos, nextOffset); err != nil {
			return err
		}
		plain, err := decodeHeader(f, hp, hs.folders[0], password)
		if err != nil {
			return err
		}
		r = &hdrReader{b: plain}
		if id := r.byte(); id != idHeader {
			return fmt.Errorf("decoded header starts with %#x, want %#x", id, idHeader)
		}
		packs, names = r.header()
		nextOffset = hp.pos // the files' streams end where the header's starts
	default:
		return fmt.Errorf("header starts with %#x", id)
	}
	r.end()
	if r.err != nil {
		return fmt.Errorf("header: %w", r.err)
	}
	for i := range packs {
		if i < len(names) {
			packs[i].name = names[i]
		}
	}
	return checkStreams(f, packs, 0, nextOffset)
}

// packStream is a packed stream as the header records it.
type packStream struct {
	pos, size uint64 // pos: from the end of the signature header
	crc       uint32
	name      string // the file it holds, for messages
}

// parseSignatureHeader checks the 32-byte signature header and returns
// where the header is, its size and its CRC.
func parseSignatureHeader(sig []byte) (nextOffset, nextSize uint64, nextCRC uint32, err error) {
	if !bytes.Equal(sig[:6], signature[:]) {
		return 0, 0, 0, errors.New("not a 7z archive")
	}
	if sig[6] != 0 || sig[7] != 4 {
		return 0, 0, 0, fmt.Errorf("format version %d.%d, want 0.4", sig[6], sig[7])
	}
	if got, want := crc32.ChecksumIEEE(sig[12:]), binary.LittleEndian.Uint32(sig[8:]); got != want {
		return 0, 0, 0, fmt.Errorf("signature header CRC %08x, recorded %08x", got, want)
	}
	return binary.LittleEndian.Uint64(sig[12:]), binary.LittleEndian.Uint64(sig[20:]), binary.LittleEndian.Uint32(sig[28:]), nil
}

// checkStreams reads streams that must tile [from, to) exactly and checks
// their CRC32.
func checkStreams(f *os.File, packs []packStream, from, to uint64) error {
	at, longest := uint64(0), uint64(0)
	for _, p := range packs {
		longest = max(longest, p.size)
	}
	buf := make([]byte, min(1<<20, max(longest, 1)))
	if len(packs) > 0 {
		at = packs[0].pos
	}
	if at != from {
		return fmt.Errorf("packed streams start at %d, want %d", at, from)
	}
	for i, p := range packs {
		if p.pos != at {
			return fmt.Errorf("packed stream %d (%s) at %d, want %d", i, p.name, p.pos, at)
		}
		if p.size > to-at || at > to {
			return fmt.Errorf("packed stream %d (%s) of %d bytes at %d passes the header at %d", i, p.name, p.size, at, to)
		}
		h := crc32.NewIEEE()
		if _, err := io.CopyBuffer(h, io.NewSectionReader(f, signatureHeaderSize+int64(p.pos), int64(p.size)), buf); err != nil {
			return fmt.Errorf("packed stream %d (%s): %w", i, p.name, err)
		}
		if got := h.Sum32(); got != p.crc {
			return fmt.Errorf("packed stream %d (%s): CRC %08x, recorded %08x", i, p.name, got, p.crc)
		}
		at += p.size
	}
	if at != to {
		return fmt.Errorf("packed streams end at %d, the header is at %d", at, to)
	}
	return nil
}

// decodeHeader decrypts (with the password) and decompresses the header.
func decodeHeader(f *os.File, p packStream, fo folderInfo, password string) ([]byte, error) {
	packed := make([]byte, p.size)
	if _, err := f.ReadAt(packed, signatureHeaderSize+int64(p.pos)); err != nil {
		return nil, fmt.Errorf("header stream: %w", err)
	}
	if len(fo.coders) == 0 || len(fo.coders) > 2 || len(fo.unpackSizes) != len(fo.coders) || !fo.hasCRC {
		return nil, fmt.Errorf("header stream: unexpected coders %v", fo.coders)
	}
	data := packed
	coders := fo.coders
	if bytes.Equal(coders[0].id, methodAES) {
		if password == "" {
			return nil, errors.New("the header is encrypted: a password is needed")
		}
		plain, err := decryptAES(data, coders[0].props, password)
		if err != nil {
			return nil, err
		}
		data = plain[:min(uint64(len(plain)), fo.unpackSizes[0])]
		coders = coders[1:]
	}
	if len(coders) != 1 || !bytes.Equal(coders[0].id, methodLZMA2) || len(coders[0].props) != 1 || coders[0].props[0] > 40 {
		return nil, fmt.Errorf("header stream: coder %x is not LZMA2", coders[0].id)
	}
	prop := int(coders[0].props[0])
	dict := (2 | prop&1) << (prop/2 + 11)
	lr, err := lzma.Reader2Config{DictCap: max(dict, lzma.MinDictCap)}.NewReader2(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("header stream: %w", err)
	}
	size := fo.unpackSizes[len(fo.unpackSizes)-1]
	if size > maxHeaderSize {
		return nil, fmt.Errorf("header of %d bytes", size)
	}
	plain := make([]byte, size)
	if _, err := io.ReadFull(lr, plain); err != nil {
		return nil, fmt.Errorf("decoding the header (wrong password?): %w", err)
	}
	if got := crc32.ChecksumIEEE(plain); got != fo.crc {
		return nil, fmt.Errorf("decoded header CRC %08x, recorded %08x (wrong password?)", got, fo.crc)
	}
	return plain, nil
}

func decryptAES(data, props []byte, password string) ([]byte, error) {
	if len(props) < 2 || props[0]&0xC0 == 0 {
		return nil, errors.New("AES coder without salt or IV")
	}
	cycles := int(props[0] & 0x3F)
	saltSize := int(props[0]>>7&1) + int(props[1]>>4)
	ivSize := int(props[0]>>6&1) + int(props[1]&0x0F)
	if cycles > maxKeyCycles || len(props) != 2+saltSize+ivSize || ivSize > aes.BlockSize || len(data)%aes.BlockSize != 0 {
		return nil, errors.New("AES coder properties out of range")
	}
	salt := props[2 : 2+saltSize]
	iv := make([]byte, aes.BlockSize)
	copy(iv, props[2+saltSize:])
	block, err := aes.NewCipher(deriveKey(password, salt, cycles))
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	return plain, nil
}

// hdrReader reads the 7z header's fields; the first error sticks and every
// later read returns zeros.
type hdrReader struct {
	b   []byte
	err error
}

func (r *hdrReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *hdrReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("header ends early")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *hdrReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("header ends early")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *hdrReader) uint32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// number reads 7z's variable-length integer.
func (r *hdrReader) number() uint64 {
	first := r.byte()
	var v uint64
	mask := byte(0x80)
	for i := 0; i < 8; i++ {
		if first&mask == 0 {
			return v | uint64(first&(mask-1))<<(8*i)
		}
		v |= uint64(r.byte()) << (8 * i)
		mask >>= 1
	}
	return v
}

// count reads a number that counts things in the header: it cannot exceed
// the header's size.
func (r *hdrReader) count() int {
	n := r.number()
	if n > uint64(len(r.b))+1 {
		r.fail("count %d larger than the header", n)
		return 0
	}
	return int(n)
}

func (r *hdrReader) expect(id byte) {
	if got := r.byte(); got != id && r.err == nil {
		r.fail("property %#x, want %#x", got, id)
	}
}

func (r *hdrReader) end() {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the header's end", len(r.b))
	}
}

func (r *hdrReader) bitVector(n int) []bool {
	bits := make([]bool, n)
	b := r.bytes(uint64((n + 7) / 8))
	for i := range bits {
		if b != nil {
			bits[i] = b[i/8]&(0x80>>(i%8)) != 0
		}
	}
	return bits
}

// digests reads n CRCs, all of which must be defined.
func (r *hdrReader) digests(n int) []uint32 {
	if r.byte() == 0 {
		for _, d := range r.bitVector(n) {
			if !d {
				r.fail("a CRC is missing")
			}
		}
	}
	crcs := make([]uint32, n)
	for i := range crcs {
		crcs[i] = r.uint32()
	}
	return crcs
}

type folderInfo struct {
	coders      []coderSpec
	unpackSizes []uint64
	crc         uint32
	hasCRC      bool
	substreams  int
}

type streamsInfo struct {
	packs   []packStream
	folders []folderInfo
}

// streamsInfo reads pack info, unpack info and substreams info; every
// packed stream must carry its CRC.
func (r *hdrReader) streamsInfo() streamsInfo {
	var s streamsInfo
	r.expect(idPackInfo)
	pos := r.number()
	s.packs = make([]packStream, r.count())
	r.expect(idSize)
	for i := range s.packs {
		s.packs[i].pos = pos
		s.packs[i].size = r.number()
		pos += s.packs[i].size
	}
	if r.byte() != idCRC {
		r.fail("packed streams without CRC: only Verify can check this archive")
		return s
	}
	for i, c := range r.digests(len(s.packs)) {
		s.packs[i].crc = c
	}
	r.expect(idEnd)

	r.expect(idUnpackInfo)
	r.expect(idFolder)
	s.folders = make([]folderInfo, r.count())
	if r.byte() != 0 {
		r.fail("external folders")
	}
	for i := range s.folders {
		s.folders[i] = r.folder()
	}
	r.expect(idCodersUnpackSize)
	for i := range s.folders {
		for j := range s.folders[i].unpackSizes {
			s.folders[i].unpackSizes[j] = r.number()
		}
	}
	id := r.byte()
	if id == idCRC {
		for i, c := range r.digests(len(s.folders)) {
			s.folders[i].crc, s.folders[i].hasCRC = c, true
		}
		id = r.byte()
	}
	if id != idEnd {
		r.fail("unpack info ends with %#x", id)
	}
	for i := range s.folders {
		s.folders[i].substreams = 1
	}
	if r.err == nil && len(s.folders) != len(s.packs) {
		r.fail("%d folders for %d packed streams", len(s.folders), len(s.packs))
	}

	id = r.byte()
	if id == idSubStreamsInfo {
		r.substreams(s.folders)
		id = r.byte()
	}
	if id != idEnd {
		r.fail("streams info ends with %#x", id)
	}
	return s
}

// folder reads a chain of simple coders with one packed stream, as this
// package writes them.
func (r *hdrReader) folder() folderInfo {
	var fo folderInfo
	n := r.count()
	if n < 1 || n > 4 {
		r.fail("folder of %d coders", n)
		return fo
	}
	for range n {
		flags := r.byte()
		if flags&0xD0 != 0 {
			r.fail("coder flags %#x: not a simple coder", flags)
		}
		c := coderSpec{id: r.bytes(uint64(flags & 0x0F))}
		if flags&0x20 != 0 {
			c.props = r.bytes(r.number())
		}
		fo.coders = append(fo.coders, c)
	}
	for i := 1; i < n; i++ {
		if in, out := r.number(), r.number(); in != uint64(i) || out != uint64(i-1) {
			r.fail("coders bound %d to %d", in, out)
		}
	}
	fo.unpackSizes = make([]uint64, n)
	return fo
}

func (r *hdrReader) substreams(folders []folderInfo) {
	id := r.byte()
	if id == 0x0D { // kNumUnpackStream
		for i := range folders {
			folders[i].substreams = r.count()
		}
		id = r.byte()
	}
	if id == idSize {
		for _, fo := range folders {
			for range max(fo.substreams-1, 0) {
				r.number()
			}
		}
		id = r.byte()
	}
	if id == idCRC {
		n := 0
		for _, fo := range folders {
			if fo.substreams != 1 || !fo.hasCRC {
				n += fo.substreams
			}
		}
		r.digests(n)
		id = r.byte()
	}
	if id != idEnd {
		r.fail("substreams info ends with %#x", id)
	}
}

// header reads the plain header, after its first byte: the main streams and
// the files, whose names label the packed streams.
func (r *hdrReader) header() ([]packStream, []string) {
	var s streamsInfo
	id := r.byte()
	if id == idMainStreamsInfo {
		s = r.streamsInfo()
		id = r.byte()
	}
	streams := 0
	for _, fo := range s.folders {
		streams += fo.substreams
	}
	var names []string
	if id == idFilesInfo {
		names = r.filesInfo(streams)
		id = r.byte()
	} else if streams > 0 {
		r.fail("streams without files")
	}
	if id != idEnd {
		r.fail("header ends with %#x", id)
	}
	return s.packs, names
}

// filesInfo reads the files' properties and returns the names of the files
// that have a stream, in stream order.
func (r *hdrReader) filesInfo(streams int) []string {
	n := r.count()
	empty := make([]bool, n)
	var names []string
	for r.err == nil {
		prop := r.byte()
		if prop == idEnd {
			break
		}
		data := &hdrReader{b: r.bytes(r.number())}
		switch prop {
		case idEmptyStream:
			empty = data.bitVector(n)
		case idName:
			if data.byte() != 0 {
				r.fail("external names")
			}
			names = decodeNames(data.b)
		}
	}
	withStream := 0
	var named []string
	for i, e := range empty {
		if !e {
			withStream++
			if i < len(names) {
				named = append(named, names[i])
			}
		}
	}
	if r.err == nil && withStream != streams {
		r.fail("%d files with content for %d streams", withStream, streams)
	}
	return named
}

// decodeNames splits UTF-16LE names, each ending with a zero.
func decodeNames(b []byte) []string {
	var names []string
	var cur []uint16
	for i := 0; i+1 < len(b); i += 2 {
		u := binary.LittleEndian.Uint16(b[i:])
		if u == 0 {
			names = append(names, string(utf16.Decode(cur)))
			cur = cur[:0]
			continue
		}
		cur = append(cur, u)
	}
	return names
}
