// Package text checks the free text people type (a purpose, a name, a
// reason, remarks, an argument, a justification) before a service stores
// it, puts it in an event, a history or a feed. It is pure: one function,
// Check, that cleans a value or says, in words for the person who typed
// it, what is wrong; the caller names the field.
//
// What a field accepts:
//   - valid UTF-8 only (PostgreSQL refuses the rest, and NUL too);
//   - no control character (C0, DEL, C1), except, in a Multiline field,
//     the tab and the line feed: a carriage return there becomes a line
//     feed (\r\n and a lone \r alike), so that a stored text has one kind
//     of line break; a Line field has no line break and no tab at all,
//     which is what keeps a name from forging a header or a log line;
//   - no bidirectional override or isolate (U+202A–U+202E,
//     U+2066–U+2069): they reorder what a reader sees;
//   - in a Line field no Unicode line or paragraph separator either
//     (U+2028, U+2029); in a Multiline field they become line feeds.
//
// The value is trimmed of spaces and invisible (format) characters at both
// ends. Its minimum is counted in graphic characters (letters, numbers,
// punctuation, symbols; not spaces, combining marks or zero-width
// characters), so that 25 zero-width spaces are not a purpose; its maximum
// in bytes, what a column and an event pay for.
package text

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Form is the shape a field may take.
type Form int

const (
	// Line is one line: a name, an e-mail, a title. No line break, no tab.
	Line Form = iota + 1
	// Multiline may hold line feeds and tabs: a purpose, remarks.
	Multiline
)

// Why a value is refused; test them with errors.Is.
var (
	ErrEncoding = errors.New("text: not valid UTF-8")
	ErrControl  = errors.New("text: a character not allowed")
	ErrTooShort = errors.New("text: too short")
	ErrTooLong  = errors.New("text: too long")
)

// Error is a refused value: Reason is one of the Err values, and Error()
// is a sentence for the person who typed it (without the field's name,
// which the caller adds).
type Error struct {
	Reason error
	Detail string
}

func (e *Error) Error() string { return e.Detail }
func (e *Error) Unwrap() error { return e.Reason }

func refuse(reason error, format string, args ...any) (string, error) {
	return "", &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Check returns value cleaned (carriage returns made line feeds in a
// Multiline field, trimmed) when it is acceptable: at least minGraphic
// graphic characters and at most maxBytes bytes, once cleaned. minGraphic
// 0 makes the field optional; maxBytes ≤ 0 accepts only the empty text.
// Otherwise the error is an *Error.
func Check(value string, form Form, minGraphic, maxBytes int) (string, error) {
	if !utf8.ValidString(value) {
		at := 0
		for at < len(value) {
			r, size := utf8.DecodeRuneInString(value[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return refuse(ErrEncoding, "not valid UTF-8 text (byte %d)", at+1)
	}
	if form == Multiline {
		value = strings.ReplaceAll(value, "\r\n", "\n")
		value = strings.NewReplacer("\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(value)
	}
	value = strings.TrimFunc(value, invisible)
	n := 0
	for _, r := range value {
		n++
		if why := forbidden(r, form); why != "" {
			return refuse(ErrControl, "%s (U+%04X, character %d)", why, r, n)
		}
	}
	if g := Graphic(value); g < minGraphic {
		if g == 0 && minGraphic == 1 {
			return refuse(ErrTooShort, "required")
		}
		return refuse(ErrTooShort, "at least %d characters (letters, digits, punctuation or symbols; spaces and invisible characters do not count): %d given", minGraphic, g)
	}
	if len(value) > maxBytes {
		return refuse(ErrTooLong, "at most %d bytes (%d given)", max(maxBytes, 0), len(value))
	}
	return value, nil
}

// forbidden says why r may not appear in a field of that form, or "".
func forbidden(r rune, form Form) string {
	switch {
	case r == 0:
		return "contains a NUL character"
	case (r == '\n' || r == '\t') && form == Multiline:
		return ""
	case form != Multiline && (r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029' || r == '\u0085'):
		return "one line only: no line break or tab"
	case unicode.IsControl(r):
		return "contains a control character"
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return "contains a bidirectional formatting character, which reorders what readers see"
	}
	return ""
}

// invisible is what is trimmed from the ends: spaces (line breaks
// included) and format characters such as U+200B and U+FEFF.
func invisible(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

// Graphic counts the graphic characters of s: letters, numbers,
// punctuation and symbols. Spaces, combining marks (an accent typed
// apart from its letter), format and control characters do not count.
func Graphic(s string) int {
	n := 0
	for _, r := range s {
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) {
			n++
		}
	}
	return n
}
