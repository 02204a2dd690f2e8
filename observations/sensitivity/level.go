package sensitivity

import (
	"slices"
	"time"
)

// Observation is what a rule looks at.
type Observation struct {
	CdRef            int
	Departements     []string // départements the observation lies in
	DateFin          time.Time
	StatutBiologique string // STATUT_BIO code
	Comportement     string // OCC_COMPORTEMENT code
}

// Comportement returns the OCC_COMPORTEMENT code that carries a STATUT_BIO
// code of the standard's version 1: migratory halt, swarming, hunting,
// passage, erratic and sedentary became behaviours in version 2, with the
// same codes. Referentials written against v1 (like the SINP's) use them.
func Comportement(statutBiologique string) string {
	switch statutBiologique {
	case "6", "7", "8", "10", "11", "12":
		return statutBiologique
	}
	return ""
}

// Referential holds rules indexed by taxon.
type Referential struct {
	Name    string
	Version string
	byTaxon map[int][]Rule
}

// NewReferential indexes rules by the cd_ref of their taxon; cdRef maps a
// cd_nom to its cd_ref (nil, or a cd_nom it does not know, keeps the cd_nom).
func NewReferential(name, version string, rules []Rule, cdRef func(cdNom int) (int, bool)) *Referential {
	r := &Referential{Name: name, Version: version, byTaxon: map[int][]Rule{}}
	for _, rule := range rules {
		ref := rule.CdNom
		if cdRef != nil {
			if v, ok := cdRef(rule.CdNom); ok {
				ref = v
			}
		}
		r.byTaxon[ref] = append(r.byTaxon[ref], rule)
	}
	return r
}

// Rules returns the rules of a taxon (by cd_ref).
func (r *Referential) Rules(cdRef int) []Rule { return r.byTaxon[cdRef] }

// Taxa returns the cd_ref of every taxon with a rule.
func (r *Referential) Taxa() []int {
	out := make([]int, 0, len(r.byTaxon))
	for k := range r.byTaxon {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Matches reports whether rule applies to o, observed by today's year.
//
// A rule applies when the observation is of its taxon, lies in its
// département, is recent enough (the year of its end date plus duree is at
// least the current year, as GeoNature counts) and, when the rule names a
// biological status, has that status (or, for a v1 status that became a
// behaviour, that behaviour).
func Matches(rule Rule, o Observation, year int) bool {
	if !slices.Contains(o.Departements, rule.CdDept) {
		return false
	}
	if rule.Duree > 0 && o.DateFin.Year()+rule.Duree < year {
		return false
	}
	if s := rule.StatutBiologique; s != "" && s != o.StatutBiologique {
		if c := Comportement(s); c == "" || c != o.Comportement {
			return false
		}
	}
	return true
}

// Level returns the sensitivity level of o on the given day: the highest
// level of the rules that apply, 0 when none does.
func (r *Referential) Level(o Observation, today time.Time) int {
	level := 0
	for _, rule := range r.byTaxon[o.CdRef] {
		if rule.Codage > level && Matches(rule, o, today.Year()) {
			level = rule.Codage
		}
	}
	return level
}
