package extraction

import "bytes"

// records splits the COPY ... (FORMAT csv) stream PostgreSQL sends into
// records and hands each to handle. PostgreSQL sends one row per CopyData
// message, so a Write usually holds exactly one record and nothing is
// copied; a record split across writes (or a newline inside a quoted field)
// is reassembled.
type records struct {
	buf    []byte
	handle func(rec []byte) error
}

func (r *records) Write(p []byte) (int, error) {
	if len(r.buf) == 0 {
		n, err := r.consume(p)
		if err != nil {
			return 0, err
		}
		r.buf = append(r.buf, p[n:]...)
		return len(p), nil
	}
	r.buf = append(r.buf, p...)
	n, err := r.consume(r.buf)
	if err != nil {
		return 0, err
	}
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return len(p), nil
}

// consume handles the complete records at the start of b and returns how
// many bytes they took.
func (r *records) consume(b []byte) (int, error) {
	start, from := 0, 0
	quotes := 0
	for {
		nl := bytes.IndexByte(b[from:], '\n')
		if nl < 0 {
			return start, nil
		}
		nl += from
		quotes += bytes.Count(b[from:nl], []byte{'"'})
		if quotes%2 == 1 { // the newline is inside a quoted field
			from = nl + 1
			continue
		}
		if err := r.handle(b[start:nl]); err != nil {
			return start, err
		}
		start, from, quotes = nl+1, nl+1, 0
	}
}

// flush hands over a last record that lacked its newline; the stream may
// then go on with another query's rows.
func (r *records) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	rec := r.buf
	r.buf = nil
	return r.handle(rec)
}

// splitFields cuts a CSV record at the separators outside quotes. Fields
// keep their quoting: joined back with ';' they give the same CSV.
func splitFields(rec []byte, fields [][]byte) [][]byte {
	return splitFieldsN(rec, fields, -1)
}

// splitFieldsN is splitFields stopping after n-1 cuts (n < 0: no limit): the
// last field then holds the rest of the record, unsplit.
func splitFieldsN(rec []byte, fields [][]byte, n int) [][]byte {
	fields = fields[:0]
	start := 0
	for len(fields) != n-1 {
		end := fieldEnd(rec, start)
		fields = append(fields, rec[start:end])
		if end == len(rec) {
			return fields
		}
		start = end + 1
	}
	return append(fields, rec[start:])
}

// fieldEnd is the index of the separator ending the field that starts at
// start, or len(rec). PostgreSQL quotes a field whole or not at all, so a
// field is quoted when it starts with a quote, and ends at the first
// separator after its closing quote (a doubled quote is one inside it).
// Searching for bytes rather than walking them is twice as fast on the
// store's rows.
func fieldEnd(rec []byte, start int) int {
	i := start
	if i < len(rec) && rec[i] == '"' {
		for i++; ; {
			q := bytes.IndexByte(rec[i:], '"')
			if q < 0 {
				return len(rec) // unterminated: the rest
			}
			i += q + 1
			if i == len(rec) || rec[i] != '"' {
				break
			}
			i++ // a doubled quote
		}
	}
	j := bytes.IndexByte(rec[i:], ';')
	if j < 0 {
		return len(rec)
	}
	return i + j
}

// unquote returns the value of a CSV field (quotes removed, doubled quotes
// undone). Unquoted fields are returned as they are, without copying.
func unquote(f []byte) []byte {
	if len(f) < 2 || f[0] != '"' {
		return f
	}
	inner := f[1 : len(f)-1]
	if bytes.IndexByte(inner, '"') < 0 {
		return inner
	}
	return bytes.ReplaceAll(inner, []byte(`""`), []byte(`"`))
}

// quote encodes a value as a CSV field, quoting only when needed.
func quote(v []byte) []byte {
	if !bytes.ContainsAny(v, "\";\r\n") {
		return v
	}
	out := make([]byte, 0, len(v)+2)
	out = append(out, '"')
	out = append(out, bytes.ReplaceAll(v, []byte(`"`), []byte(`""`))...)
	return append(out, '"')
}

// splitList cuts a '|'-separated list of codes; empty gives none.
func splitList(f []byte, dst []string) []string {
	dst = dst[:0]
	f = unquote(f)
	if len(f) == 0 {
		return dst
	}
	for {
		i := bytes.IndexByte(f, '|')
		if i < 0 {
			return append(dst, string(f))
		}
		dst = append(dst, string(f[:i]))
		f = f[i+1:]
	}
}
