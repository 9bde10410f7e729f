// Package audit owns Lakebox's audit log: one Event per API call (and, later,
// per SQL statement), recorded durably before the call is acknowledged and
// committed in batches to the Delta table system.access.audit.
//
// # Flow
//
//	httpapi middleware ──Record──▶ Spool (fsynced segment files) ──▶ response written
//	                                   │
//	                         Batcher (every N events or T seconds, and on Close)
//	                                   ▼
//	      Delta table <warehouse>/__lakebox/system/access/audit (txn appId/version)
//
// # Durability design (both deployment modes)
//
// Every Event is appended to a local spool before Record returns: append-only
// segment files under <data-dir>/spool/<name>/, each record
// [len u32][crc32c u32][seq u64][payload], written and fsynced with group
// commit (concurrent callers share one write+fsync). The same design is used
// with a file:// warehouse and with S3: the spool always lives on the
// replica's data directory, which must therefore be a persistent volume in
// production (a replica that loses its disk loses only events that were not
// yet flushed, at most FlushInterval worth). A metastore table was rejected
// because a SQLite/PostgreSQL round trip per API call costs more than an
// fsync on local disk and would add load to the shared metastore.
//
// Each spool directory holds an "id" file (a random spool id) and a LOCK file
// (flock), so two processes never share a spool. Sequence numbers are
// strictly increasing per spool and survive restarts (segments are named by
// their first sequence number and the newest segment is never deleted).
//
// # Exactly once
//
// A Batcher commits spooled records to its Delta table with
// Transaction.SetTransaction("lakebox-spool-<spool id>", <last seq>), in the
// same commit as the data. On start (and after any failed commit) it reads
// the table's txn version for its app id and skips records at or below it,
// so a crash between the Delta commit and the spool truncation never
// duplicates a row, and a crash before the commit never loses one.
//
// # Table locations
//
// System tables live in the warehouse bucket under __lakebox/system/<schema>/<table>
// (SystemTables lists them with their schemas so the catalog can register
// system.access.*). The audit table is partitioned by event_date.
//
// # Invariants
//
//   - Record returns nil only after the event is on disk (fsync done).
//   - Secrets never reach the spool: Redact* run before Record; token
//     values, Authorization headers and any parameter whose name contains
//     token, secret, password, key or credential are replaced by "[REDACTED]".
//   - The package does no HTTP; httpapi derives events from requests with
//     ParseRoute and the Redact helpers.
package audit
