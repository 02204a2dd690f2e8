// Package extraction turns an instructed request into F1 and F2 archives,
// or counts what they would hold (Estimate) through the same stages with
// a sink that only counts. It is a pipeline of small stages, each in its
// own file:
//
//	spec.go       what to extract (from a request's messages); field errors
//	select.go     the streaming selection from oc_dat.v_extract_source (COPY)
//	record.go     splitting the COPY stream into records and fields
//	classify.go   F1 / F2 placement by sensitivity, diffusion level, entitlement
//	blur.go       the blurring object of a sensitive row in F1
//	route.go      each row to its partitions, blurred or as it is
//	deferred.go   sensitive rows held back and grouped by blurring object
//	partition.go  partition keys and file names
//	columns.go    the column template, the select list, the CSV sidecars
//	areas.go      geometries of communes / cells / départements (cached)
//	metadata.go   the descriptor, dataset and framework sheets, the readme
//	pack.go       the 7z archives, written while the rows stream
//	run.go        the whole, with progress; checks and hashes the archives
//	estimate.go   the same selection and routing into a tally: no file
//
// Rules live in classify.go and blur.go as pure functions; the rest moves
// bytes. Memory stays flat whatever the number of rows: rows are streamed
// from PostgreSQL into compressing archive entries, and the sensitive ones
// wait on disk (deferred.go) for 16 to 32 bytes of memory each. Staging the
// checked archives is the service's (../staging.go).
package extraction
