// Package observations owns the observation store that mirrors the regional
// database biodiv_oc: its schema (Migrations, schema oc_dat), the SINP
// nomenclatures and reference data it ships, the views the extractor reads
// (oc_dat.v_extract_source and friends, catalogued in package source), the
// sensitivity computation (package sensitivity), the seed generator (package
// seed) and the loading statistics (package stats), with their `sinp`
// commands (Commands).
package observations
