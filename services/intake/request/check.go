package request

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/pole"
	"sinp.occitanie.fr/platform/text"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/perimeter"
)

// Limits bound what a request may ask.
type Limits struct {
	Perimeter perimeter.Limits
	// At most this many geographic objects in a perimeter given as a list.
	MaxAreas int
	// The purpose: at least MinPurpose characters, at most MaxPurpose bytes.
	MinPurpose, MaxPurpose int
	MaxCdRefs              int
	// Requests an account may have open at once. Account-less requests
	// have no such limit: their declared email is not verified, so a
	// limit keyed by it would let anyone use up someone else's.
	MaxOpen int
	// Account-less submissions: at most AnonymousPerAddress from one
	// client address (an IPv6 /64) within AnonymousWindow.
	AnonymousPerAddress int
	AnonymousWindow     time.Duration
}

// DefaultLimits are those of the configuration's defaults.
func DefaultLimits() Limits {
	return Limits{Perimeter: perimeter.DefaultLimits(), MaxAreas: 500, MinPurpose: 20, MaxPurpose: 4000, MaxCdRefs: 1000, MaxOpen: 5,
		AnonymousPerAddress: 10, AnonymousWindow: time.Hour}
}

// Bounds of the free text of instructions and cancellations.
const (
	MaxReason    = 4000 // bytes: a rejection's or cancellation's reason, remarks
	MinRejection = 10   // graphic characters: a rejection says why
	MaxName      = 200  // bytes: declared name, structure, type
	MaxEmail     = 254
	MaxKey       = 200
	// An account-less submission's idempotency key is its only secret (a
	// retry with it returns the tracking token): at least MinAnonymousKey
	// characters of [A-Za-z0-9_-], as a random 128-bit key in base64url
	// (22) or a UUID (36) has.
	MinAnonymousKey = 22
)

// Throttled says whether an account-less submission from an address
// must be refused, given the submissions recorded from it within the
// window (how many, the oldest), and when to try again.
func (l Limits) Throttled(recent int, oldest time.Time) (bool, time.Time) {
	if recent < l.AnonymousPerAddress {
		return false, time.Time{}
	}
	return true, oldest.Add(l.AnonymousWindow)
}

// ThrottledError refuses an account-less submission from an address that
// filed too many lately.
type ThrottledError struct{ RetryAt time.Time }

func (e ThrottledError) Error() string {
	return fmt.Sprintf("too many requests filed without an account from this address: try again after %s, or sign in",
		e.RetryAt.UTC().Format("2006-01-02 15:04 MST"))
}

// CheckKey checks an idempotency key. Any key is at most MaxKey bytes of
// visible ASCII (it is a client's token, not text). An account-less
// one must be hard to guess, since whoever repeats it with the same
// content gets the request's tracking token: MinAnonymousKey characters
// or more, from [A-Za-z0-9_-], not repetitive.
func CheckKey(key string, accountLess bool) []grpcserver.Violation {
	bad := func(why string) []grpcserver.Violation {
		return []grpcserver.Violation{{Field: "idempotency_key", Description: why}}
	}
	if key == "" {
		return nil
	}
	if len(key) > MaxKey {
		return bad(fmt.Sprintf("at most %d bytes", MaxKey))
	}
	if !visibleASCII(key) {
		return bad("visible ASCII characters only (letters, digits, punctuation)")
	}
	if !accountLess {
		return nil
	}
	distinct := map[byte]bool{}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return bad(fmt.Sprintf("without an account, a random key of at least %d characters from A-Z a-z 0-9 - _ (a UUID, or 16 random bytes in base64url)", MinAnonymousKey))
		}
		distinct[c] = true
	}
	if len(key) < MinAnonymousKey || len(distinct) < 8 {
		return bad(fmt.Sprintf("without an account, a random key of at least %d characters from A-Z a-z 0-9 - _ (a UUID, or 16 random bytes in base64url): it alone gives the request's tracking token back", MinAnonymousKey))
	}
	return nil
}

// visibleASCII says whether s is made of visible ASCII characters only
// (no space, no control): what a machine-made token or reference is.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// CheckDecision checks and cleans an instruction's free text: a
// rejection says why (it is communicated to the requester).
func CheckDecision(d Decision) (Decision, []grpcserver.Violation) {
	var bad []grpcserver.Violation
	minReason := 0
	if !d.Accept {
		minReason = MinRejection
	}
	var err error
	if d.Reason, err = text.Check(d.Reason, text.Multiline, minReason, MaxReason); err != nil {
		why := err.Error()
		if errors.Is(err, text.ErrTooShort) {
			why = fmt.Sprintf("required to reject, at least %d characters (letters, digits, punctuation; spaces do not count): it is communicated to the requester", MinRejection)
		}
		bad = append(bad, grpcserver.Violation{Field: "reason", Description: why})
	}
	if d.Remarks, err = text.Check(d.Remarks, text.Multiline, 0, MaxReason); err != nil {
		bad = append(bad, grpcserver.Violation{Field: "remarks", Description: err.Error()})
	}
	bad = append(bad, CheckKey(d.Key, false)...)
	return d, bad
}

// CheckCancellation checks and cleans a cancellation's reason (optional).
func CheckCancellation(reason string) (string, []grpcserver.Violation) {
	reason, err := text.Check(reason, text.Multiline, 0, MaxReason)
	if err != nil {
		return "", []grpcserver.Violation{{Field: "reason", Description: err.Error()}}
	}
	return reason, nil
}

// Poles are the pôle codes a scope may name (oc_dat.pole).
var Poles = pole.Codes

// Area kinds a perimeter list may name, and the form of their codes.
var areaCodes = map[string]*regexp.Regexp{
	"commune":        regexp.MustCompile(`^(\d{5}|2[AB]\d{3})$`),
	"departement":    regexp.MustCompile(`^(\d{2}|2[AB]|97\d)$`),
	"maille10":       regexp.MustCompile(`^10kmL93E\d{3}N\d{3}$`),
	"espace_naturel": regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Submission is a request as its requester gives it.
type Submission struct {
	Declared        *intakev1.DeclaredRequester
	Purpose         string
	Perimeter       *intakev1.PerimeterInput
	Scope           *eventsv1.TaxonomicScope
	Period          *eventsv1.Period
	Options         *eventsv1.ExtractionOptions
	CharterAccepted bool
}

// Checked is a submission whose every field is valid on its own; the
// codes the store must know are checked next (CheckScope).
type Checked struct {
	// Declared is the account-less requester as it declared itself,
	// cleaned; nil for a signed-in one.
	Declared  *intakev1.DeclaredRequester
	Purpose   string
	Perimeter *eventsv1.Perimeter
	AreaKm2   float64
	Scope     *eventsv1.TaxonomicScope
	Period    *eventsv1.Period
	Options   *eventsv1.ExtractionOptions
}

// Check validates a submission on its own: every problem is a violation
// naming its field. signedIn says whether the requester has an account
// (then it must not declare itself); today is the deployment's date.
func Check(s Submission, signedIn bool, today time.Time, lim Limits) (Checked, []grpcserver.Violation) {
	var bad []grpcserver.Violation
	add := func(field, format string, args ...any) {
		bad = append(bad, grpcserver.Violation{Field: field, Description: fmt.Sprintf(format, args...)})
	}
	c := Checked{}

	switch d := s.Declared; {
	case signedIn && d != nil && (d.Name != "" || d.Email != "" || d.StructureName != "" || d.StructureType != ""):
		add("declared", "a signed-in requester is known by its account and the registry: leave it empty")
	case !signedIn:
		c.Declared = &intakev1.DeclaredRequester{}
		line := func(field, v string, minGraphic, maxBytes int, why string) string {
			v, err := text.Check(v, text.Line, minGraphic, maxBytes)
			if err != nil {
				if errors.Is(err, text.ErrTooShort) && why != "" {
					add(field, "%s", why)
				} else {
					add(field, "%v", err)
				}
			}
			return v
		}
		c.Declared.Name = line("declared.name", d.GetName(), 1, MaxName, "required: who asks")
		c.Declared.StructureName = line("declared.structure_name", d.GetStructureName(), 1, MaxName, "required: the structure the data is for")
		c.Declared.StructureType = line("declared.structure_type", d.GetStructureType(), 0, MaxName, "")
		email, err := text.Check(d.GetEmail(), text.Line, 1, MaxEmail)
		if err == nil {
			if addr, perr := mail.ParseAddress(email); perr != nil || addr.Address != email {
				err = errors.New("not an address")
			}
		}
		if err != nil {
			add("declared.email", "an email address like nom@structure.fr, to follow the request")
		}
		c.Declared.Email = email
	}

	purpose, err := text.Check(s.Purpose, text.Multiline, lim.MinPurpose, lim.MaxPurpose)
	switch {
	case errors.Is(err, text.ErrTooShort):
		add("purpose", "describe the study the data is for, in %d characters at least (%d given: letters, digits and punctuation count, spaces do not)",
			lim.MinPurpose, text.Graphic(s.Purpose))
	case err != nil:
		add("purpose", "%v", err)
	}
	c.Purpose = purpose
	if !s.CharterAccepted {
		add("charter_accepted", "the charter of use of SINP data must be accepted")
	}

	c.Perimeter, c.AreaKm2 = checkPerimeter(s.Perimeter, lim, add)
	c.Scope = checkScope(s.Scope, lim, add)
	c.Period = checkPeriod(s.Period, today, add)

	c.Options = &eventsv1.ExtractionOptions{AttachedGeometry: eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE}
	if o := s.Options; o != nil {
		c.Options.BufferByPrecision, c.Options.SplitByGeometryType, c.Options.Excel = o.BufferByPrecision, o.SplitByGeometryType, o.Excel
		switch o.AttachedGeometry {
		case eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_UNSPECIFIED, eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE:
			c.Options.AttachedGeometry = eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_NONE
		case eventsv1.AttachedGeometry_ATTACHED_GEOMETRY_MOST_PRECISE:
			c.Options.AttachedGeometry = o.AttachedGeometry
		default:
			add("options.attached_geometry", "none or most_precise")
		}
	}
	return c, bad
}

func checkPerimeter(in *intakev1.PerimeterInput, lim Limits, add func(string, string, ...any)) (*eventsv1.Perimeter, float64) {
	switch shape := in.GetShape().(type) {
	case *intakev1.PerimeterInput_Wkt, *intakev1.PerimeterInput_Geojson:
		pin := perimeter.Input{Format: perimeter.WKT, Text: in.GetWkt(), SRID: int(in.GetSrid())}
		if _, ok := shape.(*intakev1.PerimeterInput_Geojson); ok {
			pin = perimeter.Input{Format: perimeter.GeoJSON, Text: in.GetGeojson(), SRID: int(in.GetSrid())}
		}
		p, err := perimeter.Parse(pin, lim.Perimeter)
		if err != nil {
			var perr *perimeter.Error
			if errorsAs(err, &perr) {
				for _, v := range perr.Violations {
					add(v.Field, "%s", v.Description)
				}
			} else {
				add("perimeter", "%v", err)
			}
			return nil, 0
		}
		return &eventsv1.Perimeter{Wkt: p.WKT, SubmittedSrid: int32(p.SubmittedSRID)}, p.AreaKm2
	case *intakev1.PerimeterInput_Areas:
		areas := shape.Areas.GetAreas()
		if len(areas) == 0 {
			add("perimeter.areas", "at least one commune, département, 10 km cell or natural area")
			return nil, 0
		}
		if len(areas) > lim.MaxAreas {
			add("perimeter.areas", "at most %d geographic objects (%d given): use a geometry instead", lim.MaxAreas, len(areas))
			return nil, 0
		}
		out := &eventsv1.Perimeter{}
		seen := map[string]bool{}
		for i, a := range areas {
			kind, code := strings.TrimSpace(a.GetKind()), strings.TrimSpace(a.GetCode())
			re, ok := areaCodes[kind]
			switch {
			case !ok:
				add(fmt.Sprintf("perimeter.areas[%d].kind", i), "%q: want commune, departement, maille10 or espace_naturel", kind)
			case !re.MatchString(code):
				add(fmt.Sprintf("perimeter.areas[%d].code", i), "%q is not a %s code (%s)", code, kind, example(kind))
			case !seen[kind+"/"+code]:
				seen[kind+"/"+code] = true
				out.Areas = append(out.Areas, &eventsv1.AreaRef{Kind: kind, Code: code})
			}
		}
		return out, 0
	}
	add("perimeter", "required: a geometry (wkt or geojson) or a list of geographic objects (areas)")
	return nil, 0
}

func example(kind string) string {
	switch kind {
	case "commune":
		return "the INSEE code, like 31555"
	case "departement":
		return "like 31"
	case "maille10":
		return "like 10kmL93E057N627"
	}
	return "letters, digits, - and _"
}

func checkScope(s *eventsv1.TaxonomicScope, lim Limits, add func(string, string, ...any)) *eventsv1.TaxonomicScope {
	out := &eventsv1.TaxonomicScope{}
	for i, p := range s.GetPoles() {
		p = strings.TrimSpace(p)
		if !slices.Contains(Poles, p) {
			add(fmt.Sprintf("scope.poles[%d]", i), "unknown pôle %q (known: %s)", p, strings.Join(Poles, ", "))
			continue
		}
		if !slices.Contains(out.Poles, p) {
			out.Poles = append(out.Poles, p)
		}
	}
	if len(s.GetCdRefs()) > lim.MaxCdRefs {
		add("scope.cd_refs", "at most %d taxa (%d given): name pôles instead", lim.MaxCdRefs, len(s.GetCdRefs()))
		return out
	}
	for i, r := range s.GetCdRefs() {
		if r <= 0 || r > 99_999_999 {
			add(fmt.Sprintf("scope.cd_refs[%d]", i), "%d is not a TAXREF cd_ref", r)
			continue
		}
		if !slices.Contains(out.CdRefs, r) {
			out.CdRefs = append(out.CdRefs, r)
		}
	}
	slices.Sort(out.Poles)
	slices.Sort(out.CdRefs)
	return out
}

func checkPeriod(p *eventsv1.Period, today time.Time, add func(string, string, ...any)) *eventsv1.Period {
	out := &eventsv1.Period{}
	if p == nil {
		return out
	}
	dates := map[string]time.Time{}
	for _, f := range []struct{ field, v string }{{"period.from", p.From}, {"period.to", p.To}} {
		v := strings.TrimSpace(f.v)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, v)
		switch {
		case err != nil || !dateRe.MatchString(v):
			add(f.field, "%q: want a date like 2015-06-30", v)
			continue
		case t.Year() < 1800:
			add(f.field, "%s: before 1800", v)
			continue
		case t.After(today):
			add(f.field, "%s is in the future (today is %s)", v, today.Format(time.DateOnly))
			continue
		}
		dates[f.field] = t
	}
	from, okFrom := dates["period.from"]
	to, okTo := dates["period.to"]
	if okFrom && okTo && from.After(to) {
		add("period", "reversed: from %s is after to %s", p.From, p.To)
	}
	if okFrom {
		out.From = from.Format(time.DateOnly)
	}
	if okTo {
		out.To = to.Format(time.DateOnly)
	}
	return out
}

func errorsAs(err error, target **perimeter.Error) bool { return errors.As(err, target) }
