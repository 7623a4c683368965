-- +goose Up
-- The first answer of each API write made with an idempotency key: a retry
-- with the same key and the same request (fingerprint) gets it again, a
-- different request with the key is refused. response is '' until the
-- first answer is stored.
CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    response    TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

-- What a release with an idempotency key asked for, so that the same key
-- with a different release is refused.
ALTER TABLE release_events ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE release_events DROP COLUMN fingerprint;
DROP TABLE idempotency_keys;
