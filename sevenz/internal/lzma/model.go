package lzma

// The literal context (lc=3, lp=0, pb=2) is LZMA's classic default; LZMA2
// requires lc+lp <= 4.
const (
	lc        = 3
	lp        = 0
	pb        = 2
	propsByte = (pb*5+lp)*9 + lc

	numStates          = 12
	posStates          = 1 << pb
	numLenToPosStates  = 4
	numAlignBits       = 4
	endPosModelIndex   = 14
	numFullDistances   = 1 << (endPosModelIndex >> 1)
	minMatchLen        = 2
	maxMatchLen        = minMatchLen + 8 + 8 + 256 - 1
	literalStatesLimit = 7 // states below this follow a literal
)

type lengthModel struct {
	choice  prob
	choice2 prob
	low     [posStates][1 << 3]prob
	mid     [posStates][1 << 3]prob
	high    [1 << 8]prob
}

func (m *lengthModel) reset() {
	m.choice, m.choice2 = probInit, probInit
	for i := range m.low {
		fill(m.low[i][:])
		fill(m.mid[i][:])
	}
	fill(m.high[:])
}

// model is the adaptive state LZMA shares between encoder and decoder.
type model struct {
	isMatch    [numStates * posStates]prob
	isRep      [numStates]prob
	isRepG0    [numStates]prob
	isRepG1    [numStates]prob
	isRepG2    [numStates]prob
	isRep0Long [numStates * posStates]prob
	posSlot    [numLenToPosStates][1 << 6]prob
	posSpecial [1 + numFullDistances - endPosModelIndex]prob
	align      [1 << numAlignBits]prob
	matchLen   lengthModel
	repLen     lengthModel
	literal    [0x300 << (lc + lp)]prob

	state uint32
	reps  [4]uint32 // distances minus one, most recent first
}

func fill(p []prob) {
	for i := range p {
		p[i] = probInit
	}
}

func (m *model) reset() {
	fill(m.isMatch[:])
	fill(m.isRep[:])
	fill(m.isRepG0[:])
	fill(m.isRepG1[:])
	fill(m.isRepG2[:])
	fill(m.isRep0Long[:])
	for i := range m.posSlot {
		fill(m.posSlot[i][:])
	}
	fill(m.posSpecial[:])
	fill(m.align[:])
	m.matchLen.reset()
	m.repLen.reset()
	fill(m.literal[:])
	m.state = 0
	m.reps = [4]uint32{}
}

func (e *rangeEncoder) length(m *lengthModel, l uint32, posState uint32) {
	l -= minMatchLen
	switch {
	case l < 8:
		e.bit(&m.choice, 0)
		e.tree(m.low[posState][:], l, 3)
	case l < 16:
		e.bit2(&m.choice, 1, &m.choice2, 0)
		e.tree(m.mid[posState][:], l-8, 3)
	default:
		e.bit2(&m.choice, 1, &m.choice2, 1)
		e.tree(m.high[:], l-16, 8)
	}
}
