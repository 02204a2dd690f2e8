package sevenz

import (
	"runtime"
	"sync"
	"unsafe"
)

// Pool is a set of compressing goroutines that several Writers share, with
// one bound on the blocks in flight across all of them: an extraction that
// writes seven archives at once uses the cores once and holds the memory of
// one Writer, not seven. Pass it in Options.Pool; Close it once every Writer
// using it is closed. Without a Pool each Writer starts its own.
type Pool struct {
	jobs    chan *job
	slots   chan struct{} // one per block in flight: bounds memory
	workers sync.WaitGroup

	life   sync.RWMutex // held for reading while submitting a block
	closed bool

	outs buffers // compressed blocks
	ins  buffers // blocks held in memory (without SpoolInput)
	read buffers // blocks read back from spool files, one per goroutine
}

// NewPool starts concurrency compressing goroutines (GOMAXPROCS when 0 or
// less). At most 2 × concurrency blocks are in flight at once, from all the
// Writers that use the pool: queued, compressing, or waiting for an earlier
// block of their file.
func NewPool(concurrency int) *Pool {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	inFlight := 2 * concurrency
	p := &Pool{
		jobs:  make(chan *job, inFlight),
		slots: make(chan struct{}, inFlight),
		outs:  buffers{keep: inFlight, mapped: map[*byte]bool{}},
		ins:   buffers{keep: inFlight},
		read:  buffers{keep: concurrency, mapped: map[*byte]bool{}},
	}
	for range concurrency {
		p.workers.Add(1)
		go p.work()
	}
	return p
}

// Close lets the goroutines finish the queued blocks and stop. Writers that
// still use the pool then fail with ErrClosed.
func (p *Pool) Close() {
	p.life.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.life.Unlock()
	p.workers.Wait()
	p.outs.close()
	p.read.close()
}

// submit queues a block; it blocks while too many blocks are in flight.
func (p *Pool) submit(j *job) error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.closed {
		return ErrClosed
	}
	p.slots <- struct{}{}
	p.jobs <- j
	return nil
}

// release returns a delivered block's output buffer and its slot.
func (p *Pool) release(j *job) {
	p.outs.put(j.out)
	j.out = nil
	<-p.slots
}

// work runs one compressing goroutine until the pool closes. It keeps one
// coder per kind of block it met (codec, level, history or not), so the
// bytes produced never depend on which goroutine ran a block.
func (p *Pool) work() {
	defer p.workers.Done()
	coders := map[coderKind]blockCoder{}
	var spooled []byte // blocks read back from their spool files
	defer func() { p.read.put(spooled) }()
	for j := range p.jobs {
		o := &j.e.w.opts
		kind := kindOf(o)
		c := coders[kind]
		if c == nil {
			c = newBlockCoder(kind)
			coders[kind] = c
		}
		if n := j.inputSize(); len(j.pieces) > 0 && cap(spooled) < n {
			// Room for the largest input of this Writer at once.
			p.read.put(spooled)
			spooled = p.read.get(max(n, historyOf(o)+o.BlockSize))
		}
		data, err := j.input(&spooled)
		if err == nil {
			dst := p.outs.get(maxPacked(o.BlockSize))
			j.out, err = c.compress(dst, j, data)
			p.outs.outgrown(dst, j.out)
		}
		if j.pooled {
			// The input is not needed once compressed: only the output waits
			// for earlier blocks.
			p.ins.put(j.data)
		}
		j.data = nil
		j.e.deliver(j, err)
	}
}

// maxPacked bounds the compressed size of a block of n bytes with any
// codec: LZMA2 stores what does not compress, 3 bytes of header per 64 KiB,
// and Deflate 5 per stored block.
func maxPacked(n int) int { return n + n/1024 + 4096 }

// buffers is a free list of byte slices. Unlike a sync.Pool it survives
// garbage collections, so steady writing allocates nothing and the heap does
// not swing between collections. With mapped set, new slices are mapped
// outside the Go heap (see mapBuffer) and unmapped when dropped.
type buffers struct {
	mu     sync.Mutex
	free   [][]byte
	keep   int
	mapped map[*byte]bool // base of each mapped slice; nil: heap only
}

// get returns an empty slice with room for n bytes.
func (b *buffers) get(n int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.free) - 1; i >= 0; i-- {
		if cap(b.free[i]) >= n {
			s := b.free[i]
			b.free = append(b.free[:i], b.free[i+1:]...)
			return s[:0]
		}
	}
	if b.mapped != nil {
		if s := mapBuffer(n); s != nil {
			b.mapped[unsafe.SliceData(s)] = true
			return s
		}
	}
	return make([]byte, 0, n)
}

// put returns s to the list, or drops it when the list is full.
func (b *buffers) put(s []byte) {
	if cap(s) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.free) < b.keep {
		b.free = append(b.free, s[:0])
		return
	}
	b.drop(s)
}

// outgrown releases dst when an append moved its content to a new slice,
// out: nothing refers to it any more.
func (b *buffers) outgrown(dst, out []byte) {
	if cap(dst) > 0 && unsafe.SliceData(dst) != unsafe.SliceData(out) {
		b.mu.Lock()
		b.drop(dst)
		b.mu.Unlock()
	}
}

// drop unmaps s if it was mapped. Called with mu held.
func (b *buffers) drop(s []byte) {
	base := unsafe.SliceData(s)
	if b.mapped[base] {
		delete(b.mapped, base)
		unmapBuffer(s)
	}
}

// close unmaps the free slices; the pool's goroutines are done with them.
func (b *buffers) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.free {
		b.drop(s)
	}
	b.free = nil
}
