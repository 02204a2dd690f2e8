// Package geonature holds the end-to-end test of the extractor over a
// GeoNature database: GeoNature's own table definitions and sample data,
// the adapter of sinp.occitanie.fr/observations/geonature installed, and
// extraction.Extract run on it unchanged (F1 and F2).
package geonature
