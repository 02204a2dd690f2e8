package sevenz

import (
	"encoding/binary"
	"hash/crc32"
	"time"
	"unicode/utf16"
)

// Property IDs of the 7z header (7zFormat.txt).
const (
	idEnd              = 0x00
	idHeader           = 0x01
	idMainStreamsInfo  = 0x04
	idFilesInfo        = 0x05
	idPackInfo         = 0x06
	idUnpackInfo       = 0x07
	idSubStreamsInfo   = 0x08
	idSize             = 0x09
	idCRC              = 0x0A
	idFolder           = 0x0B
	idCodersUnpackSize = 0x0C
	idEmptyStream      = 0x0E
	idEmptyFile        = 0x0F
	idName             = 0x11
	idMTime            = 0x14
	idWinAttributes    = 0x15
	idEncodedHeader    = 0x17
)

const signatureHeaderSize = 32

var signature = [6]byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}

// Windows attributes; the high 16 bits carry the Unix mode when
// attrUnixExtension is set, as p7zip and 7-Zip for Unix do.
const (
	attrDirectory     = 0x10
	attrArchive       = 0x20
	attrUnixExtension = 0x8000
	unixTypeDir       = 0o040000
	unixTypeRegular   = 0o100000
)

// coderSpec is one coder of a folder, as the header describes it.
type coderSpec struct {
	id    []byte
	props []byte
}

// folderSpec is a chain of coders reading one packed stream. Coders are
// listed from the packed side: coder i reads coder i-1's output, and the last
// coder produces the file's bytes (readers such as bodgit/sevenzip expect
// this order).
type folderSpec struct {
	coders      []coderSpec
	unpackSizes []uint64 // one per coder output, in coder order
}

// stream is one packed stream with its folder and checksums.
type stream struct {
	packSize uint64
	packCRC  uint32
	folder   folderSpec
	size     uint64 // unpacked
	crc      uint32 // of the unpacked bytes
}

type headerBuf struct{ b []byte }

func (h *headerBuf) byte(v byte)     { h.b = append(h.b, v) }
func (h *headerBuf) bytes(v []byte)  { h.b = append(h.b, v...) }
func (h *headerBuf) uint32(v uint32) { h.b = binary.LittleEndian.AppendUint32(h.b, v) }
func (h *headerBuf) uint64(v uint64) { h.b = binary.LittleEndian.AppendUint64(h.b, v) }

// number writes 7z's variable-length integer: the count of leading one bits
// of the first byte is the count of little-endian bytes that follow.
func (h *headerBuf) number(v uint64) {
	for n := 0; n < 8; n++ {
		if v < 1<<(7*(n+1)) {
			first := byte(0xFF<<(8-n)) | byte(v>>(8*n))
			h.byte(first)
			for i := 0; i < n; i++ {
				h.byte(byte(v >> (8 * i)))
			}
			return
		}
	}
	h.byte(0xFF)
	h.uint64(v)
}

func (h *headerBuf) bitVector(bits []bool) {
	var cur byte
	for i, b := range bits {
		if b {
			cur |= 0x80 >> (i % 8)
		}
		if i%8 == 7 {
			h.byte(cur)
			cur = 0
		}
	}
	if len(bits)%8 != 0 {
		h.byte(cur)
	}
}

// digests writes CRCs that are all defined.
func (h *headerBuf) digests(crcs []uint32) {
	h.byte(1) // all defined
	for _, c := range crcs {
		h.uint32(c)
	}
}

func (h *headerBuf) folder(f folderSpec) {
	h.number(uint64(len(f.coders)))
	for _, c := range f.coders {
		flags := byte(len(c.id))
		if len(c.props) > 0 {
			flags |= 0x20
		}
		h.byte(flags)
		h.bytes(c.id)
		if len(c.props) > 0 {
			h.number(uint64(len(c.props)))
			h.bytes(c.props)
		}
	}
	// Coder i reads coder i-1's output: in-stream i is bound to out-stream i-1.
	for i := 1; i < len(f.coders); i++ {
		h.number(uint64(i))
		h.number(uint64(i - 1))
	}
	// One packed stream: its index is implied.
}

// streamsInfo writes pack info and unpack info for streams placed at packPos.
// With folderCRCs the unpacked CRCs go in the unpack info (the encoded
// header's way); otherwise they go in the substreams info (the files' way).
func (h *headerBuf) streamsInfo(packPos uint64, streams []stream, folderCRCs bool) {
	h.byte(idPackInfo)
	h.number(packPos)
	h.number(uint64(len(streams)))
	h.byte(idSize)
	for _, s := range streams {
		h.number(s.packSize)
	}
	h.byte(idCRC)
	crcs := make([]uint32, len(streams))
	for i, s := range streams {
		crcs[i] = s.packCRC
	}
	h.digests(crcs)
	h.byte(idEnd)

	h.byte(idUnpackInfo)
	h.byte(idFolder)
	h.number(uint64(len(streams)))
	h.byte(0) // not external
	for _, s := range streams {
		h.folder(s.folder)
	}
	h.byte(idCodersUnpackSize)
	for _, s := range streams {
		for _, size := range s.folder.unpackSizes {
			h.number(size)
		}
	}
	for i, s := range streams {
		crcs[i] = s.crc
	}
	if folderCRCs {
		h.byte(idCRC)
		h.digests(crcs)
	}
	h.byte(idEnd)

	if !folderCRCs {
		h.byte(idSubStreamsInfo)
		// One substream per folder, the default: no kNumUnpackStream, no sizes.
		h.byte(idCRC)
		h.digests(crcs)
		h.byte(idEnd)
	}
	h.byte(idEnd)
}

// headerEntry is what the header records of one archive member.
type headerEntry struct {
	name     string
	modified time.Time
	attrib   uint32
	isDir    bool
	empty    bool // no stream: a directory or an empty file
}

// encodeHeader builds the plain (not yet compressed) archive header.
func encodeHeader(entries []headerEntry, streams []stream) []byte {
	h := &headerBuf{}
	h.byte(idHeader)
	if len(streams) > 0 {
		h.byte(idMainStreamsInfo)
		h.streamsInfo(0, streams, false)
	}
	h.byte(idFilesInfo)
	h.number(uint64(len(entries)))

	emptyStream := make([]bool, len(entries))
	var emptyFile []bool
	anyEmpty, anyEmptyFile := false, false
	for i, e := range entries {
		if e.empty {
			emptyStream[i], anyEmpty = true, true
			emptyFile = append(emptyFile, !e.isDir)
			anyEmptyFile = anyEmptyFile || !e.isDir
		}
	}
	if anyEmpty {
		sub := &headerBuf{}
		sub.bitVector(emptyStream)
		h.byte(idEmptyStream)
		h.number(uint64(len(sub.b)))
		h.bytes(sub.b)
		if anyEmptyFile {
			sub = &headerBuf{}
			sub.bitVector(emptyFile)
			h.byte(idEmptyFile)
			h.number(uint64(len(sub.b)))
			h.bytes(sub.b)
		}
	}

	names := &headerBuf{}
	names.byte(0) // not external
	for _, e := range entries {
		for _, u := range utf16.Encode([]rune(e.name)) {
			names.b = binary.LittleEndian.AppendUint16(names.b, u)
		}
		names.b = append(names.b, 0, 0)
	}
	h.byte(idName)
	h.number(uint64(len(names.b)))
	h.bytes(names.b)

	defined := make([]bool, len(entries))
	allDefined := true
	times := &headerBuf{}
	for i, e := range entries {
		defined[i] = !e.modified.IsZero()
		allDefined = allDefined && defined[i]
	}
	if allDefined {
		times.byte(1)
	} else {
		times.byte(0)
		times.bitVector(defined)
	}
	times.byte(0) // not external
	anyTime := false
	for i, e := range entries {
		if defined[i] {
			times.uint64(fileTime(e.modified))
			anyTime = true
		}
	}
	if anyTime {
		h.byte(idMTime)
		h.number(uint64(len(times.b)))
		h.bytes(times.b)
	}

	h.byte(idWinAttributes)
	h.number(uint64(2 + 4*len(entries)))
	h.byte(1) // all defined
	h.byte(0) // not external
	for _, e := range entries {
		h.uint32(e.attrib)
	}
	h.byte(idEnd)

	h.byte(idEnd)
	return h.b
}

// encodedHeader is the small header that points at the compressed one.
func encodedHeader(packPos uint64, s stream) []byte {
	h := &headerBuf{}
	h.byte(idEncodedHeader)
	h.streamsInfo(packPos, []stream{s}, true)
	return h.b
}

// signatureHeader is the archive's first 32 bytes.
func signatureHeader(nextOffset uint64, next []byte) []byte {
	b := make([]byte, signatureHeaderSize)
	copy(b, signature[:])
	b[6], b[7] = 0, 4 // format version 0.4
	binary.LittleEndian.PutUint64(b[12:], nextOffset)
	binary.LittleEndian.PutUint64(b[20:], uint64(len(next)))
	binary.LittleEndian.PutUint32(b[28:], crc32.ChecksumIEEE(next))
	binary.LittleEndian.PutUint32(b[8:], crc32.ChecksumIEEE(b[12:32]))
	return b
}

// fileTime converts to Windows FILETIME: 100 ns ticks since 1601-01-01 UTC.
func fileTime(t time.Time) uint64 {
	const epochDelta = 116444736000000000 // 1601 to 1970 in ticks
	return uint64(t.UnixNano()/100 + epochDelta)
}
