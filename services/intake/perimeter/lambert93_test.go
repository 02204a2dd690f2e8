package perimeter

import (
	"math"
	"testing"
)

// lambert93Reference holds ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat),
// 4326), 2154) as PostGIS 3.3.2 with PROJ 9.1.1 prints it
// (extra_float_digits=3).
var lambert93Reference = []struct {
	name     string
	lon, lat float64
	x, y     float64
}{
	{"Toulouse, Capitole", 1.444209, 43.604652, 574358.4417566455, 6279637.624341529},
	{"Montpellier, Comédie", 3.876716, 43.610769, 770796.8390817437, 6279472.703897935},
	{"Perpignan, Castillet", 2.894833, 42.688659, 691370.8087092759, 6176566.024716668},
	{"origin of the projection", 3, 46.5, 700000, 6600000},
	{"Occitanie's box, south-west", -0.32717, 42.33305, 425412.47119104816, 6142787.203622494},
	{"Occitanie's box, south-east", 4.84555, 42.33305, 852342.3359104953, 6138781.71591427},
	{"Occitanie's box, north-west", -0.32717, 45.04669, 438117.093968798, 6444122.749516046},
	{"Occitanie's box, north-east", 4.84555, 45.04669, 845293.756831834, 6440302.587815141},
	{"Paris", 2.352222, 48.856613, 652470.6487356408, 6862036.69166408},
	{"Brest", -4.486076, 48.390394, 146634.68413923483, 6836261.4945467245},
	{"Strasbourg", 7.752111, 48.573405, 1050363.4719549266, 6840900.25083002},
	{"Ajaccio", 8.738635, 41.919229, 1176670.2291407008, 6108276.714270357},
	{"Dunkerque", 2.376776, 51.034368, 656185.8019632546, 7104469.369433008},
	{"Reykjavik", -21.9424, 64.1466, -560596.4388600383, 8798447.445983477},
	{"New York", -74.006, 40.7128, -4845662.665438537, 8897548.794431165},
	{"Dakar", -17.4677, 14.7167, -1798378.4416613672, 3233941.959511438},
	{"equator on the central meridian", 3, 0, 700000, 901356.623779987},
	{"Sydney", 151.2093, -33.8688, 18340916.983012456, 18231930.806740202},
	{"89°N", 3, 89, 700000, 12277012.604834806},
	{"North Pole", 3, 90, 700000, 12655612.049875997},
	{"antimeridian at 45°N", 180, 45, 5574093.891444142, 16523285.157662278},
	{"60°S 60°W", -60, -60, -21087107.195503015, -8595671.985910552},
}

func TestToLambert93AgreesWithPostGIS(t *testing.T) {
	for _, p := range lambert93Reference {
		x, y := ToLambert93(p.lon, p.lat)
		if dx, dy := x-p.x, y-p.y; math.Abs(dx) >= 1e-3 || math.Abs(dy) >= 1e-3 {
			t.Errorf("%s (%v %v): got (%.4f %.4f), PostGIS says (%.4f %.4f): off by (%.2g %.2g) m", p.name, p.lon, p.lat, x, y, p.x, p.y, dx, dy)
		}
	}
}

func TestFromLambert93InvertsToLambert93(t *testing.T) {
	for _, p := range lambert93Reference {
		lon, lat := FromLambert93(p.x, p.y)
		if math.Abs(lat-p.lat) > 1e-9 || math.Abs(math.Remainder(lon-p.lon, 360)) > 1e-9 && p.lat != 90 {
			t.Errorf("%s: FromLambert93(%v, %v) = (%v %v), want (%v %v)", p.name, p.x, p.y, lon, lat, p.lon, p.lat)
		}
	}
}

// The written-out constants are those of the EPSG:2154 definition.
func TestLambert93Constants(t *testing.T) {
	const a, invF = 6378137.0, 298.257222101
	f := 1 / invF
	e := math.Sqrt(f * (2 - f))
	m := func(phi float64) float64 { return math.Cos(phi) / math.Sqrt(1-e*e*math.Sin(phi)*math.Sin(phi)) }
	phi1, phi2, phi0 := 49*degToRadian, 44*degToRadian, 46.5*degToRadian
	n := (math.Log(m(phi1)) - math.Log(m(phi2))) / (math.Log(isometricT(phi1)) - math.Log(isometricT(phi2)))
	aF := a * m(phi1) / (n * math.Pow(isometricT(phi1), n))
	rho0 := aF * math.Pow(isometricT(phi0), n)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"e", l93E, e}, {"n", l93N, n}, {"aF", l93AF, aF}, {"rho0", l93Rho0, rho0}} {
		if math.Abs(c.got-c.want) > 1e-14*math.Abs(c.want) {
			t.Errorf("%s = %.17g, the definition gives %.17g", c.name, c.got, c.want)
		}
	}
}
