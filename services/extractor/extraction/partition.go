package extraction

import (
	"fmt"

	"sinp.occitanie.fr/observations/source"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// File kinds.
const (
	F1 = "F1"
	F2 = "F2"
)

// Geometry types of partitions (the type of the geometry written).
const (
	Points      = source.KindPoints
	Lines       = source.KindLines
	Polygons    = source.KindPolygons
	ObjGeograph = source.KindAttached
)

// Key identifies a partition: one CSV file.
type Key struct {
	File     string // F1 or F2
	Pole     string
	Geometry string // "" when the request does not split by geometry type
}

// Name is the CSV file name of the partition inside its archive.
func (k Key) Name() string {
	if k.Geometry == "" {
		return fmt.Sprintf("%s_%s.csv", k.File, k.Pole)
	}
	return fmt.Sprintf("%s_%s_%s.csv", k.File, k.Pole, k.Geometry)
}

// Message is the key as events and the API carry it.
func (k Key) Message() *eventsv1.PartitionKey {
	g := eventsv1.GeometryType_GEOMETRY_TYPE_UNSPECIFIED
	switch k.Geometry {
	case Points:
		g = eventsv1.GeometryType_GEOMETRY_TYPE_POINTS
	case Lines:
		g = eventsv1.GeometryType_GEOMETRY_TYPE_LIGNES
	case Polygons:
		g = eventsv1.GeometryType_GEOMETRY_TYPE_POLYGONES
	case ObjGeograph:
		g = eventsv1.GeometryType_GEOMETRY_TYPE_OBJ_GEOGRAPH
	}
	return &eventsv1.PartitionKey{Kind: FileKind(k.File), Pole: k.Pole, GeometryType: g}
}

// FileKind is F1 or F2 as events and the API carry it.
func FileKind(file string) eventsv1.FileKind {
	if file == F2 {
		return eventsv1.FileKind_FILE_KIND_F2
	}
	return eventsv1.FileKind_FILE_KIND_F1
}

// Deliverable is the archive a partition belongs to: the F1 archive, or the
// F2 archive of the partition's pôle.
func (k Key) Deliverable() DeliverableKey {
	if k.File == F1 {
		return DeliverableKey{File: F1}
	}
	return DeliverableKey{File: F2, Pole: k.Pole}
}

// DeliverableKey identifies an archive.
type DeliverableKey struct {
	File string
	Pole string // F2 only
}

// ID is the deliverable's stable id: "<reference>/F1" or "<reference>/F2/<pole>".
func (d DeliverableKey) ID(reference string) string {
	if d.File == F1 {
		return reference + "/F1"
	}
	return reference + "/F2/" + d.Pole
}

// ArchiveName is the archive's file name.
func (d DeliverableKey) ArchiveName(reference string) string {
	if d.File == F1 {
		return reference + "_F1.7z"
	}
	return reference + "_F2_" + d.Pole + ".7z"
}

// geometryOf is the partition geometry type of a row as written: a blurred
// row carries a commune, cell or département polygon; an attached
// observation stays obj_geograph whatever geometry the policy gives it.
func geometryOf(viewType string, blurred bool) string {
	if viewType == ObjGeograph {
		return ObjGeograph
	}
	if blurred {
		return Polygons
	}
	return viewType
}
