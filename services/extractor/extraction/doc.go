// Package extraction turns an instructed request into F1 and F2 archives.
// It is a pipeline of small stages, each in its own file:
//
//	spec.go       what to extract (from RequestInstructed)
//	select.go     the streaming selection from oc_dat.v_extract_source (COPY)
//	record.go     splitting the COPY stream into records and fields
//	classify.go   F1 / F2 placement by sensitivity, diffusion level, entitlement
//	blur.go       the blurring object of a sensitive row in F1
//	partition.go  partition keys and file names
//	row.go        writing one CSV row of a partition (blurred or not)
//	areas.go      geometries of communes / cells / départements (cached)
//	descriptor.go the column and code descriptor
//	metadata.go   dataset and framework sheets, readme
//	pack.go       the 7z archives, written while the rows stream
//	stage.go      verified archives moved into the staging area
//	run.go        the whole, with progress
//
// Rules live in classify.go and blur.go as pure functions; the rest moves
// bytes. Memory stays flat whatever the number of rows: rows are streamed
// from PostgreSQL into compressing archive entries.
package extraction
