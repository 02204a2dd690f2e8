//go:build !unix

package sevenz

func mapBuffer(n int) []byte { return nil }

func unmapBuffer(b []byte) {}
