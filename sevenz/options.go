package sevenz

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"

	"sinp.occitanie.fr/sevenz/internal/lzma"
)

// Codec is the compression method of an archive's files.
type Codec int

const (
	// LZMA2 is the default: this package's fast LZMA encoder, split into
	// blocks compressed in parallel.
	LZMA2 Codec = iota
	// Deflate uses klauspost/compress, blocks compressed in parallel and
	// chained by their last 32 KiB.
	Deflate
	// Copy stores the bytes as they are.
	Copy
)

func (c Codec) String() string {
	switch c {
	case LZMA2:
		return "lzma2"
	case Deflate:
		return "deflate"
	case Copy:
		return "copy"
	}
	return fmt.Sprintf("Codec(%d)", int(c))
}

// ParseCodec reads a codec name as operators type it: lzma2, deflate or copy.
func ParseCodec(s string) (Codec, error) {
	switch strings.ToLower(s) {
	case "lzma2", "":
		return LZMA2, nil
	case "deflate":
		return Deflate, nil
	case "copy", "store":
		return Copy, nil
	}
	return 0, fmt.Errorf("sevenz: unknown codec %q (want lzma2, deflate or copy)", s)
}

// Defaults, chosen from the measurements recorded in README.md.
const (
	DefaultLZMA2Level   = 2
	DefaultDeflateLevel = 5
	DefaultBlockSize    = 8 << 20
	DefaultKeyCycles    = 19
	// MinPasswordLength is the national observation service's rule for
	// sensitive exports, in characters.
	MinPasswordLength = 10
)

// Options configure a Writer. The zero value writes LZMA2 at the default
// level, unencrypted, using every core.
type Options struct {
	Codec Codec
	// Level is 1 (fastest) to 9 (smallest); 0 means the codec's default.
	// Copy ignores it.
	Level int
	// Password, when set, encrypts the files and the header with AES-256.
	// It must have at least MinPasswordLength characters.
	Password string
	// KeyCycles is log2 of the key derivation's SHA-256 rounds; 0 means
	// DefaultKeyCycles (7-Zip's own). At most 24.
	KeyCycles int
	// TempDir holds spooled streams; "" means os.TempDir().
	TempDir string
	// Concurrency is the number of compressing goroutines; 0 means GOMAXPROCS.
	Concurrency int
	// BlockSize is the unit of parallel compression, in bytes; 0 means
	// DefaultBlockSize. Memory grows with it (see the package doc).
	BlockSize int
	// Window is how many bytes of a file's data before a block the block may
	// refer to (LZMA2 only): blocks still compress in parallel, but a string
	// repeated from earlier blocks (an area's polygon on F1's blurred rows)
	// is found. 0 means the block size; a negative value none, each block
	// then starting afresh as with 7-Zip's multithreaded LZMA2. Window +
	// BlockSize is at most 64 MiB. Deflate always uses the previous 32 KiB,
	// its format's limit.
	Window int
	// SpoolInput keeps at most 64 KiB of each open file in memory: the
	// rest of its block waits in a temporary file in TempDir until a
	// compressing goroutine reads it back. Memory then no longer grows with
	// the number of files open at once (see the package doc).
	SpoolInput bool
	// Pool, when set, compresses this Writer's blocks with goroutines and a
	// bound on blocks in flight shared with other Writers; Concurrency is
	// then the Pool's. Without it the Writer starts its own.
	Pool *Pool
	// Rand supplies the salt and IVs of encrypted archives; nil means
	// crypto/rand. A fixed source makes encrypted archives reproducible.
	Rand io.Reader
}

var (
	// ErrPasswordTooShort refuses passwords that sensitive exports may not use.
	ErrPasswordTooShort = fmt.Errorf("sevenz: password must have at least %d characters", MinPasswordLength)
	// ErrEntryOpen is returned by Writer.Close while a file is still being written.
	ErrEntryOpen = errors.New("sevenz: an entry is still open")
	// ErrClosed is returned when using a closed Writer or entry.
	ErrClosed = errors.New("sevenz: writer closed")
)

// normalized fills the defaults in and checks the options.
func (o Options) normalized() (Options, error) {
	switch o.Codec {
	case LZMA2:
		if o.Level == 0 {
			o.Level = DefaultLZMA2Level
		}
	case Deflate:
		if o.Level == 0 {
			o.Level = DefaultDeflateLevel
		}
	case Copy:
	default:
		return o, fmt.Errorf("sevenz: unknown codec %v", o.Codec)
	}
	if o.Level < 0 || o.Level > 9 {
		return o, fmt.Errorf("sevenz: level %d out of range 1..9", o.Level)
	}
	if o.Password != "" && utf8.RuneCountInString(o.Password) < MinPasswordLength {
		return o, ErrPasswordTooShort
	}
	if o.KeyCycles == 0 {
		o.KeyCycles = DefaultKeyCycles
	}
	if o.KeyCycles < 1 || o.KeyCycles > maxKeyCycles {
		return o, fmt.Errorf("sevenz: key cycles %d out of range 1..%d", o.KeyCycles, maxKeyCycles)
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.Concurrency <= 0 {
		o.Concurrency = runtime.GOMAXPROCS(0)
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockSize < 64<<10 || o.BlockSize > 1<<30 {
		return o, fmt.Errorf("sevenz: block size %d out of range 64 KiB..1 GiB", o.BlockSize)
	}
	switch {
	case o.Codec != LZMA2 || o.Window < 0:
		o.Window = 0
	case o.Window == 0:
		// The whole previous block, if it fits with the block.
		o.Window = min(o.BlockSize, max(0, lzma.MaxContinued-o.BlockSize))
	}
	if o.Window > 0 && o.Window+o.BlockSize > lzma.MaxContinued {
		return o, fmt.Errorf("sevenz: window %d with blocks of %d: at most %d in all", o.Window, o.BlockSize, lzma.MaxContinued)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o, nil
}
