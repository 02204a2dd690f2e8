package sevenz

import (
	"fmt"

	"github.com/klauspost/compress/flate"

	"sinp.occitanie.fr/sevenz/internal/lzma"
)

// deflateWindow is how much of the previous block a deflate block may refer
// to: chaining blocks this way keeps the ratio of one long stream.
const deflateWindow = 32 << 10

var (
	methodLZMA2   = []byte{0x21}
	methodDeflate = []byte{0x04, 0x01, 0x08}
	methodCopy    = []byte{0x00}
)

// job is one block of one entry on its way through a compressing goroutine.
// Its input is history (the end of the entry's data before the block, which
// the block may refer to but does not contain) then the block itself: in
// memory, in data, or read back from the entry's spool files.
type job struct {
	e       *entry
	seq     int
	start   int64 // the block's offset in the entry
	history int   // bytes of history before the block in its input
	data    []byte
	pooled  bool    // data came from the pool's free list
	pieces  []piece // spooled input, before data
	final   bool    // the entry's last block: close the stream
	out     []byte
}

// coderKind is what a compressing goroutine needs to know to pick a coder.
type coderKind struct {
	codec   Codec
	level   int
	history bool // LZMA2 blocks continue the stream and use history
}

func kindOf(o *Options) coderKind {
	return coderKind{codec: o.Codec, level: o.Level, history: o.Codec == LZMA2 && o.Window > 0}
}

// historyOf is how many bytes before a block its coder may use.
func historyOf(o *Options) int {
	switch o.Codec {
	case LZMA2:
		return o.Window
	case Deflate:
		return deflateWindow
	}
	return 0
}

// blockCoder compresses blocks; each compressing goroutine owns one per
// kind, so the bytes produced never depend on which goroutine ran a block.
type blockCoder interface {
	// compress appends the compressed block to dst; data is the job's
	// input, history first.
	compress(dst []byte, j *job, data []byte) ([]byte, error)
}

func newBlockCoder(k coderKind) blockCoder {
	switch k.codec {
	case LZMA2:
		p := lzma.Level(k.level)
		return &lzma2Coder{enc: lzma.NewEncoder(p), history: k.history}
	case Deflate:
		return &deflateCoder{level: k.level}
	default:
		return copyCoder{}
	}
}

// folderCoder describes the compression coder of a stream whose largest
// block, with its history, has maxInput bytes.
func folderCoder(o Options, maxInput int) coderSpec {
	switch o.Codec {
	case LZMA2:
		dict := lzma.Level(o.Level).Window(maxInput)
		if o.Window > 0 {
			// Matches reach anywhere in a block's input.
			dict = max(4096, maxInput)
		}
		return coderSpec{id: methodLZMA2, props: []byte{lzma.DictProp(dict)}}
	case Deflate:
		return coderSpec{id: methodDeflate}
	default:
		return coderSpec{id: methodCopy}
	}
}

type lzma2Coder struct {
	enc     *lzma.Encoder
	history bool
}

// compress encodes the block so that blocks compressed apart concatenate
// into one LZMA2 stream. Without history each block starts with a
// dictionary reset, as 7-Zip's own multithreaded LZMA2 does; with history
// the decoder's dictionary, the entry decoded so far, already holds it, and
// the block only resets the coder's state.
func (c *lzma2Coder) compress(dst []byte, j *job, data []byte) ([]byte, error) {
	switch {
	case len(data) == j.history:
	case c.history:
		dst = c.enc.AppendContinued(dst, data, j.history, j.start)
	default:
		dst = c.enc.AppendBlock(dst, data)
	}
	if j.final {
		dst = lzma.AppendEnd(dst)
	}
	return dst, nil
}

type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

type deflateCoder struct {
	level int
	w     *flate.Writer
	sw    sliceWriter
}

// compress writes a byte-aligned piece of one deflate stream: a sync flush
// ends every block but the last, which carries the final-block bit.
func (c *deflateCoder) compress(dst []byte, j *job, data []byte) ([]byte, error) {
	dict, block := data[:j.history], data[j.history:]
	c.sw.b = dst
	if c.w == nil {
		w, err := flate.NewWriterDict(&c.sw, c.level, dict)
		if err != nil {
			return nil, fmt.Errorf("sevenz: deflate: %w", err)
		}
		c.w = w
	} else {
		c.w.ResetDict(&c.sw, dict)
	}
	if _, err := c.w.Write(block); err != nil {
		return nil, fmt.Errorf("sevenz: deflate: %w", err)
	}
	var err error
	if j.final {
		err = c.w.Close()
	} else {
		err = c.w.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("sevenz: deflate: %w", err)
	}
	out := c.sw.b
	c.sw.b = nil
	return out, nil
}

type copyCoder struct{}

func (copyCoder) compress(dst []byte, j *job, data []byte) ([]byte, error) {
	return append(dst, data[j.history:]...), nil
}
