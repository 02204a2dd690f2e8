// Package lzma is a fast LZMA2 encoder for the 7z writer: a hash-chain match
// finder with short chains, greedy parsing with one step of lazy evaluation
// and cheap repeat-distance checks (columnar CSV repeats the previous row's
// distance constantly). It compresses blocks that can be encoded on several
// cores and concatenated into one LZMA2 stream: either independent blocks,
// each starting with a dictionary reset (AppendBlock), or blocks that
// continue the stream and may refer to the end of the preceding data
// (AppendContinued), whose first chunk resets the coder's state but keeps
// the decoder's dictionary.
//
// It trades the last percents of ratio of 7-Zip's optimal parser for speed;
// the decoder side is any standard LZMA2 decoder.
package lzma

import (
	"encoding/binary"
	"math/bits"
)

// Params tune the encoder's speed against its ratio.
type Params struct {
	// DictLog is log2 of the window: the largest distance a match may have.
	DictLog uint
	// Depth is the number of hash-chain candidates examined per position.
	Depth int
	// Nice is the match length at which the search stops.
	Nice int
	// Lazy checks the next position before taking a match shorter than
	// LazyBelow (0: Nice); longer matches rarely lose to the next position's.
	Lazy      bool
	LazyBelow int
	// Accel searches only every other position once a run of literals is
	// long (random identifiers, coordinates): faster, slightly larger.
	Accel bool
	// HashLog is log2 of the number of hash buckets (0: 16). Each bucket
	// keeps the most recent positions of its hashes, so it bounds how far
	// back matches are found in practice, whatever the window.
	HashLog uint
}

// Level returns the parameters of a compression level from 1 (fastest) to 9
// (6 and 7 are the same, as are 8 and 9). The table comes from measurements on the
// platform's CSV (see the sevenz README). Speed is bound by cache misses on
// the buckets and the data, so fewer candidates is what makes a level fast.
func Level(level int) Params {
	switch {
	case level <= 1:
		return Params{DictLog: 22, Depth: 4, Nice: 128, Accel: true}
	case level == 2:
		return Params{DictLog: 22, Depth: 4, Nice: 128, Lazy: true, LazyBelow: 16, Accel: true}
	case level == 3:
		return Params{DictLog: 23, Depth: 8, Nice: maxMatchLen, Lazy: true, LazyBelow: 16, Accel: true}
	case level == 4:
		return Params{DictLog: 23, Depth: 8, Nice: maxMatchLen, Lazy: true}
	case level == 5:
		return Params{DictLog: 23, Depth: 16, Nice: maxMatchLen, Lazy: true}
	case level <= 7:
		return Params{DictLog: 23, Depth: 32, Nice: maxMatchLen, Lazy: true}
	default:
		return Params{DictLog: 24, Depth: 64, Nice: maxMatchLen, Lazy: true}
	}
}

// DictSize is the largest window in bytes.
func (p Params) DictSize() int { return 1 << p.DictLog }

// Window is the window used for a block of n bytes: no larger than the block
// needs, so that small files announce a small dictionary to decoders.
func (p Params) Window(n int) int {
	w := p.DictSize()
	if w > n {
		w = max(1<<12, 1<<bits.Len(uint(n-1)))
		w = min(w, p.DictSize())
	}
	return w
}

const (
	defaultHashLog = 16

	maxChunkUnpacked = 1 << 21
	maxChunkPacked   = 1 << 16
	maxStoredChunk   = 1 << 16
	// symbolMargin bounds the bytes one symbol can add to a chunk.
	symbolMargin = 64
)

// Encoder compresses blocks into LZMA2 chunks. It keeps its tables between
// blocks to avoid allocations; it is not safe for concurrent use.
type Encoder struct {
	p       Params
	m       model
	rc      rangeEncoder
	rows    []uint32    // hash buckets of recent positions, newest first
	rows4   [][4]uint32 // the buckets instead of rows when ways is 4
	ways    int
	hashLog uint
	shift   uint // 64 - hashLog: the hash's top bits pick the bucket
	posBits uint // low bits of a bucket slot that hold a position
	posOff  int  // stream position of buf[0], for the position state
	window  int
	chunk   []byte
	ins     int // next position to insert into the hash buckets
	// touched keeps a load the compiler must not drop.
	touched uint32
}

// NewEncoder returns an encoder with the given parameters.
func NewEncoder(p Params) *Encoder {
	if p.Depth < 1 {
		p.Depth = 1
	}
	if p.Nice < 8 {
		p.Nice = 8
	}
	if p.Nice > maxMatchLen {
		p.Nice = maxMatchLen
	}
	if p.LazyBelow == 0 || p.LazyBelow > p.Nice {
		p.LazyBelow = p.Nice
	}
	if p.HashLog == 0 {
		p.HashLog = defaultHashLog
	}
	p.HashLog = min(max(p.HashLog, 10), 24)
	ways := 4
	for ways < p.Depth && ways < 64 {
		ways *= 2
	}
	e := &Encoder{
		p:       p,
		ways:    ways,
		hashLog: p.HashLog,
		shift:   64 - p.HashLog,
		chunk:   make([]byte, 0, maxChunkPacked+symbolMargin),
	}
	if ways == 4 {
		e.rows4 = make([][4]uint32, 1<<p.HashLog)
	} else {
		e.rows = make([]uint32, ways<<p.HashLog)
	}
	return e
}

func le16(b []byte, i int) uint16 { return binary.LittleEndian.Uint16(b[i:]) }
func le32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }

// hashAt hashes the 8 bytes at i. Hashing 8 bytes rather than 4 keeps the
// buckets for matches worth their distance: on CSV, short far matches cost
// more than the literals they replace. The top bits pick the bucket, the low
// bits serve as a check.
func hashAt(b []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(b[i:]) * 0x9E3779B97F4A7C15
}

func (e *Encoder) bucket(h uint64) int { return int(h >> (e.shift & 63)) }

// matchLen is the length of the common prefix of buf[a:] and buf[b:], at most
// max; b+max must not exceed len(buf) and a < b.
func matchLen(buf []byte, a, b, max int) int {
	t := buf[b : b+max]
	s := buf[a:][:len(t)]
	n := 0
	for ; n+8 <= len(t); n += 8 {
		x := binary.LittleEndian.Uint64(s[n:]) ^ binary.LittleEndian.Uint64(t[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
	}
	for n < len(t) && s[n] == t[n] {
		n++
	}
	return n
}

// insert adds positions [e.ins, to) to the hash buckets.
func (e *Encoder) insert(buf []byte, to int) {
	to = min(to, len(buf)-7)
	if e.ways == 4 {
		// Most positions go in here (the ends of every match): the loop
		// keeps the table and shifts in registers rather than calling push.
		rows, shift, pb := e.rows4, e.shift&63, e.posBits&31
		for i := e.ins; i < to; i++ {
			h := hashAt(buf, i)
			push4(rows, int(h>>shift), uint32(h>>32)<<pb|uint32(i+1))
		}
	} else {
		for i := e.ins; i < to; i++ {
			e.push(hashAt(buf, i), i)
		}
	}
	e.ins = max(e.ins, to)
}

// historyStride and historyDense tune how history is fed to the match
// finder: all of its last historyDense bytes, where short matches are worth
// their distance, and one position in historyStride before that, where only
// long repeats (a polygon, a row's shared columns) pay, and are found a few
// bytes late at worst. Inserting every position would cost a third of the
// time of encoding the block. On an extract's 154 MB points file, stride 8
// with 128 KiB dense took 7% less CPU than stride 4 with 256 KiB for 0.03%
// more bytes (5 alternating runs of sinp pack).
var (
	historyStride = 8
	historyDense  = 128 << 10
)

// prime inserts the history buf[:start] into the match finder.
func (e *Encoder) prime(buf []byte, start int) {
	dense := max(0, start-historyDense)
	if lim := len(buf) - 7; dense > lim {
		dense = lim
	}
	if e.ways == 4 {
		rows, shift, pb := e.rows4, e.shift&63, e.posBits&31
		for i := 0; i < dense; i += historyStride {
			h := hashAt(buf, i)
			push4(rows, int(h>>shift), uint32(h>>32)<<pb|uint32(i+1))
		}
	} else {
		for i := 0; i < dense; i += historyStride {
			e.push(hashAt(buf, i), i)
		}
	}
	e.ins = dense
	e.insert(buf, start)
}

// accelAfter is the run of literals after which Accel starts skipping.
const accelAfter = 12

// skipKeep is how many positions are inserted at each end of a match.
const skipKeep = 8

// skip inserts the positions covered by a match. Inside long matches only
// the ends are inserted: the middle of a copy rarely starts a better match,
// and fewer insertions keep older, useful positions in the buckets.
func (e *Encoder) skip(buf []byte, to int) {
	if to-e.ins > 2*skipKeep {
		e.insert(buf, e.ins+skipKeep)
		e.ins = to - skipKeep
	}
	e.insert(buf, to)
}

// A bucket slot packs a position plus one (0 marks an empty slot) with check
// bits of the hash that spare reading the data of most colliding candidates:
// 8 bits for buffers below 16 MiB (minPosBits), fewer for longer ones.
const (
	minPosBits = 24
	maxPosBits = 26
)

// slotOf takes the check from the hash's middle bits: the low bits of a
// multiplicative hash depend on the first bytes only.
func (e *Encoder) slotOf(h uint64, pos int) uint32 { return uint32(h>>32)<<e.posBits | uint32(pos+1) }

// push makes pos the most recent position of its bucket.
func (e *Encoder) push(h uint64, pos int) {
	slot := e.slotOf(h, pos)
	switch b := e.bucket(h); e.ways {
	case 4:
		push4(e.rows4, b, slot)
	case 8:
		r := (*[8]uint32)(e.rows[b*8:])
		r[7], r[6], r[5], r[4], r[3], r[2], r[1], r[0] = r[6], r[5], r[4], r[3], r[2], r[1], r[0], slot
	default:
		r := e.rows[b*e.ways:][:e.ways]
		copy(r[1:], r[:len(r)-1])
		r[0] = slot
	}
}

// push4 makes slot the most recent of bucket b in a table of 4 ways.
func push4(rows [][4]uint32, b int, slot uint32) {
	r := &rows[b]
	r[3], r[2], r[1], r[0] = r[2], r[1], r[0], slot
}

// Gains are in quarter bits saved against coding the bytes as literals,
// from typical prices on CSV: a literal costs about 4.75 bits, a repeat
// match 8.5 to 10 bits, a new match about 9 bits plus one per distance bit.
const literalQ = 19

func mainGain(length, dist int) int { return literalQ*length - 36 - 4*bits.Len(uint(dist)) }

func repGain(length, idx int) int {
	if idx == 0 {
		return literalQ*length - 34
	}
	return literalQ*length - 40
}

// find returns the most profitable match (of at least 4 bytes) for pos, then
// inserts pos. All positions before pos must be inserted and pos+4 <= len(buf).
func (e *Encoder) find(buf []byte, pos, max int) (length, dist, gain int) {
	h := hashAt(buf, pos)
	b := e.bucket(h)
	e.ins = pos + 1
	pb := e.posBits & 31
	slot := uint32(h>>32)<<pb | uint32(pos+1)
	if e.ways != 4 {
		if pos+9 <= len(buf) {
			e.touched += e.rows[e.bucket(hashAt(buf, pos+1))*e.ways]
		}
		row := e.rows[b*e.ways:][:e.ways]
		if max >= 4 {
			length, dist, gain = e.best(buf, pos, max, row, slot)
		}
		e.push(h, pos)
		return length, dist, gain
	}
	// Most searches find no candidate whose check bits agree (literals):
	// they cost a few comparisons, and best's loop only runs for the others.
	// Touch the next position's bucket now: the next search is usually
	// there, and the cache miss then overlaps this search.
	if pos+9 <= len(buf) {
		e.touched += e.rows4[e.bucket(hashAt(buf, pos+1))][0]
	}
	r := &e.rows4[b]
	row := *r
	r[3], r[2], r[1], r[0] = row[2], row[1], row[0], slot
	if max < 4 || (row[0]^slot)>>pb != 0 && (row[1]^slot)>>pb != 0 && (row[2]^slot)>>pb != 0 && (row[3]^slot)>>pb != 0 {
		return 0, 0, 0
	}
	return e.best(buf, pos, max, row[:], slot)
}

// best returns the most profitable match at pos among the candidates of
// row, newest first, whose check bits agree with slot's.
func (e *Encoder) best(buf []byte, pos, max int, row []uint32, slot uint32) (length, dist, gain int) {
	pb := e.posBits & 31
	longest := 3
	want := le32(buf, pos)
	for _, s := range row {
		cand := int(s&(1<<pb-1)) - 1
		if s == 0 || pos-cand >= e.window {
			break // older entries are older still
		}
		if (s^slot)>>pb == 0 && buf[cand+longest] == buf[pos+longest] && le32(buf, cand) == want {
			if l := 4 + matchLen(buf, cand+4, pos+4, max-4); l > longest {
				longest = l
				if g := mainGain(l, pos-cand); g > gain {
					length, dist, gain = l, pos-cand, g
				}
				if l >= e.p.Nice || l == max {
					break
				}
			}
		}
	}
	return length, dist, gain
}

// bestRep returns the longest repeat match at pos. It runs at every
// position and most distances fail on the first byte, so that comparison
// comes first and the rest of the match is measured apart.
func (e *Encoder) bestRep(buf []byte, pos, avail int) (length, idx int) {
	if avail < 2 {
		return 0, 0
	}
	c0, c1 := buf[pos], buf[pos+1]
	for i, r := range e.m.reps {
		j := pos - int(r) - 1
		if j < 0 || buf[j] != c0 || buf[j+1] != c1 {
			continue
		}
		if l := 2 + matchLen(buf, j+2, pos+2, avail-2); l > length {
			length, idx = l, i
		}
	}
	return length, idx
}

// AppendBlock compresses block as LZMA2 chunks that start with a dictionary
// reset and appends them to dst, without the end-of-stream marker. Matches
// reach at most Params.Window(len(block)) back.
func (e *Encoder) AppendBlock(dst, buf []byte) []byte {
	for len(buf) > MaxBlock {
		dst = e.appendBlock(dst, buf[:MaxBlock], 0, 0, e.p.Window(MaxBlock))
		buf = buf[MaxBlock:]
	}
	return e.appendBlock(dst, buf, 0, 0, e.p.Window(len(buf)))
}

// MaxBlock is the largest block encoded with one dictionary; AppendBlock
// cuts longer ones.
const MaxBlock = 1<<minPosBits - 2

// MaxContinued is the largest buffer, history included, that
// AppendContinued takes.
const MaxContinued = 1<<maxPosBits - 2

// AppendContinued compresses buf[start:] as LZMA2 chunks that continue a
// stream whose decoded data so far ends with buf[:start] (the history):
// matches may reach anywhere in buf, so the decoder's dictionary must hold
// len(buf) bytes. The history is only fed to the match finder. The first
// chunk resets the coder's state and properties but not the dictionary, so
// blocks encoded apart still concatenate; with start 0 it resets the
// dictionary and the block may begin a stream. streamPos is the position of
// buf[start] since the stream's dictionary reset: LZMA's position state
// depends on it.
func (e *Encoder) AppendContinued(dst, buf []byte, start int, streamPos int64) []byte {
	if len(buf) > MaxContinued || start < 0 || start > len(buf) {
		panic("lzma: AppendContinued: buffer too long or start out of range")
	}
	return e.appendBlock(dst, buf, start, int(streamPos-int64(start))&(posStates-1), max(len(buf), 1))
}

// appendBlock encodes buf[start:] with matches at most window back; posOff
// is the stream position of buf[0] modulo posStates.
func (e *Encoder) appendBlock(dst, buf []byte, start, posOff, window int) []byte {
	e.window = window
	e.posOff = posOff
	e.posBits = uint(max(minPosBits, bits.Len(uint(len(buf)+1))))
	clear(e.rows)
	clear(e.rows4)
	e.ins = 0
	e.m.reset()
	e.prime(buf, start)

	n := len(buf)
	pos := start
	dictReset, needProps, needState := start == 0, true, true
	// The lazy step's search at pos+1 is kept for the next symbol.
	cached, cachedLen, cachedDist, cachedGain := false, 0, 0, 0
	misses := 0 // positions since the last match
	for pos < n {
		chunkStart := pos
		e.rc.reset(e.chunk[:0])
		limit := min(n, chunkStart+maxChunkUnpacked)
		for pos < limit && e.rc.pending() <= maxChunkPacked-symbolMargin {
			avail := min(limit-pos, maxMatchLen)

			repLen, repIdx := e.bestRep(buf, pos, avail)
			repG := 0
			if repLen >= 2 {
				repG = repGain(repLen, repIdx)
			}

			mainLen, mainDist, mainG := 0, 0, 0
			if e.p.Accel && misses >= accelAfter && misses&1 == 1 && !cached {
				e.ins = max(e.ins, pos+1) // skipped: neither searched nor indexed
			} else if cached {
				mainLen, mainDist, mainG, cached = cachedLen, cachedDist, cachedGain, false
				if mainLen > avail {
					mainLen, mainG = avail, mainGain(avail, mainDist)
				}
			} else if pos+8 <= n && repLen < e.p.Nice {
				if e.ins < pos {
					e.insert(buf, pos)
				}
				mainLen, mainDist, mainG = e.find(buf, pos, avail)
			}

			if repG > 0 && (repG >= mainG || repLen >= e.p.Nice) {
				e.rep(buf, pos, repIdx, repLen)
				pos += repLen
				if repLen == maxMatchLen {
					pos = e.repRun(buf, pos, limit)
				}
				misses = 0
				continue
			}

			if mainG > 0 {
				if e.p.Lazy && mainLen < e.p.LazyBelow && pos+9 <= n && avail > mainLen {
					if e.ins < pos+1 {
						e.insert(buf, pos+1)
					}
					nl, nd, ng := e.find(buf, pos+1, avail-1)
					cached, cachedLen, cachedDist, cachedGain = true, nl, nd, ng
					// The literal at pos costs about as much as a literal, so a
					// match at pos+1 only has to save more.
					if ng > mainG {
						e.literal(buf, pos)
						pos++
						continue
					}
					if rl, ri := e.bestRep(buf, pos+1, avail-1); rl >= 2 && repGain(rl, ri) > mainG {
						e.literal(buf, pos)
						pos++
						continue
					}
					cached = false
				}
				e.match(buf, pos, mainDist, mainLen)
				pos += mainLen
				if mainLen == maxMatchLen {
					pos = e.repRun(buf, pos, limit)
				}
				misses = 0
				continue
			}

			if d := int(e.m.reps[0]) + 1; d <= pos && buf[pos] == buf[pos-d] && e.m.state < literalStatesLimit {
				e.shortRep(pos)
			} else {
				e.literal(buf, pos)
			}
			pos++
			misses++
			if e.ways == 4 {
				pos, misses, cached, cachedLen, cachedDist, cachedGain = e.literalRun(buf, pos, limit, misses)
			}
		}
		e.rc.flush()
		packed := e.rc.out
		e.chunk = packed[:0]
		unpacked := pos - chunkStart

		if len(packed) >= unpacked {
			// Incompressible: store it, and restart the model for the next chunk.
			dst = appendStored(dst, buf[chunkStart:pos], dictReset)
			if dictReset {
				needProps = true
			}
			dictReset, needState = false, true
			e.m.reset()
			continue
		}
		var control byte
		switch {
		case dictReset:
			control = 0xE0
		case needProps:
			control = 0xC0
		case needState:
			control = 0xA0
		default:
			control = 0x80
		}
		u, c := unpacked-1, len(packed)-1
		dst = append(dst, control|byte(u>>16), byte(u>>8), byte(u), byte(c>>8), byte(c))
		if control >= 0xC0 {
			dst = append(dst, propsByte)
		}
		dst = append(dst, packed...)
		dictReset, needProps, needState = false, false, false
	}
	return dst
}

// literalRun is appendBlock's loop for the literals that follow a literal
// while nothing else is possible: no repeat distance matches two bytes and
// the search finds nothing. It codes them with the coder's registers in
// locals and no call on its common path, since every call makes the
// compiler spill all live values. It returns at the first position that may
// be coded otherwise: untouched, or, if it was searched (found), with the
// search's result for appendBlock to take instead of searching again.
// It requires 4-way buckets and pos > 0.
func (e *Encoder) literalRun(buf []byte, pos, limit, misses int) (next, nmisses int, found bool, length, dist, gain int) {
	m := &e.m
	rows, shift, pb := e.rows4, e.shift&63, e.posBits&31
	accel := e.p.Accel
	rng, low := e.rc.rng, e.rc.low
	// Literals and short repeats leave the distances as they are.
	d0, d1, d2, d3 := int(m.reps[0])+1, int(m.reps[1])+1, int(m.reps[2])+1, int(m.reps[3])+1
	// stop keeps 4 bytes before limit and 9 before the end of buf.
	stop := min(limit-3, len(buf)-8)
	for pos < stop && e.rc.pending() <= maxChunkPacked-symbolMargin {
		// bestRep's test: does any distance match the first two bytes?
		c := le16(buf, pos)
		if j := pos - d0; j >= 0 && le16(buf, j) == c {
			break
		}
		if j := pos - d1; j >= 0 && le16(buf, j) == c {
			break
		}
		if j := pos - d2; j >= 0 && le16(buf, j) == c {
			break
		}
		if j := pos - d3; j >= 0 && le16(buf, j) == c {
			break
		}
		if accel && misses >= accelAfter && misses&1 == 1 {
			e.ins = max(e.ins, pos+1)
		} else {
			// find, for 4 ways.
			if e.ins < pos {
				e.insert(buf, pos)
			}
			h := hashAt(buf, pos)
			e.ins = pos + 1
			slot := uint32(h>>32)<<pb | uint32(pos+1)
			e.touched += rows[int(hashAt(buf, pos+1)>>shift)][0]
			r := &rows[int(h>>shift)]
			row := *r
			r[3], r[2], r[1], r[0] = row[2], row[1], row[0], slot
			if (row[0]^slot)>>pb == 0 || (row[1]^slot)>>pb == 0 || (row[2]^slot)>>pb == 0 || (row[3]^slot)>>pb == 0 {
				if l, d, g := e.best(buf, pos, min(limit-pos, maxMatchLen), row[:], slot); g > 0 {
					e.rc.rng, e.rc.low = rng, low
					return pos, misses, true, l, d, g
				}
			}
		}
		st := m.state
		if d0 <= pos && buf[pos] == buf[pos-d0] && st < literalStatesLimit {
			e.rc.rng, e.rc.low = rng, low
			e.shortRep(pos)
			rng, low = e.rc.rng, e.rc.low
		} else {
			// The isMatch bit, a 0.
			flag := &m.isMatch[st*posStates+uint32(pos+e.posOff)&(posStates-1)]
			probs := (*[0x300]prob)(m.literal[0x300*(int(buf[pos-1])>>(8-lc)):])
			sym := uint32(buf[pos])
			if st < literalStatesLimit {
				// rangeEncoder.literal, inline.
				pv := uint32(*flag)
				rng = (rng >> probBits) * pv
				*flag = adapt(pv, 0)
				if rng < topValue {
					rng <<= 8
					low = e.rc.shiftOut(low)
				}
				// sym's bits from the top, below a marker bit: the tree's
				// index is what is above the bit being coded.
				v := sym | 0x100
				for v < 0x10000 {
					b := v >> 7 & 1
					p := &probs[v>>8&0xFF]
					v <<= 1
					pv := uint32(*p)
					bound := (rng >> probBits) * pv
					mask := -b
					// Selects and the marker bit take fewer instructions
					// than masks and a counter.
					r1 := rng - bound
					rng = bound
					if b != 0 {
						low += uint64(bound)
						rng = r1
					}
					*p = adapt(pv, mask)
					if rng < topValue {
						rng <<= 8
						low = e.rc.shiftOut(low)
					}
				}
			} else {
				e.rc.rng, e.rc.low = rng, low
				e.rc.matchedLiteral(flag, probs, sym, uint32(buf[pos-d0]))
				rng, low = e.rc.rng, e.rc.low
			}
			m.state = afterLiteral(st)
		}
		pos++
		misses++
	}
	e.rc.rng, e.rc.low = rng, low
	return pos, misses, false, 0, 0, 0
}

func appendStored(dst, data []byte, dictReset bool) []byte {
	control := byte(2)
	if dictReset {
		control = 1
	}
	for len(data) > 0 {
		k := min(len(data), maxStoredChunk)
		dst = append(dst, control, byte((k-1)>>8), byte(k-1))
		dst = append(dst, data[:k]...)
		data = data[k:]
		control = 2
	}
	return dst
}

// AppendEnd appends the LZMA2 end-of-stream marker.
func AppendEnd(dst []byte) []byte { return append(dst, 0) }

// DictProp is the one-byte LZMA2 coder property announcing a dictionary of
// at least size bytes.
func DictProp(size int) byte {
	for p := range 40 {
		if (2|p&1)<<(p/2+11) >= size {
			return byte(p)
		}
	}
	return 40
}

func (e *Encoder) literal(buf []byte, pos int) {
	m := &e.m
	st := m.state
	flag := &m.isMatch[st*posStates+uint32(pos+e.posOff)&(posStates-1)]
	var prevByte byte
	if pos > 0 {
		prevByte = buf[pos-1]
	}
	probs := (*[0x300]prob)(m.literal[0x300*(int(prevByte)>>(8-lc)):])
	sym := uint32(buf[pos])
	if st < literalStatesLimit {
		e.rc.literal(flag, probs, sym)
	} else {
		e.rc.matchedLiteral(flag, probs, sym, uint32(buf[pos-int(m.reps[0])-1]))
	}
	m.state = afterLiteral(st)
}

func (e *Encoder) shortRep(pos int) {
	m := &e.m
	st := m.state
	ps := uint32(pos+e.posOff) & (posStates - 1)
	e.rc.bit2(&m.isMatch[st*posStates+ps], 1, &m.isRep[st], 1)
	e.rc.bit2(&m.isRepG0[st], 0, &m.isRep0Long[st*posStates+ps], 0)
	if st < literalStatesLimit {
		m.state = 9
	} else {
		m.state = 11
	}
}

func (e *Encoder) rep(buf []byte, pos, idx, length int) {
	e.repSymbol(pos, idx, length)
	e.skip(buf, pos+length)
}

// repSymbol codes a repeat match without inserting its positions.
func (e *Encoder) repSymbol(pos, idx, length int) {
	m := &e.m
	st := m.state
	ps := uint32(pos+e.posOff) & (posStates - 1)
	e.rc.bit2(&m.isMatch[st*posStates+ps], 1, &m.isRep[st], 1)
	if idx == 0 {
		e.rc.bit2(&m.isRepG0[st], 0, &m.isRep0Long[st*posStates+ps], 1)
	} else {
		e.rc.bit(&m.isRepG0[st], 1)
		d := m.reps[idx]
		if idx == 1 {
			e.rc.bit(&m.isRepG1[st], 0)
		} else {
			e.rc.bit(&m.isRepG1[st], 1)
			e.rc.bit(&m.isRepG2[st], uint32(idx-2))
			if idx == 3 {
				m.reps[3] = m.reps[2]
			}
			m.reps[2] = m.reps[1]
		}
		m.reps[1] = m.reps[0]
		m.reps[0] = d
	}
	e.rc.length(&m.repLen, uint32(length), ps)
	if st < literalStatesLimit {
		m.state = 8
	} else {
		m.state = 11
	}
}

// repRun continues a match of maxMatchLen bytes that ended at pos with
// rep0 matches of maxMatchLen bytes for as long as the data repeats at that
// distance, within limit and the chunk's room, and returns where it stopped.
// A blurred row's polygon (up to 42 KB) repeating the previous row's is one
// match then a run of such pieces: the run needs neither the repeat
// distance checks nor a search, and only its last positions go into the
// hash buckets.
func (e *Encoder) repRun(buf []byte, pos, limit int) int {
	d := int(e.m.reps[0]) + 1
	from := pos
	for pos+maxMatchLen <= limit && e.rc.pending() <= maxChunkPacked-symbolMargin &&
		matchLen(buf, pos-d, pos, maxMatchLen) == maxMatchLen {
		e.repSymbol(pos, 0, maxMatchLen)
		pos += maxMatchLen
	}
	if pos > from {
		e.ins = max(e.ins, pos-skipKeep)
		e.insert(buf, pos)
	}
	return pos
}

func (e *Encoder) match(buf []byte, pos, dist, length int) {
	m := &e.m
	st := m.state
	ps := uint32(pos+e.posOff) & (posStates - 1)
	e.rc.bit2(&m.isMatch[st*posStates+ps], 1, &m.isRep[st], 0)
	e.rc.length(&m.matchLen, uint32(length), ps)

	d := uint32(dist - 1)
	lenState := min(uint32(length-minMatchLen), numLenToPosStates-1)
	var slot uint32
	if d < 4 {
		slot = d
	} else {
		n := uint32(bits.Len32(d)) - 1
		slot = n<<1 | d>>(n-1)&1
	}
	e.rc.tree(m.posSlot[lenState][:], slot, 6)
	if slot >= 4 {
		footer := uint(slot>>1) - 1
		base := (2 | slot&1) << footer
		reduced := d - base
		if slot < endPosModelIndex {
			e.rc.reverseTree(m.posSpecial[base-slot:], reduced, footer)
		} else {
			e.rc.direct(reduced>>numAlignBits, footer-numAlignBits)
			e.rc.reverseTree(m.align[:], reduced&(1<<numAlignBits-1), numAlignBits)
		}
	}
	m.reps[3], m.reps[2], m.reps[1], m.reps[0] = m.reps[2], m.reps[1], m.reps[0], d
	if st < literalStatesLimit {
		m.state = 7
	} else {
		m.state = 10
	}
	e.skip(buf, pos+length)
}

// afterLiteral is the state that follows a literal coded in state st.
func afterLiteral(st uint32) uint32 {
	switch {
	case st < 4:
		return 0
	case st < 10:
		return st - 3
	default:
		return st - 6
	}
}
