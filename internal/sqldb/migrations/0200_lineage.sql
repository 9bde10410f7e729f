-- Lineage edges (internal/lineage). One row per (source, target, columns,
-- entity) as identified by id; repeated reports of the same entity run are
-- deduplicated by id. Column "" on both sides marks a table-level edge.
CREATE TABLE lineage_edges (
    id              TEXT PRIMARY KEY,
    source_type     TEXT NOT NULL,
    source_name     TEXT NOT NULL,
    source_column   TEXT NOT NULL,
    target_type     TEXT NOT NULL,
    target_name     TEXT NOT NULL,
    target_column   TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_time      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_by_id   TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    entity_run_id   TEXT NOT NULL,
    statement_id    TEXT NOT NULL,
    entity_metadata TEXT NOT NULL
);
CREATE INDEX lineage_edges_by_source ON lineage_edges (source_type, source_name, source_column, event_time);
CREATE INDEX lineage_edges_by_target ON lineage_edges (target_type, target_name, target_column, event_time);
