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
type job struct {
	e     *entry
	seq   int
	data  []byte
	prev  []byte // deflate: the end of the entry's previous block
	final bool   // the entry's last block: close the stream
	out   []byte
}

// blockCoder compresses blocks; each compressing goroutine owns one, so the
// bytes produced never depend on which goroutine ran a block.
type blockCoder interface {
	compress(dst []byte, j *job) ([]byte, error)
}

func newBlockCoder(o Options) blockCoder {
	switch o.Codec {
	case LZMA2:
		return &lzma2Coder{enc: lzma.NewEncoder(lzma.Level(o.Level))}
	case Deflate:
		return &deflateCoder{level: o.Level}
	default:
		return copyCoder{}
	}
}

// folderCoder describes the compression coder of a stream whose largest
// block has maxBlock bytes.
func folderCoder(o Options, maxBlock int) coderSpec {
	switch o.Codec {
	case LZMA2:
		window := lzma.Level(o.Level).Window(maxBlock)
		return coderSpec{id: methodLZMA2, props: []byte{lzma.DictProp(window)}}
	case Deflate:
		return coderSpec{id: methodDeflate}
	default:
		return coderSpec{id: methodCopy}
	}
}

type lzma2Coder struct{ enc *lzma.Encoder }

// compress encodes the block with a dictionary reset, so that blocks
// compressed apart concatenate into one LZMA2 stream, as 7-Zip's own
// multithreaded LZMA2 does.
func (c *lzma2Coder) compress(dst []byte, j *job) ([]byte, error) {
	if len(j.data) > 0 {
		dst = c.enc.AppendBlock(dst, j.data)
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
func (c *deflateCoder) compress(dst []byte, j *job) ([]byte, error) {
	c.sw.b = dst
	if c.w == nil {
		w, err := flate.NewWriterDict(&c.sw, c.level, j.prev)
		if err != nil {
			return nil, fmt.Errorf("sevenz: deflate: %w", err)
		}
		c.w = w
	} else {
		c.w.ResetDict(&c.sw, j.prev)
	}
	if _, err := c.w.Write(j.data); err != nil {
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

func (copyCoder) compress(dst []byte, j *job) ([]byte, error) {
	return append(dst, j.data...), nil
}

// work runs one compressing goroutine until the job queue closes.
func (w *Writer) work() {
	defer w.workers.Done()
	coder := newBlockCoder(w.opts)
	for j := range w.jobs {
		out, err := coder.compress(w.outBuf(), j)
		j.out = out
		j.e.deliver(j, err)
	}
}
