package lzma

// prob is an adaptive probability (of a 0 bit) on 11 bits, as the LZMA
// format defines it.
type prob uint16

const (
	probBits  = 11
	probInit  = prob(1 << (probBits - 1))
	moveBits  = 5
	topValue  = 1 << 24
	probLimit = 1 << probBits
)

// rangeEncoder is LZMA's binary arithmetic coder. low keeps one carry bit
// above its 32 bits; cache and cacheSize hold the bytes a carry may still change.
type rangeEncoder struct {
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int
	out       []byte
}

func (e *rangeEncoder) reset(out []byte) {
	e.low = 0
	e.rng = 0xFFFFFFFF
	e.cache = 0
	e.cacheSize = 1
	e.out = out
}

func (e *rangeEncoder) shiftLow() {
	if uint32(e.low) < 0xFF000000 || e.low>>32 != 0 {
		carry := byte(e.low >> 32)
		b := e.cache
		for {
			e.out = append(e.out, b+carry)
			b = 0xFF
			e.cacheSize--
			if e.cacheSize == 0 {
				break
			}
		}
		e.cache = byte(e.low >> 24)
	}
	e.cacheSize++
	e.low = uint64(uint32(e.low) << 8)
}

// pending is an upper bound of the bytes the chunk will have once flushed.
func (e *rangeEncoder) pending() int { return len(e.out) + e.cacheSize + 5 }

func (e *rangeEncoder) flush() {
	for range 5 {
		e.shiftLow()
	}
}

// bit codes one bit without branching on it: literal and match bits are
// close to random, and mispredicted branches cost more than the arithmetic.
func (e *rangeEncoder) bit(p *prob, b uint32) {
	v := uint32(*p)
	bound := (e.rng >> probBits) * v
	mask := -b
	e.low += uint64(bound & mask)
	e.rng = bound + (e.rng-bound-bound)&mask
	*p = adapt(v, mask)
	if e.rng < topValue {
		e.normalize()
	}
}

// bit2 codes two bits, p0's then p1's, in one call with the coder's
// registers in locals: the flags that open every match come in pairs.
func (e *rangeEncoder) bit2(p0 *prob, b0 uint32, p1 *prob, b1 uint32) {
	rng, low := e.rng, e.low
	v := uint32(*p0)
	bound := (rng >> probBits) * v
	mask := -b0
	low += uint64(bound & mask)
	rng = bound + (rng-bound-bound)&mask
	*p0 = adapt(v, mask)
	if rng < topValue {
		rng <<= 8
		low = e.shiftOut(low)
	}
	v = uint32(*p1)
	bound = (rng >> probBits) * v
	mask = -b1
	low += uint64(bound & mask)
	rng = bound + (rng-bound-bound)&mask
	*p1 = adapt(v, mask)
	if rng < topValue {
		rng <<= 8
		low = e.shiftOut(low)
	}
	e.rng, e.low = rng, low
}

// adapt returns the probability pv after coding a bit whose mask (0 or all
// ones) is given: pv + (2048-pv)>>5 after a 0, pv - pv>>5 after a 1, as the
// format defines it. Both are one arithmetic shift of pv - t: t = 0 for a
// 1, and t = 2048-31 for a 0, so that the shift rounds down as the format
// does. Four instructions instead of ten, on every coded bit.
func adapt(pv, mask uint32) prob {
	t := int32((probLimit - (1<<moveBits - 1)) &^ mask)
	return prob(int32(pv) - (int32(pv)-t)>>moveBits)
}

//go:noinline
func (e *rangeEncoder) normalize() {
	e.rng <<= 8
	e.shiftLow()
}

func (e *rangeEncoder) direct(v uint32, n uint) {
	rng, low := e.rng, e.low
	v <<= (32 - n) & 31
	for range n {
		rng >>= 1
		if v>>31 != 0 {
			low += uint64(rng)
		}
		v <<= 1
		if rng < topValue {
			rng <<= 8
			low = e.shiftOut(low)
		}
	}
	e.rng, e.low = rng, low
}

// tree codes the n low bits of v, most significant first, in a bit tree.
// It keeps the coder's registers in locals and shifts v by constants: this
// is the hot path of lengths and distance slots.
func (e *rangeEncoder) tree(probs []prob, v uint32, n uint) {
	rng, low := e.rng, e.low
	v <<= (32 - n) & 31
	// m walks down the tree from 1 and leaves it at 1<<n.
	for m, top := uint32(1), uint32(1)<<(n&31); m < top; {
		b := v >> 31
		v <<= 1
		p := &probs[m]
		pv := uint32(*p)
		bound := (rng >> probBits) * pv
		r1 := rng - bound
		rng = bound
		if b != 0 {
			low += uint64(bound)
			rng = r1
		}
		*p = adapt(pv, -b)
		if rng < topValue {
			rng <<= 8
			low = e.shiftOut(low)
		}
		m = m<<1 | b
	}
	e.rng, e.low = rng, low
}

// literal codes the 0 of the isMatch flag, then the byte sym in the plain
// tree of probs: tree for 8 bits, with indices the compiler knows are in
// range.
func (e *rangeEncoder) literal(flag *prob, probs *[0x300]prob, sym uint32) {
	rng, low := e.rng, e.low
	pv := uint32(*flag)
	rng = (rng >> probBits) * pv
	*flag = adapt(pv, 0)
	if rng < topValue {
		rng <<= 8
		low = e.shiftOut(low)
	}
	v := sym << 24
	m := uint32(1)
	for range 8 {
		b := v >> 31
		v <<= 1
		p := &probs[m&0xFF]
		pv := uint32(*p)
		bound := (rng >> probBits) * pv
		mask := -b
		low += uint64(bound & mask)
		rng = bound + (rng-bound-bound)&mask
		*p = adapt(pv, mask)
		if rng < topValue {
			rng <<= 8
			low = e.shiftOut(low)
		}
		m = m<<1 | b
	}
	e.rng, e.low = rng, low
}

// matchedLiteral codes the 0 of the isMatch flag, then a literal after a
// match, in the context of the byte at the last distance: while the bits
// agree with that byte, the upper halves of probs are used (offs is 0x100),
// then the plain tree.
func (e *rangeEncoder) matchedLiteral(flag *prob, probs *[0x300]prob, sym, match uint32) {
	rng, low := e.rng, e.low
	pv := uint32(*flag)
	rng = (rng >> probBits) * pv
	*flag = adapt(pv, 0)
	if rng < topValue {
		rng <<= 8
		low = e.shiftOut(low)
	}
	// As 7-Zip does it: sym's bits below a marker bit (the tree's index is
	// what is above the bit being coded), match's shifted along, so that
	// bit 8 of both is the bit just coded.
	v, mv := sym|0x100, match
	offs := uint32(0x100)
	for v < 0x10000 {
		mv <<= 1
		p := &probs[(offs+mv&offs+v>>8)&0x3FF]
		b := v >> 7 & 1
		v <<= 1
		pv := uint32(*p)
		bound := (rng >> probBits) * pv
		r1 := rng - bound
		rng = bound
		if b != 0 {
			low += uint64(bound)
			rng = r1
		}
		*p = adapt(pv, -b)
		if rng < topValue {
			rng <<= 8
			low = e.shiftOut(low)
		}
		offs &^= mv ^ v
	}
	e.rng, e.low = rng, low
}

// shiftOut is shiftLow for the loops that keep low in a register.
//
//go:noinline
func (e *rangeEncoder) shiftOut(low uint64) uint64 {
	e.low = low
	e.shiftLow()
	return e.low
}

// reverseTree codes the n low bits of v, least significant first.
// It keeps the coder's registers in locals, as tree does.
func (e *rangeEncoder) reverseTree(probs []prob, v uint32, n uint) {
	rng, low := e.rng, e.low
	for m, top := uint32(1), uint32(1)<<(n&31); m < top; {
		b := v & 1
		v >>= 1
		p := &probs[m]
		pv := uint32(*p)
		bound := (rng >> probBits) * pv
		r1 := rng - bound
		rng = bound
		if b != 0 {
			low += uint64(bound)
			rng = r1
		}
		*p = adapt(pv, -b)
		if rng < topValue {
			rng <<= 8
			low = e.shiftOut(low)
		}
		m = m<<1 | b
	}
	e.rng, e.low = rng, low
}
