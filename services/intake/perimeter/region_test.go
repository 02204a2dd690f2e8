package perimeter

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"sinp.occitanie.fr/platform/shareddata"
)

var occitanieOnce = sync.OnceValues(func() (*Region, error) {
	path, err := shareddata.Dir()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path + "/geo/region-occitanie.geojson")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return RegionFromGeoJSON(f)
})

// occitanie is the region outline of IGN's Admin Express, from the shared
// data; the test is skipped without it, except in CI.
func occitanie(t testing.TB) *Region {
	t.Helper()
	shareddata.Require(t, "geo", "region-occitanie.geojson")
	r, err := occitanieOnce()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func regionLimits(t testing.TB) Limits {
	l := DefaultLimits()
	l.Region = occitanie(t)
	return l
}

// departementsArea is ST_Area(ST_SnapToGrid(ST_Transform(geom, 2154),
// 0.01)) / 1e6 of each département in departements-occitanie.geojson, as
// PostGIS 3.3.2 computes it.
var departementsArea = map[string]float64{
	"09": 4921.387716246846, "11": 6354.310001418199, "12": 8770.22009157138, "30": 5875.509611491115,
	"31": 6365.20119714811, "32": 6303.707347319441, "34": 6234.510578889252, "46": 5221.932075651146,
	"48": 5172.255137432359, "65": 4528.744018962609, "66": 4150.220526787446, "81": 5783.984462069307,
	"82": 3730.153902930698,
}

// Every département of Occitanie, as the requester would paste it from
// IGN's data, is a valid perimeter: Hérault and the Hautes-Pyrénées are
// multipolygons, the Pyrénées-Orientales have a hole (Llívia).
func TestEveryDepartementIsAPerimeter(t *testing.T) {
	lim := regionLimits(t)
	data, err := os.ReadFile(shareddata.Require(t, "geo", "departements-occitanie.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 13 {
		t.Fatalf("%d départements, want 13", len(fc.Features))
	}
	for _, raw := range fc.Features {
		var f struct {
			Properties struct{ Code, Nom string } `json:"properties"`
		}
		json.Unmarshal(raw, &f)
		t.Run(f.Properties.Code+" "+f.Properties.Nom, func(t *testing.T) {
			p := mustParse(t, Input{Format: GeoJSON, Text: string(raw)}, lim)
			want := departementsArea[f.Properties.Code]
			if math.Abs(p.AreaKm2-want) > 1e-6 {
				t.Errorf("area %.6f km², PostGIS says %.6f", p.AreaKm2, want)
			}
			checkConvention(t, p)
			again := mustParse(t, Input{Format: WKT, Text: p.WKT, SRID: SRIDLambert93}, lim)
			if again.WKT != p.WKT {
				t.Errorf("its WKT does not read back the same")
			}
		})
	}
}

func TestRegion(t *testing.T) {
	lim := regionLimits(t)
	for _, c := range []struct {
		name   string
		in     Input
		lim    Limits
		field  string // "" when accepted
		phrase string
	}{
		{"a 60 km square around Toulouse", Input{WKT, "POLYGON((545000 6250000,605000 6250000,605000 6310000,545000 6310000,545000 6250000))", 2154}, lim, "", ""},
		{"partly in Spain", Input{WKT, "POLYGON((2.5 42.2,3.0 42.2,3.0 42.6,2.5 42.6,2.5 42.2))", 4326}, lim, "", ""},
		{"partly at sea off Sète", Input{GeoJSON, `{"type":"Polygon","coordinates":[[[3.5,43.0],[3.9,43.0],[3.9,43.3],[3.5,43.3],[3.5,43.0]]]}`, 0}, lim, "", ""},
		{"in an exclave of the Hautes-Pyrénées", Input{WKT, "POLYGON((-0.105 43.25,-0.100 43.25,-0.100 43.255,-0.105 43.25))", 4326}, lim, "", ""},
		{"around the whole region", Input{WKT, "POLYGON((-1 41,6 41,6 46,-1 46,-1 41))", 4326}, Limits{Region: lim.Region}, "", ""},
		{"Paris and its region", Input{WKT, "POLYGON((1.45 48.12,3.56 48.12,3.56 49.24,1.45 49.24,1.45 48.12))", 4326}, lim, FieldWKT,
			"the perimeter lies entirely outside the region the platform covers"},
		{"Paris in Lambert-93", Input{WKT, "POLYGON((640000 6850000,660000 6850000,660000 6870000,640000 6870000,640000 6850000))", 2154}, lim, FieldWKT,
			"lies entirely outside the region"},
		{"inside Llívia, a Spanish enclave", Input{WKT, "POLYGON((1.975 42.455,1.985 42.455,1.985 42.465,1.975 42.465,1.975 42.455))", 4326}, lim, FieldWKT,
			"lies entirely outside the region"},
		{"Toulouse in longitude/latitude given as Lambert-93", Input{WKT, box4326, 2154}, lim, FieldSRID,
			"the perimeter lies entirely outside the region; its coordinates look like longitude/latitude: submit with srid 4326"},
		{"Toulouse with latitude first", Input{WKT, "POLYGON((43.58 1.40,43.58 1.48,43.64 1.48,43.64 1.40,43.58 1.40))", 4326}, lim, FieldWKT,
			"would fall inside it with longitude and latitude swapped"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.field == "" {
				mustParse(t, c.in, c.lim)
				return
			}
			e := parseErr(t, c.in, c.lim)
			for _, v := range e.Violations {
				if v.Field == c.field && strings.Contains(v.Description, c.phrase) {
					return
				}
			}
			t.Errorf("no violation of %s saying %q; got %v", c.field, c.phrase, e.Violations)
		})
	}
}

// Without the shared data, a small region of our own: the box test, the
// boundary test and the containment test each decide once.
func TestRegionMeets(t *testing.T) {
	square := func(x0, y0, side float64) Polygon {
		return Polygon{Ring{{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}, {x0, y0}}}
	}
	withHole := append(square(500000, 6200000, 100000), square(520000, 6220000, 20000)[0])
	region := NewRegion(withHole)
	lim := DefaultLimits()
	lim.MaxAreaKm2 = 0
	lim.Region = region
	wkt := func(p Polygon) string {
		var b strings.Builder
		b.WriteString("POLYGON((")
		for i, v := range p[0] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(number(v[0]) + " " + number(v[1]))
		}
		b.WriteString("))")
		return b.String()
	}
	for _, c := range []struct {
		name  string
		shape Polygon
		meets bool
	}{
		{"far away", square(0, 0, 1000), false},
		{"in the box, outside the outline's hole", square(550000, 6250000, 1000), true},
		{"in the hole", square(525000, 6225000, 1000), false},
		{"around the hole", square(515000, 6215000, 30000), true},
		{"astride the edge", square(590000, 6250000, 20000), true},
		{"touching a corner from outside", square(600000, 6300000, 1000), true},
		{"around everything", square(400000, 6100000, 300000), true},
	} {
		_, err := Parse(Input{WKT, wkt(c.shape), 2154}, lim)
		if (err == nil) != c.meets {
			t.Errorf("%s: meets the region %v, got error %v", c.name, c.meets, err)
		}
	}
}

func TestRegionFromGeoJSONRefusesWhatIsNotAnOutline(t *testing.T) {
	for _, text := range []string{
		`{"type":"Polygon","coordinates":[]}`,
		`{"type":"Point","coordinates":[1,2]}`,
		`{"type":"Polygon","coordinates":[[[570000,6275000],[580000,6275000],[580000,6285000],[570000,6275000]]]}`,
		`{"type":"Polygon"`,
	} {
		if _, err := RegionFromGeoJSON(strings.NewReader(text)); err == nil {
			t.Errorf("RegionFromGeoJSON(%s) took it", text)
		}
	}
}
