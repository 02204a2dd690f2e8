package extraction

import (
	"reflect"
	"testing"
)

// The table reads like DESIGN.md, section "Extraction".
func TestEffectiveLevel(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		sensi, dsPub, nivPrec string
		want                  Level
	}{
		{"public, not sensitive", "0", "Pu", "0", Precise},
		{"public data ignore a diffusion level", "0", "Pu", "3", Precise},
		{"sensitive at commune level", "1", "Pu", "", Commune},
		{"sensitive at cell level", "2", "Pu", "", Maille10},
		{"sensitive at département level", "3", "Pu", "", Departement},
		{"no diffusion", "4", "Pu", "", NoDiffusion},
		{"private data blurred by its producer to the cell", "0", "Pr", "2", Maille10},
		{"private: the coarser of the two applies (producer)", "1", "Pr", "3", Departement},
		{"private: the coarser of the two applies (sensitivity)", "3", "Pr", "1", Departement},
		{"private with producer's 'none' is not diffused", "0", "Pr", "4", NoDiffusion},
		{"private 'precise' is diffused as it is", "0", "Pr", "5", Precise},
		{"private 'standard' is blurred to the commune", "0", "Pr", "0", Commune},
		{"private without a level is at the standard level", "0", "Pr", "", Commune},
		{"private 'standard' yields to a coarser sensitivity", "2", "Pr", "0", Maille10},
		{"private 'precise' does not lift a sensitivity", "3", "Pr", "5", Departement},
		{"private with an unknown level is not diffused", "0", "Pr", "9", NoDiffusion},
		{"public data ignore NIV_PRECIS even when 'none'", "0", "Pu", "4", Precise},
		{"unknown sensitivity leaks nothing", "7", "Pu", "", NoDiffusion},
	} {
		if got := EffectiveLevel(tc.sensi, tc.dsPub, tc.nivPrec); got != tc.want {
			t.Errorf("%s: EffectiveLevel(%q,%q,%q) = %d, want %d", tc.name, tc.sensi, tc.dsPub, tc.nivPrec, got, tc.want)
		}
	}
}

func TestPlace(t *testing.T) {
	for _, tc := range []struct {
		name     string
		level    Level
		entitled bool
		want     Placement
	}{
		{"precise data: F1 as is, for everyone", Precise, false, Placement{F1: true}},
		{"precise data are not F2", Precise, true, Placement{F1: true}},
		{"sensitive, adherent: F1 blurred and F2", Maille10, true, Placement{F1: true, Blur: Maille10, F2: true}},
		{"sensitive, non-adherent: F1 blurred only", Commune, false, Placement{F1: true, Blur: Commune}},
		{"level 4, adherent: F2 only", NoDiffusion, true, Placement{F2: true}},
		{"level 4, non-adherent: nowhere", NoDiffusion, false, Placement{}},
	} {
		if got := Place(tc.level, tc.entitled); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestBlurObject(t *testing.T) {
	one := Containment{Communes: []string{"31555"}, Mailles10: []string{"10kmL93E057N628"}, Departements: []string{"31"}}
	twoCommunes := Containment{Communes: []string{"31555", "31069"}, Mailles10: []string{"10kmL93E057N628"}, Departements: []string{"31"}}
	twoCells := Containment{Communes: []string{"31555", "31069"}, Mailles10: []string{"10kmL93E057N628", "10kmL93E057N629"}, Departements: []string{"31"}}
	twoDepts := Containment{Communes: []string{"31555", "81004"}, Mailles10: []string{"a", "b"}, Departements: []string{"31", "81"}}
	for _, tc := range []struct {
		name  string
		level Level
		c     Containment
		want  AreaRef
		ok    bool
	}{
		{"commune level, one commune", Commune, one, AreaRef{KindCommune, "31555"}, true},
		{"commune level across two communes: the cell", Commune, twoCommunes, AreaRef{KindMaille10, "10kmL93E057N628"}, true},
		{"commune level across communes and cells: the département", Commune, twoCells, AreaRef{KindDepartement, "31"}, true},
		{"cell level", Maille10, one, AreaRef{KindMaille10, "10kmL93E057N628"}, true},
		{"cell level across two cells", Maille10, twoCells, AreaRef{KindDepartement, "31"}, true},
		{"département level never gives a commune", Departement, one, AreaRef{KindDepartement, "31"}, true},
		{"across two départements: nothing unique, withheld", Commune, twoDepts, AreaRef{}, false},
		{"precise rows are not blurred", Precise, one, AreaRef{}, false},
		{"level 4 has no F1 geometry", NoDiffusion, one, AreaRef{}, false},
	} {
		got, ok := BlurObject(tc.level, tc.c)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// A blurred row must not show codes finer than its blurring object, and
// shows the département of a cell only when one département covers it.
func TestBlurredCodesNeverNarrowTheObject(t *testing.T) {
	c := Containment{Communes: []string{"31555"}, Mailles10: []string{"10kmL93E057N628"}, Departements: []string{"31"}}
	cell := AreaRef{KindMaille10, "10kmL93E057N628"}
	for _, tc := range []struct {
		name   string
		ref    AreaRef
		cellIn []string
		want   Containment
	}{
		{"commune: its département, no cell", AreaRef{KindCommune, "31555"}, nil,
			Containment{Communes: []string{"31555"}, Departements: []string{"31"}}},
		{"cell inside one département: that one", cell, []string{"31"},
			Containment{Mailles10: []string{cell.Code}, Departements: []string{"31"}}},
		{"cell across a border: no département", cell, []string{"31", "32"},
			Containment{Mailles10: []string{cell.Code}}},
		{"cell covered by no stored département (region's edge): none", cell, nil,
			Containment{Mailles10: []string{cell.Code}}},
		{"département: itself only", AreaRef{KindDepartement, "31"}, nil,
			Containment{Departements: []string{"31"}}},
	} {
		if got := tc.ref.Codes(c, tc.cellIn); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
