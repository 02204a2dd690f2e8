// Package perimeter owns intake's validation of the perimeter a requester
// draws for an extraction request: it reads WKT or GeoJSON, checks the
// geometry as PostGIS ST_IsValid would, projects it to Lambert-93
// (EPSG:2154), enforces the platform's limits (size, vertices, area, the
// region) and says what is wrong as field violations the gRPC layer turns
// into a BadRequest. It is pure: no database, no network, no globals.
//
//	perimeter.go  the API: Input, Limits, Parse, Perimeter, Error
//	wkt.go        the WKT / EWKT reader
//	geojson.go    the GeoJSON reader (RFC 7946), its own small JSON scanner
//	check.go      coordinates, rings, orientation, area, limits, the output
//	topology.go   self-intersections, crossing rings, holes, overlaps
//	region.go     the region a perimeter must reach
//	lambert93.go  EPSG:4326 <-> EPSG:2154
//	text.go       line and column of an error, how numbers are written
//
// Conventions. Rings come out closed, outer rings counter-clockwise and
// holes clockwise (OGC SFA 1.2 and RFC 7946's right-hand rule); a ring
// submitted the other way round is turned, not refused. Z and M values are
// accepted and dropped: a perimeter is a 2D surface. Coordinates are rounded
// to the centimetre in EPSG:2154 before the geometry is checked, so what is
// checked is exactly what Perimeter.WKT says. Both readers stop as soon as
// the vertex limit is passed, so memory is bounded by Limits.MaxVertices
// whatever the size of the text.
package perimeter
