package extraction

import (
	"reflect"
	"testing"
)

func TestCompanionValues(t *testing.T) {
	book := map[AreaRef]AreaInfo{
		{KindCommune, "31555"}:            {Name: "Toulouse", Referential: "IGN Admin Express", Version: "2018"},
		{KindCommune, "31069"}:            {Name: "Blagnac", Referential: "IGN Admin Express", Version: "2018"},
		{KindMaille10, "10kmL93E057N628"}: {Name: "10kmL93E057N628", Referential: "Grille INPN", Version: "1.0"},
		{KindDepartement, "31"}:           {Name: "Haute-Garonne", Referential: "IGN Admin Express", Version: "2018"},
		{KindEspaceNaturel, "FR7300001"}:  {Name: "Garonne", Type: "N2000", Referential: "INPN", Version: "2018-01"},
		{KindEspaceNaturel, "730010001"}:  {Name: "Ramier", Type: "ZNIEFF1", Referential: "INPN", Version: "2018-01"},
	}
	lookup := func(r AreaRef) (AreaInfo, bool) { i, ok := book[r]; return i, ok }
	none := []string{"", "", ""}
	for _, tc := range []struct {
		name string
		a    Attachment
		want [derivedGroups][]string
	}{
		{"georeferenced: every object deduced from the geometry",
			Attachment{Communes: []string{"31555", "31069"}, Mailles10: []string{"10kmL93E057N628"}, Departements: []string{"31"},
				Espaces: []string{"FR7300001", "730010001"}},
			[derivedGroups][]string{{"NON"}, {"Toulouse|Blagnac", "2018", "2"}, {"Grille INPN", "1.0", "2"}, {"2018", "2"}, {"N2000|ZNIEFF1", "2018-01", "2"}}},
		{"attached to a commune: the commune is the observed object, its département deduced",
			Attachment{Attached: KindCommune, Communes: []string{"31555"}, Departements: []string{"31"}},
			[derivedGroups][]string{{"NON"}, {"Toulouse", "2018", "1"}, none, {"2018", "2"}, none}},
		{"attached to a département",
			Attachment{Attached: KindDepartement, Departements: []string{"31"}},
			[derivedGroups][]string{{"NON"}, none, none, {"2018", "1"}, none}},
		{"attached to a natural area",
			Attachment{Attached: KindEspaceNaturel, Communes: []string{"31555"}, Departements: []string{"31"}, Espaces: []string{"730010001"}},
			[derivedGroups][]string{{"NON"}, {"Toulouse", "2018", "2"}, none, {"2018", "2"}, {"ZNIEFF1", "2018-01", "1"}}},
		{"blurred, even an attached one: nothing is the observed object",
			Attachment{Attached: KindCommune, Communes: []string{"31555"}, Departements: []string{"31"}, Blurred: true},
			[derivedGroups][]string{{"OUI"}, {"Toulouse", "2018", "2"}, none, {"2018", "2"}, none}},
		{"an object the store does not know keeps its place, empty",
			Attachment{Communes: []string{"31555", "99999"}, Departements: []string{"31"}},
			[derivedGroups][]string{{"NON"}, {"Toulouse|", "2018", "2"}, none, {"2018", "2"}, none}},
		{"no object at all",
			Attachment{},
			[derivedGroups][]string{{"NON"}, none, none, {"", ""}, none}},
	} {
		if got := CompanionValues(tc.a, lookup); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestSortCodes(t *testing.T) {
	set := func(codes ...string) map[string]struct{} {
		m := map[string]struct{}{}
		for _, c := range codes {
			m[c] = struct{}{}
		}
		return m
	}
	for _, tc := range []struct {
		in   map[string]struct{}
		want []string
	}{
		{set("10", "2", "1", "0", "21"), []string{"0", "1", "2", "10", "21"}},
		{set("Pr", "No", "NSP"), []string{"NSP", "No", "Pr"}},
		{set("2", "NSP", "10"), []string{"10", "2", "NSP"}}, // not all numbers: as text
	} {
		if got := sortCodes(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sortCodes(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
