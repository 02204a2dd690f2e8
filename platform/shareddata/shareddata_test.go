package shareddata

import "testing"

func TestRequireFindsTheGeoFolder(t *testing.T) {
	p := Require(t, "geo", "departements-occitanie.geojson")
	if p == "" {
		t.Fatal("empty path")
	}
}
