-- +goose NO TRANSACTION
-- Digests: one row per channel that gets one (/feedback digest); see the
-- PostgreSQL migration of the same name. release_events is rebuilt to allow
-- action 'digest' (SQLite cannot change a CHECK in place; same procedure as
-- 00052).
-- +goose Up
-- +goose StatementBegin
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE digests (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL,
    every      TEXT NOT NULL CHECK (every IN ('daily', 'weekly', 'off')),
    since_at   TIMESTAMP NOT NULL,
    next_at    TIMESTAMP,
    -- period counts the posted periods; a claim is UPDATE … WHERE period = the one read.
    period     BIGINT NOT NULL DEFAULT 0,
    actor      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (platform, workspace, channel)
);
CREATE INDEX digests_next_idx ON digests (next_at);
CREATE TABLE release_events_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    action          TEXT NOT NULL CHECK (action IN ('shipped', 'rolled_back', 'status', 'digest')),
    version         TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL DEFAULT '',
    result          TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    fingerprint     TEXT NOT NULL DEFAULT ''
);
INSERT INTO release_events_new (id, action, version, note, actor, idempotency_key, result, created_at, fingerprint)
    SELECT id, action, version, note, actor, idempotency_key, result, created_at, fingerprint FROM release_events;
DROP TABLE release_events;
ALTER TABLE release_events_new RENAME TO release_events;
CREATE UNIQUE INDEX release_events_idempotency_key_idx ON release_events (idempotency_key) WHERE idempotency_key <> '';
COMMIT;
PRAGMA foreign_keys = ON;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE digests;
-- +goose StatementEnd
