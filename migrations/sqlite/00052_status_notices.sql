-- +goose NO TRANSACTION
-- Status notices: a status change listed in FEEDBACKBOT_NOTIFY_STATUSES is an
-- event (action 'status', note = the new status) whose replies go through
-- the delivery queue like a ship's. SQLite cannot change a CHECK constraint
-- in place, so release_events is rebuilt (the documented procedure: foreign
-- keys off, new table, copy, drop, rename, in one transaction on one
-- connection; the other tables' references to release_events then point at
-- the new table).
-- +goose Up
-- +goose StatementBegin
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE release_events_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    action          TEXT NOT NULL CHECK (action IN ('shipped', 'rolled_back', 'status')),
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
-- Status events stay (their deliveries and history rows refer to them); the
-- wider CHECK is harmless to the older code, which never writes 'status'.
SELECT 1;
