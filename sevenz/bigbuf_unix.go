//go:build unix

package sevenz

import "syscall"

// mapBuffer allocates n bytes outside the Go heap, or returns nil. Blocks
// and their compressed output are large and live as long as the pool:
// outside the heap, the garbage collector does not let the heap grow to
// twice their size before collecting (GOGC), and pages never written stay
// out of the resident set.
func mapBuffer(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return b[:0]
}

func unmapBuffer(b []byte) { syscall.Munmap(b[:cap(b)]) }
