package perimeter

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Region is the area the platform covers, in EPSG:2154. A perimeter must
// reach it; a perimeter partly outside is fine (only what lies inside has
// observations). Its bounding box turns most far perimeters away at once.
type Region struct {
	polys []polygon
	box   box
	segs  []segment
}

// NewRegion builds a region from polygons in EPSG:2154 metres (rings
// closed or not). Positions beyond ±100,000 km are clamped there; rings with fewer than three distinct corners are ignored.
func NewRegion(polygons ...Polygon) *Region {
	r := &Region{}
	for _, pg := range polygons {
		var poly polygon
		for i, rg := range pg {
			var out ring
			for _, v := range rg {
				p := point{clampCoord(v[0] * 100), clampCoord(v[1] * 100)}
				if n := len(out.pts); n == 0 || out.pts[n-1] != p {
					out.pts = append(out.pts, p)
				}
			}
			if n := len(out.pts); n > 1 && out.pts[n-1] == out.pts[0] {
				out.pts = out.pts[:n-1]
			}
			if len(out.pts) < 3 {
				if i == 0 {
					break
				}
				continue
			}
			poly.rings = append(poly.rings, out)
		}
		if len(poly.rings) > 0 {
			r.polys = append(r.polys, poly)
		}
	}
	for i, p := range r.polys {
		b := boxOf(p.rings[0].pts)
		if i == 0 {
			r.box = b
		} else {
			r.box = box{min(r.box.minX, b.minX), min(r.box.minY, b.minY), max(r.box.maxX, b.maxX), max(r.box.maxY, b.maxY)}
		}
	}
	r.segs = appendSegments(nil, r.polys)
	return r
}

func clampCoord(v float64) int64 {
	if math.IsNaN(v) {
		return 0
	}
	return int64(math.Round(max(-maxCoord, min(maxCoord, v))))
}

// RegionFromGeoJSON reads a region outline in WGS84 longitude/latitude (a
// Polygon, MultiPolygon, Feature or FeatureCollection, such as the IGN
// Admin Express outline of Occitanie) and projects it to Lambert-93.
func RegionFromGeoJSON(r io.Reader) (*Region, error) {
	const maxBytes = 256 << 20
	data, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("perimeter.RegionFromGeoJSON: %w", err)
	}
	if len(data) > maxBytes {
		return nil, fmt.Errorf("perimeter.RegionFromGeoJSON: more than %s", byteSize(maxBytes))
	}
	text := string(data)
	src, rerr := readGeoJSON(text, math.MaxInt)
	if rerr != nil {
		return nil, fmt.Errorf("perimeter.RegionFromGeoJSON: %s", rerr.describe(text))
	}
	if src.crsIssue != "" {
		return nil, fmt.Errorf("perimeter.RegionFromGeoJSON: %s", src.crsIssue)
	}
	var polys []Polygon
	for _, sp := range src.polygons {
		var pg Polygon
		for _, sr := range sp.rings {
			rg := make(Ring, len(sr))
			for i, v := range sr {
				if !(math.Abs(v[0]) <= 180 && math.Abs(v[1]) < 90) {
					return nil, fmt.Errorf("perimeter.RegionFromGeoJSON: position (%s %s) is not a longitude/latitude", number(v[0]), number(v[1]))
				}
				rg[i][0], rg[i][1] = ToLambert93(v[0], v[1])
			}
			pg = append(pg, rg)
		}
		polys = append(polys, pg)
	}
	region := NewRegion(polys...)
	if len(region.polys) == 0 {
		return nil, errors.New("perimeter.RegionFromGeoJSON: no polygon in the outline")
	}
	return region, nil
}

// meets reports whether the perimeter and the region have any point in
// common.
func (r *Region) meets(polys []polygon) bool {
	if len(r.polys) == 0 || len(polys) == 0 {
		return false
	}
	pb := boxOf(polys[0].rings[0].pts)
	for _, p := range polys[1:] {
		b := boxOf(p.rings[0].pts)
		pb = box{min(pb.minX, b.minX), min(pb.minY, b.minY), max(pb.maxX, b.maxX), max(pb.maxY, b.maxY)}
	}
	if !pb.meets(r.box) {
		return false
	}
	// The perimeter's segments, then the region's near it.
	segs := appendSegments(nil, polys)
	split := len(segs)
	for _, s := range r.segs {
		if s.box.meets(pb) {
			segs = append(segs, s)
		}
	}
	boundariesMeet := !sweep(segs, split, func(a, b *segment) bool {
		kind, _ := intersect(a.a, a.b, b.a, b.b)
		return kind == apart
	})
	if boundariesMeet {
		return true
	}
	// The boundaries are apart: either one lies inside the other, or
	// they are disjoint, and any corner tells.
	for _, p := range polys {
		if containedIn(p.rings[0].pts[0], r.polys) {
			return true
		}
	}
	for _, p := range r.polys {
		if containedIn(p.rings[0].pts[0], polys) {
			return true
		}
	}
	return false
}

func containedIn(p point, polys []polygon) bool {
	q := point{2 * p.x, 2 * p.y}
	for _, poly := range polys {
		if locate(q, poly.rings[0].pts) != inside {
			continue
		}
		inHole := false
		for _, h := range poly.rings[1:] {
			if locate(q, h.pts) == inside {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}
