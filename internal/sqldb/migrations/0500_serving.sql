-- Serving endpoints (internal/serving). The config is the endpoint's
-- EndpointConfig as JSON; config_version increases with every update so
-- that every Lakebox replica applies the same config (optimistic updates
-- compare it). Events are the endpoint's event log.
CREATE TABLE serving_endpoints (
    name           TEXT PRIMARY KEY,
    id             TEXT NOT NULL,
    creator        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    config_version BIGINT NOT NULL,
    config_update  TEXT NOT NULL,
    spec           TEXT NOT NULL
);
CREATE TABLE serving_endpoint_events (
    id          TEXT PRIMARY KEY,
    endpoint    TEXT NOT NULL,
    ts          BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    served_name TEXT NOT NULL,
    message     TEXT NOT NULL
);
CREATE INDEX serving_endpoint_events_by_endpoint ON serving_endpoint_events (endpoint, ts, seq);
