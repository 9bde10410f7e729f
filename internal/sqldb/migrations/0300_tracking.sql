-- MLflow-compatible experiment tracking (internal/tracking). Metric history
-- lives in its own append-only table (bulk multi-row inserts); the latest
-- value per (run, key) is kept in mlflow_latest_metrics, which filters and
-- orders searches through its (key, value) index. Param and tag values can
-- be long (6000/8000 chars), longer than a PostgreSQL btree entry, so their
-- value indexes are on a 100-character prefix; the store's SQL repeats the
-- prefix comparison so both databases use them.
CREATE TABLE mlflow_experiments (
    experiment_id     BIGINT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL,
    creation_time     BIGINT NOT NULL,
    last_update_time  BIGINT NOT NULL
);

INSERT INTO mlflow_experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0);

CREATE INDEX mlflow_experiments_created ON mlflow_experiments (creation_time, experiment_id);

CREATE TABLE mlflow_experiment_tags (
    experiment_id BIGINT NOT NULL REFERENCES mlflow_experiments (experiment_id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

CREATE TABLE mlflow_runs (
    run_id          TEXT PRIMARY KEY,
    experiment_id   BIGINT NOT NULL REFERENCES mlflow_experiments (experiment_id),
    name            TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    start_time      BIGINT NOT NULL,
    end_time        BIGINT,
    artifact_uri    TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL,
    deleted_time    BIGINT
);

CREATE INDEX mlflow_runs_search ON mlflow_runs (experiment_id, lifecycle_stage, start_time, run_id);

CREATE TABLE mlflow_metrics (
    run_id         TEXT NOT NULL,
    key            TEXT NOT NULL,
    step           BIGINT NOT NULL,
    ts             BIGINT NOT NULL,
    value          DOUBLE PRECISION NOT NULL,
    is_nan         BOOLEAN NOT NULL,
    model_id       TEXT,
    dataset_name   TEXT,
    dataset_digest TEXT
);

CREATE INDEX mlflow_metrics_history ON mlflow_metrics (run_id, key, step, ts);

CREATE TABLE mlflow_latest_metrics (
    run_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    step   BIGINT NOT NULL,
    ts     BIGINT NOT NULL,
    value  DOUBLE PRECISION NOT NULL,
    is_nan BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE INDEX mlflow_latest_metrics_kv ON mlflow_latest_metrics (key, value);

CREATE TABLE mlflow_params (
    run_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE INDEX mlflow_params_kv ON mlflow_params (key, substr(value, 1, 100));

CREATE TABLE mlflow_tags (
    run_id TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);

CREATE INDEX mlflow_tags_kv ON mlflow_tags (key, substr(value, 1, 100));

CREATE TABLE mlflow_datasets (
    dataset_id    TEXT PRIMARY KEY,
    experiment_id BIGINT NOT NULL,
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    source_type   TEXT NOT NULL,
    source        TEXT NOT NULL,
    schema_json   TEXT NOT NULL DEFAULT '',
    profile       TEXT NOT NULL DEFAULT '',
    UNIQUE (experiment_id, name, digest)
);

CREATE INDEX mlflow_datasets_name ON mlflow_datasets (name, digest);

CREATE TABLE mlflow_run_inputs (
    run_id     TEXT NOT NULL,
    dataset_id TEXT NOT NULL REFERENCES mlflow_datasets (dataset_id),
    context    TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, dataset_id)
);

CREATE INDEX mlflow_run_inputs_dataset ON mlflow_run_inputs (dataset_id, run_id);

-- Lakebox tables (three-level names) a dataset was read from, at a version
-- (-1 when the source named none): the run → table lineage edge.
CREATE TABLE mlflow_dataset_tables (
    dataset_id    TEXT NOT NULL REFERENCES mlflow_datasets (dataset_id),
    table_name    TEXT NOT NULL,
    table_version BIGINT NOT NULL,
    PRIMARY KEY (dataset_id, table_name, table_version)
);

CREATE INDEX mlflow_dataset_tables_table ON mlflow_dataset_tables (table_name, table_version);

CREATE TABLE mlflow_run_model_inputs (
    run_id   TEXT NOT NULL,
    model_id TEXT NOT NULL,
    PRIMARY KEY (run_id, model_id)
);

CREATE TABLE mlflow_run_outputs (
    run_id   TEXT NOT NULL,
    model_id TEXT NOT NULL,
    step     BIGINT NOT NULL,
    PRIMARY KEY (run_id, model_id)
);

CREATE TABLE mlflow_logged_models (
    model_id               TEXT PRIMARY KEY,
    experiment_id          BIGINT NOT NULL REFERENCES mlflow_experiments (experiment_id),
    name                   TEXT NOT NULL,
    artifact_uri           TEXT NOT NULL,
    status                 TEXT NOT NULL,
    status_message         TEXT NOT NULL DEFAULT '',
    model_type             TEXT NOT NULL DEFAULT '',
    source_run_id          TEXT NOT NULL DEFAULT '',
    creator                TEXT NOT NULL DEFAULT '',
    lifecycle_stage        TEXT NOT NULL,
    creation_timestamp     BIGINT NOT NULL,
    last_updated_timestamp BIGINT NOT NULL
);

CREATE INDEX mlflow_logged_models_exp ON mlflow_logged_models (experiment_id, name);

CREATE INDEX mlflow_logged_models_run ON mlflow_logged_models (source_run_id);

CREATE TABLE mlflow_logged_model_tags (
    model_id TEXT NOT NULL REFERENCES mlflow_logged_models (model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE mlflow_logged_model_params (
    model_id TEXT NOT NULL REFERENCES mlflow_logged_models (model_id) ON DELETE CASCADE,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);
