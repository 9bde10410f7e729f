// Package query is Lakebox's SQL engine: Databricks-flavoured SQL over the
// Delta tables of the catalog, executed by DuckDB. It is the only package
// that imports DuckDB.
//
// A statement is lexed and, for queries, parsed by DuckDB
// (json_serialize_sql) into an AST. Every table reference is resolved
// through the Catalog, checked (USE CATALOG, USE SCHEMA, SELECT), and
// replaced in the statement text by a subquery Lakebox builds:
// read_parquet over the snapshot's files that survive partition and
// statistics pruning, with partition values as constants, column-mapping
// physical names renamed to logical ones, deletion vectors applied, the
// row filter in WHERE and column masks in the projection. Views are
// expanded the same way with their owner's rights. Writes let DuckDB
// compute the new rows (COPY … TO Parquet inside the table's location);
// Lakebox computes statistics from the Parquet footers and commits Delta
// transactions with optimistic concurrency.
//
// Invariants:
//   - User SQL never names a file, a setting, an extension or another
//     database: table functions other than range/generate_series/unnest,
//     COPY … TO, ATTACH, INSTALL/LOAD, SET/PRAGMA, CALL, EXPORT/IMPORT and
//     file-reading functions are refused with PERMISSION_DENIED before
//     DuckDB sees the statement; volume paths (/Volumes/c/s/v/…) are the
//     only exception and need READ VOLUME.
//   - Each statement runs in its own in-memory DuckDB instance that is
//     configured and then locked (enable_external_access=false,
//     allowed_directories = the locations of the statement's tables,
//     lock_configuration=true), with a memory limit and a timeout.
//   - Tables on remote buckets (S3) are read and written through a local
//     mirror directory per table location (filecache.go): the data files a
//     statement scans are materialised there (a read-through cache keyed
//     by key and size, LRU-bounded, files pinned while a statement uses
//     them) and files DuckDB writes there are uploaded before the Delta
//     commit names them. Volume files are read on local disk only.
//   - A failed statement changes nothing: data files written before a
//     failed commit are orphans that VACUUM removes.
//   - Catalog metadata (names, owners, grants, row filters, masks, views,
//     functions) comes from Catalog; the table schema from the Delta log.
package query
