// Package sqldb implements every metadata Store of Lakebox on database/sql,
// for SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx).
//
// Queries are written once with "?" placeholders and rebound for PostgreSQL.
// Schema migrations are embedded (migrations/NNNN_name.sql), applied in order
// at Open, each in its own transaction, and recorded in schema_migrations.
// On PostgreSQL a session advisory lock serialises replicas that start at the
// same time; on SQLite an immediate transaction does.
//
// Driver errors are translated at this edge: sql.ErrNoRows → errs.NotFound,
// unique violations → errs.AlreadyExists.
package sqldb
