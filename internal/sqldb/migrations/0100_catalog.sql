-- Unity Catalog: securables (one table for every type; type-specific fields
-- in body as JSON), grants, tags and model versions.
CREATE TABLE uc_securables (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    parent_id    TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL,
    full_name    TEXT NOT NULL,
    owner        TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    managed      BOOLEAN NOT NULL DEFAULT FALSE,
    body         TEXT NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL DEFAULT '',
    dropped_at   BIGINT NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX uc_securables_live ON uc_securables (type, full_name) WHERE dropped_at = 0;

CREATE INDEX uc_securables_parent ON uc_securables (parent_id, type, full_name);

CREATE INDEX uc_securables_name ON uc_securables (type, full_name, dropped_at);

CREATE INDEX uc_securables_dropped ON uc_securables (dropped_at);

CREATE TABLE uc_grants (
    securable_id TEXT NOT NULL REFERENCES uc_securables (id) ON DELETE CASCADE,
    principal    TEXT NOT NULL,
    privilege    TEXT NOT NULL,
    PRIMARY KEY (securable_id, principal, privilege)
);

CREATE INDEX uc_grants_principal ON uc_grants (principal);

CREATE TABLE uc_tags (
    securable_id TEXT NOT NULL REFERENCES uc_securables (id) ON DELETE CASCADE,
    column_name  TEXT NOT NULL DEFAULT '',
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (securable_id, column_name, tag_key)
);

CREATE TABLE uc_model_versions (
    model_id   TEXT NOT NULL REFERENCES uc_securables (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    id         TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL,
    location   TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, version)
);
