package perimeter

import "math"

// Lambert-93 (EPSG:2154): Lambert Conformal Conic with two standard
// parallels (44°N, 49°N) on GRS80, origin 3°E 46.5°N, false origin
// (700000, 6600000). RGF93 is taken as WGS84 (a null datum shift, as PROJ
// does). The derived constants are written out, not computed at start-up,
// so the package reads no globals; TestLambert93Constants derives them
// again from the definition.
const (
	l93Lon0     = 3.0                  // central meridian, degrees
	l93X0       = 700000.0             // false easting, metres
	l93Y0       = 6600000.0            // false northing, metres
	l93E        = 0.081819191042815792 // GRS80 first eccentricity
	l93N        = 0.72560776505326841  // cone constant n
	l93AF       = 11754255.426096009   // a·F, metres
	l93Rho0     = 6055612.0498759942   // ρ at the latitude of origin, metres
	degToRadian = math.Pi / 180
)

// ToLambert93 projects a WGS84 longitude and latitude (degrees, EPSG:4326)
// to Lambert-93 (EPSG:2154) metres, as PostGIS ST_Transform does to well
// under a millimetre. Latitude -90° has no image (x and y are then huge).
func ToLambert93(lon, lat float64) (x, y float64) {
	dlon := math.Remainder(lon-l93Lon0, 360) // PROJ's adjlon: the nearer way round
	phi := lat * degToRadian
	rho := l93AF * math.Pow(isometricT(phi), l93N)
	theta := l93N * dlon * degToRadian
	return l93X0 + rho*math.Sin(theta), l93Y0 + l93Rho0 - rho*math.Cos(theta)
}

// FromLambert93 is the inverse of ToLambert93: Lambert-93 metres to WGS84
// longitude and latitude in degrees.
func FromLambert93(x, y float64) (lon, lat float64) {
	dx := x - l93X0
	dy := l93Rho0 - (y - l93Y0)
	rho := math.Hypot(dx, dy)
	theta := math.Atan2(dx, dy)
	lon = l93Lon0 + theta/l93N/degToRadian
	if rho == 0 {
		return lon, 90
	}
	t := math.Pow(rho/l93AF, 1/l93N)
	// Latitude from t by fixed-point iteration (Snyder 7-9); it converges to
	// 1e-12 radians in five or six steps for any latitude.
	phi := math.Pi/2 - 2*math.Atan(t)
	for range 15 {
		s := l93E * math.Sin(phi)
		next := math.Pi/2 - 2*math.Atan(t*math.Pow((1-s)/(1+s), l93E/2))
		if math.Abs(next-phi) < 1e-14 {
			phi = next
			break
		}
		phi = next
	}
	return lon, phi / degToRadian
}

// isometricT is Snyder's t(φ) = exp(-ψ), ψ the isometric latitude, written
// as PROJ's pj_tsfn to keep precision on both sides of the equator.
func isometricT(phi float64) float64 {
	s, c := math.Sincos(phi)
	f := c / (1 + s)
	if s <= 0 {
		f = (1 - s) / c
	}
	return math.Exp(l93E*math.Atanh(l93E*s)) * f
}
