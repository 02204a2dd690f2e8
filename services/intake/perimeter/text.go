package perimeter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readError is where and why a reader stopped: a syntax error, a geometry
// that is not a polygon, or the vertex limit reached.
type readError struct {
	at  int    // byte offset in the text
	msg string // what was expected and what was found
}

// describe places the error by line and column (columns count characters,
// as editors do), for a requester looking at the text they sent.
func (e *readError) describe(text string) string {
	line, col := lineColumn(text, e.at)
	return fmt.Sprintf("line %d, column %d: %s", line, col, e.msg)
}

func lineColumn(text string, at int) (line, col int) {
	at = min(max(at, 0), len(text))
	line = 1 + strings.Count(text[:at], "\n")
	start := strings.LastIndexByte(text[:at], '\n') + 1
	return line, 1 + utf8.RuneCountInString(text[start:at])
}

// found names what the text holds at offset at, for "expected X, found Y".
func found(text string, at int) string {
	if at >= len(text) {
		return "the end of the text"
	}
	end := at
	for end < len(text) && end-at < 24 && isWordByte(text[end]) {
		end++
	}
	if end == at {
		_, size := utf8.DecodeRuneInString(text[at:])
		end = at + size
	}
	s := strconv.Quote(text[at:end])
	if end > at && end < len(text) && isWordByte(text[end]) {
		s += "…"
	}
	return s
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-' || c == '_'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipBOM steps over a UTF-8 byte order mark, which Windows editors write.
func skipBOM(s string) int {
	if strings.HasPrefix(s, "\uFEFF") {
		return len("\uFEFF")
	}
	return 0
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// number writes a submitted coordinate as the requester would recognise it.
func number(v float64) string {
	if math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// decimals writes v with at most d decimals, trailing zeros dropped.
func decimals(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}
