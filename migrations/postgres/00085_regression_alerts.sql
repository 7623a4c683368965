-- +goose Up
-- Regression signal: one alert per (version, request) when enough people
-- report problems in a request's threads after it shipped (README
-- "Regression signal"). The unique index is what keeps replicas and replays
-- from alerting twice. A delivery may carry buttons (one "id|label" a line),
-- so the alert's "Roll back" button goes through the outbox with its text.
CREATE TABLE regression_alerts (
    id          BIGSERIAL PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES requests (id),
    version     TEXT NOT NULL,
    event_id    BIGINT NOT NULL REFERENCES release_events (id),
    people      INTEGER NOT NULL,
    links       TEXT NOT NULL DEFAULT '',
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    shipped_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX regression_alerts_version_request_idx ON regression_alerts (version, request_id);
CREATE INDEX regression_alerts_request_idx ON regression_alerts (request_id);
ALTER TABLE deliveries ADD COLUMN buttons TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN buttons;
DROP TABLE regression_alerts;
