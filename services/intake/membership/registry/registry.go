// Package registry reads the regional registry's CSV of structures, as the
// DREAL keeps it and the technical committee lists it: `;`-separated,
// UTF-8, header id_adher;structure;date_demande;proposition;remarque. It
// only reads and checks: a file with one bad row is refused whole, with
// every problem named by line and column, so that nothing half-imported
// has to be undone.
package registry

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sinp.occitanie.fr/platform/text"
	"sinp.occitanie.fr/services/intake/membership/rule"
)

// MaxBytes bounds a registry file: the real one is 5 KB for 41 rows.
const MaxBytes = 10 << 20

// The columns, as the registry's header names them.
const (
	ColumnID          = "id_adher"
	ColumnStructure   = "structure"
	ColumnDate        = "date_demande"
	ColumnProposition = "proposition"
	ColumnRemarks     = "remarque"
)

var columns = []string{ColumnID, ColumnStructure, ColumnDate, ColumnProposition, ColumnRemarks}

// PropositionPromotion marks a row the DREAL proposes to promote.
const PropositionPromotion = "promotion"

// Entry is one structure of the registry.
type Entry struct {
	// Line is where the row starts in the file (the header is line 1).
	Line int
	// RegistryID is id_adher, the registry's own number.
	RegistryID string
	Name       string
	// RequestedAt is date_demande, at midnight UTC.
	RequestedAt time.Time
	// Proposed: proposition = promotion.
	Proposed bool
	Remarks  string
}

// Problem is one thing wrong in the file.
type Problem struct {
	Line   int
	Column string // "" when the problem is the row's shape
	Text   string
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Text)
	}
	return fmt.Sprintf("line %d, %s: %s", p.Line, p.Column, p.Text)
}

// Error is a refused file: every problem found, up to MaxProblems.
type Error struct {
	Problems []Problem
	// More counts the problems left out.
	More int
}

// MaxProblems is how many problems an Error lists.
const MaxProblems = 20

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	s := "registry CSV refused: " + strings.Join(parts, "; ")
	if e.More > 0 {
		s += fmt.Sprintf("; and %d more", e.More)
	}
	return s
}

// Parse reads a registry file. today bounds date_demande: a request to
// join cannot come from the future. The error is an *Error when the file
// is at fault.
func Parse(r io.Reader, today time.Time) ([]Entry, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("registry.Parse: %w", err)
	}
	e := &Error{}
	if len(data) > MaxBytes {
		e.add(Problem{Line: 1, Text: fmt.Sprintf("the file is larger than %d MiB: this is not the registry", MaxBytes>>20)})
		return nil, e
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidAt(data)], []byte("\n"))
		e.add(Problem{Line: line, Text: "not UTF-8: save the file as UTF-8 (CSV UTF-8 in a spreadsheet)"})
		return nil, e
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))

	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = ';'
	header, err := cr.Read()
	if err == io.EOF {
		e.add(Problem{Line: 1, Text: "the file is empty: want the header " + strings.Join(columns, ";")})
		return nil, e
	}
	if err != nil {
		e.add(csvProblem(err, 1))
		return nil, e
	}
	index, bad := readHeader(header)
	if len(bad) > 0 {
		for _, p := range bad {
			e.add(p)
		}
		return nil, e
	}
	cr.FieldsPerRecord = len(header)

	var out []Entry
	firstLine := map[string]int{}
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				e.add(fieldCount(pe.StartLine, len(rec), header))
				continue
			}
			// A broken quote leaves the rest of the file unreadable.
			e.add(csvProblem(err, 0))
			break
		}
		line, _ := cr.FieldPos(0)
		en, problems := entry(rec, index, line, day)
		for _, p := range problems {
			e.add(p)
		}
		if len(problems) > 0 {
			continue
		}
		if first, dup := firstLine[en.RegistryID]; dup {
			e.add(Problem{Line: line, Column: ColumnID, Text: fmt.Sprintf("%s is already on line %d", en.RegistryID, first)})
			continue
		}
		firstLine[en.RegistryID] = line
		out = append(out, en)
	}
	if len(e.Problems) == 0 && len(out) == 0 {
		e.add(Problem{Line: 2, Text: "the file has a header and no structure"})
	}
	if len(e.Problems) > 0 {
		return nil, e
	}
	return out, nil
}

func (e *Error) add(p Problem) {
	if len(e.Problems) < MaxProblems {
		e.Problems = append(e.Problems, p)
	} else {
		e.More++
	}
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// readHeader maps each column to its place; the columns may come in any
// order, but every one is there once and no other.
func readHeader(header []string) (map[string]int, []Problem) {
	index := map[string]int{}
	var bad []Problem
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(columns, h):
			bad = append(bad, Problem{Line: 1, Column: h, Text: "unknown column: want " + strings.Join(columns, ";")})
		case hasKey(index, h):
			bad = append(bad, Problem{Line: 1, Column: h, Text: "column given twice"})
		default:
			index[h] = i
		}
	}
	for _, c := range columns {
		if !hasKey(index, c) && len(bad) == 0 {
			bad = append(bad, Problem{Line: 1, Column: c, Text: "missing column: want the header " + strings.Join(columns, ";")})
		}
	}
	return index, bad
}

func entry(rec []string, index map[string]int, line int, today time.Time) (Entry, []Problem) {
	en := Entry{Line: line}
	var bad []Problem
	fail := func(col, format string, args ...any) {
		bad = append(bad, Problem{Line: line, Column: col, Text: fmt.Sprintf(format, args...)})
	}
	get := func(col string) string { return strings.TrimSpace(rec[index[col]]) }

	id := get(ColumnID)
	if n, ok := NormalizeID(id); ok {
		en.RegistryID = n
	} else if id == "" {
		fail(ColumnID, "required: the registry's number of the structure")
	} else {
		fail(ColumnID, "%q is not a registry number (a positive whole number)", rule.Clip(id))
	}

	name, err := text.Check(get(ColumnStructure), text.Line, 1, rule.MaxName)
	switch {
	case errors.Is(err, text.ErrTooShort):
		fail(ColumnStructure, "required: the structure's name")
	case errors.Is(err, text.ErrControl):
		fail(ColumnStructure, "the name spans lines or holds a control character: %v", err)
	case err != nil:
		fail(ColumnStructure, "%v", err)
	}
	en.Name = name

	date := get(ColumnDate)
	d, err := time.Parse(time.DateOnly, date)
	switch {
	case date == "":
		fail(ColumnDate, "required: when the structure asked to join (YYYY-MM-DD)")
	case err != nil:
		fail(ColumnDate, "%q is not a date (want YYYY-MM-DD, e.g. 2019-04-29)", rule.Clip(date))
	case d.After(today):
		fail(ColumnDate, "%s is in the future", date)
	default:
		en.RequestedAt = d
	}

	switch p := strings.ToLower(get(ColumnProposition)); p {
	case "":
	case PropositionPromotion:
		en.Proposed = true
	default:
		fail(ColumnProposition, "%q: want %q or nothing", rule.Clip(p), PropositionPromotion)
	}

	if en.Remarks, err = text.Check(get(ColumnRemarks), text.Multiline, 0, rule.MaxRemarks); err != nil {
		fail(ColumnRemarks, "%v", err)
	}
	return en, bad
}

// NormalizeID reads a registry number (id_adher): a positive whole number,
// written without leading zeros ("06" and "6" are one structure).
func NormalizeID(s string) (string, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 31)
	if err != nil || n == 0 {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

func fieldCount(line, got int, header []string) Problem {
	if got < len(header) {
		return Problem{Line: line, Column: strings.ToLower(strings.TrimSpace(header[got])),
			Text: fmt.Sprintf("missing: the row has %d fields separated by ';', the header %d", got, len(header))}
	}
	return Problem{Line: line, Column: strings.ToLower(strings.TrimSpace(header[len(header)-1])),
		Text: fmt.Sprintf("the row has %d fields separated by ';', the header %d: is a ';' inside a value not quoted?", got, len(header))}
}

func csvProblem(err error, line int) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Problem{Line: pe.Line, Text: fmt.Sprintf("column %d: %v (quote a value holding '\"' or ';' as \"...\", doubling the quotes inside)", pe.Column, pe.Err)}
	}
	return Problem{Line: line, Text: err.Error()}
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }
