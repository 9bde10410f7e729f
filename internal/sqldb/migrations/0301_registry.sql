-- MLflow model registry (internal/registry) on top of the Unity Catalog's
-- registered models (uc_securables, type 'registered_model') and model
-- versions (uc_model_versions): there is one store of models and versions,
-- and these tables only add what MLflow has and UC does not: tags, aliases,
-- stages, the MLflow view of a version's source, its lineage to the tables
-- it was trained on, and webhooks with a durable delivery queue.
CREATE TABLE mlflow_registered_model_tags (
    model_id TEXT NOT NULL REFERENCES uc_securables (id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE mlflow_model_aliases (
    model_id TEXT NOT NULL REFERENCES uc_securables (id) ON DELETE CASCADE,
    alias    TEXT NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (model_id, alias)
);

CREATE TABLE mlflow_model_versions (
    model_id        TEXT NOT NULL,
    version         BIGINT NOT NULL,
    stage           TEXT NOT NULL DEFAULT 'None',
    source          TEXT NOT NULL DEFAULT '',
    run_id          TEXT NOT NULL DEFAULT '',
    run_link        TEXT NOT NULL DEFAULT '',
    logged_model_id TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, version),
    FOREIGN KEY (model_id, version) REFERENCES uc_model_versions (model_id, version) ON DELETE CASCADE
);

CREATE INDEX mlflow_model_versions_run ON mlflow_model_versions (run_id);

CREATE TABLE mlflow_model_version_tags (
    model_id TEXT NOT NULL,
    version  BIGINT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, version, key),
    FOREIGN KEY (model_id, version) REFERENCES uc_model_versions (model_id, version) ON DELETE CASCADE
);

-- model version → training run → table versions (lineage).
CREATE TABLE mlflow_model_version_tables (
    model_id       TEXT NOT NULL,
    version        BIGINT NOT NULL,
    run_id         TEXT NOT NULL,
    table_name     TEXT NOT NULL,
    table_version  BIGINT NOT NULL,
    dataset_name   TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT '',
    context        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, version, table_name, table_version, dataset_digest),
    FOREIGN KEY (model_id, version) REFERENCES uc_model_versions (model_id, version) ON DELETE CASCADE
);

CREATE INDEX mlflow_model_version_tables_table ON mlflow_model_version_tables (table_name, table_version);

CREATE TABLE mlflow_webhooks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,
    secret      TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    model_name  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The durable outbox: a delivery row is written when the event happens and
-- removed from the due set only once the receiver answered 2xx (or retries
-- ran out), so a restart resumes pending deliveries.
CREATE TABLE mlflow_webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES mlflow_webhooks (id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    last_status     INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX mlflow_webhook_deliveries_due ON mlflow_webhook_deliveries (status, next_attempt_at);
