// Package sensitivity computes the sensitivity level (nomenclature
// SENSIBILITE) of observations from a referential of rules: a taxon is
// sensitive at some level in a département, for a number of years after the
// observation, possibly only for one biological status. The highest matching
// level wins; an observation no rule matches is not sensitive (0).
package sensitivity

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Rule is one line of a referential (the columns of the SINP
// "especesensible" table).
type Rule struct {
	ID               int
	CdDept           string // two-digit département code
	CdNom            int
	Duree            int // years a record stays sensitive; 0 means always
	Codage           int // SENSIBILITE level, 0-4
	Autre            string
	CdSL             int
	StatutBiologique string // STATUT_BIO code the rule is restricted to; "" for any
	NomCite          string
	Line             int // line in the file, for messages
}

// Columns a referential must carry (in any order).
var columns = []string{"cd_dept", "id", "cd_nom", "duree", "codage", "autre", "cd_sl", "cd_occ_statut_biologique", "nom_cite"}

// ReadFile reads a referential: a PostgreSQL dump holding
// "COPY ... (cd_dept, id, cd_nom, ...) FROM stdin;" (as the SINP publishes
// it), or a tab-separated file whose first line names the same columns.
func ReadFile(path string) ([]Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sensitivity: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads a referential from r; name is used in messages ("file:line").
func Read(r io.Reader, name string) ([]Rule, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var (
		rules  []Rule
		index  map[string]int // column -> field position
		inCopy bool
		line   int
	)
	for sc.Scan() {
		line++
		text := sc.Text()
		if index == nil {
			if cols, ok := copyColumns(text); ok {
				idx, err := columnIndex(cols)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, line, err)
				}
				index, inCopy = idx, true
				continue
			}
			if line == 1 && strings.Contains(text, "\t") && strings.Contains(text, "cd_nom") {
				idx, err := columnIndex(strings.Split(text, "\t"))
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, line, err)
				}
				index = idx
			}
			continue
		}
		if inCopy && text == `\.` {
			break
		}
		if text == "" {
			continue
		}
		rule, err := parseRule(strings.Split(text, "\t"), index)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		rule.Line = line
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if index == nil {
		return nil, fmt.Errorf("%s: no \"COPY ... (%s) FROM stdin\" block nor header line: not a sensitivity referential", name, strings.Join(columns, ", "))
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("%s: the referential has no rule", name)
	}
	return rules, nil
}

// copyColumns recognises "COPY [schema.]especesensible (a, b) FROM stdin;".
func copyColumns(line string) ([]string, bool) {
	if !strings.HasPrefix(line, "COPY ") || !strings.Contains(line, "FROM stdin") {
		return nil, false
	}
	open, end := strings.Index(line, "("), strings.Index(line, ")")
	if open < 0 || end < open {
		return nil, false
	}
	cols := strings.Split(line[open+1:end], ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	return cols, true
}

func columnIndex(cols []string) (map[string]int, error) {
	idx := map[string]int{}
	for i, c := range cols {
		idx[strings.TrimSpace(c)] = i
	}
	for _, c := range columns {
		if _, ok := idx[c]; !ok {
			return nil, fmt.Errorf("column %s missing (a referential has %s)", c, strings.Join(columns, ", "))
		}
	}
	return idx, nil
}

func parseRule(fields []string, idx map[string]int) (Rule, error) {
	get := func(col string) (string, bool, error) {
		i := idx[col]
		if i >= len(fields) {
			return "", false, fmt.Errorf("%d fields, column %s is field %d", len(fields), col, i+1)
		}
		v := fields[i]
		if v == `\N` {
			return "", false, nil
		}
		return unescape(v), true, nil
	}
	getInt := func(col string, required bool) (int, error) {
		v, ok, err := get(col)
		if err != nil {
			return 0, err
		}
		if !ok || v == "" {
			if required {
				return 0, fmt.Errorf("column %s is empty", col)
			}
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("column %s: %q is not an integer", col, v)
		}
		return n, nil
	}
	var r Rule
	var err error
	if r.ID, err = getInt("id", true); err != nil {
		return r, err
	}
	if r.CdNom, err = getInt("cd_nom", true); err != nil {
		return r, err
	}
	if r.Duree, err = getInt("duree", false); err != nil {
		return r, err
	}
	if r.Duree < 0 {
		return r, fmt.Errorf("column duree: %d is negative", r.Duree)
	}
	if r.Codage, err = getInt("codage", true); err != nil {
		return r, err
	}
	if r.Codage < 0 || r.Codage > 4 {
		return r, fmt.Errorf("column codage: %d is not a SENSIBILITE level (0-4)", r.Codage)
	}
	if r.CdSL, err = getInt("cd_sl", false); err != nil {
		return r, err
	}
	dept, ok, err := get("cd_dept")
	if err != nil {
		return r, err
	}
	if !ok || dept == "" {
		return r, fmt.Errorf("column cd_dept is empty")
	}
	// The SINP dump pads one-digit codes afterwards (UPDATE ... concat('0', cd_dept)).
	if len(dept) == 1 {
		dept = "0" + dept
	}
	r.CdDept = dept
	if r.StatutBiologique, _, err = get("cd_occ_statut_biologique"); err != nil {
		return r, err
	}
	if r.Autre, _, err = get("autre"); err != nil {
		return r, err
	}
	if r.NomCite, _, err = get("nom_cite"); err != nil {
		return r, err
	}
	return r, nil
}

// unescape decodes the backslash escapes of PostgreSQL's COPY text format.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// dumpStarted is the line pg_dump writes at the head of a dump.
var dumpStarted = regexp.MustCompile(`^-- Started on (\d{4}-\d{2}-\d{2})`)

// VersionOf returns the version of a referential file, recorded in
// sensiVersionReferentiel when none is given: the date of the dump
// ("-- Started on 2018-11-23 ..." gives 2018-11-23), else the first 12 hex
// digits of the file's SHA-256, so that two different files never share a
// version and the same file always gives the same one.
func VersionOf(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("sensitivity: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 0; i < 50 && sc.Scan(); i++ {
		if m := dumpStarted.FindStringSubmatch(sc.Text()); m != nil {
			return m[1], nil
		}
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:6]), nil
}
