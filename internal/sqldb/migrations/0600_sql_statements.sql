-- SQL statements (internal/query) and their result chunks, shared by every
-- replica so that a statement submitted through one can be polled,
-- fetched and canceled through another. finished_at is 0 while the
-- statement runs; heartbeat_at is when the replica running it last said it
-- still does. meta is the registry's JSON description (columns, chunks,
-- error). Chunks are the encoded result (JSON_ARRAY text or Arrow IPC).
CREATE TABLE sql_statements (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL,
    state            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT NOT NULL,
    heartbeat_at     BIGINT NOT NULL,
    cancel_requested INTEGER NOT NULL,
    meta             TEXT NOT NULL
);
CREATE INDEX sql_statements_by_finished ON sql_statements (finished_at);
CREATE TABLE sql_statement_chunks (
    statement_id TEXT NOT NULL,
    chunk_index  INTEGER NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (statement_id, chunk_index)
);
-- Keys every replica must share (the signing key of SQL result links),
-- created once by whichever replica needs one first.
CREATE TABLE server_keys (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
