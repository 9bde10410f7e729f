// Package delta owns the Delta Lake protocol for Lakebox: log actions, table
// schemas, log segments, snapshots (log replay), scans with data skipping,
// reading data files into Go values, deletion vectors and the change data
// feed. The protocol (PROTOCOL.md of delta-io/delta) is the authority; the
// layering follows delta-kernel-rs.
//
// A table is a blob.Bucket plus a root key prefix (Table). Nothing here
// touches the local file system, the network or global state directly.
//
// # Invariants
//
//   - Snapshots are immutable. A Snapshot is built from exactly one
//     LogSegment: at most one complete checkpoint plus the contiguous commits
//     after it; a gap in versions is an error (DELTA_VERSIONS_NOT_CONTIGUOUS),
//     never silently skipped.
//   - Log replay runs newest to oldest; the newest protocol, metaData, txn
//     and domainMetadata win; a file is identified by its canonical path
//     (percent-decoded, "file:" URIs reduced to absolute paths) plus its
//     deletion vector id, and within a commit an add wins over a remove of
//     the same key.
//   - Unknown actions and unknown fields are ignored (forward compatibility);
//     unknown reader features and reader versions > 3 are refused before any
//     data is returned.
//   - Every error is an *errs.Error with a stable reason (errors.go) and a
//     message naming the file and the problem.
//   - Rows are positional (Row) against the StructType they were read with,
//     using logical column names; column-mapping physical names never leave
//     this package.
//
// # Files
//
//	actions.go          action structs, ParseActions / MarshalActions (JSON)
//	schema.go           Delta data types, schemaString parse/serialise, column-mapping and type-widening metadata
//	path.go             log path decoding/canonicalisation, Hive partition escaping
//	logsegment.go       listing _delta_log/, _last_checkpoint, choosing checkpoint + commits
//	checkpoint_read.go  reading classic, multi-part and V2 checkpoints (JSON/Parquet, sidecars)
//	snapshot.go         log replay, protocol checks, Snapshot accessors
//	timetravel.go       snapshots by timestamp, commit history
//	table.go            Table (bucket + root), object reads
//	value.go            the Go value model (Row, Decimal, MapEntry)
//	encode.go           JSON-lines encoding of rows (the delta-compat corpus encoding)
//	partition.go        typed partition values
//	stats.go            per-file statistics parsing
//	predicate.go        predicates and data skipping
//	scan.go             Scan: files surviving skipping, reading rows
//	parquet_read.go     Parquet data files into rows (nested, legacy lists/maps, timestamps, decimals, widening)
//	dv.go               deletion vectors: Z85, RoaringBitmap 64-bit portable format, DV files
//	cdf.go              change data feed between versions
//
// The write path (transaction*.go, commit*.go, write*.go,
// checkpoint_write*.go, optimize*.go, vacuum*.go, restore*.go) is owned by
// a separate effort and builds on these types.
package delta
