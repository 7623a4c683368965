-- +goose Up
-- Digests: one row per channel that gets one (/feedback digest). since_at is
-- the start of the next digest's period; next_at when it is due (NULL: off).
-- A replica claims a due digest by moving next_at forward in one UPDATE
-- conditioned on its period number, so exactly one posts each period. The post
-- is an event (action 'digest') with one delivery in the digest's channel,
-- written in the same transaction; the event's idempotency key names the
-- digest and its period, so no period is posted twice.
CREATE TABLE digests (
    id         BIGSERIAL PRIMARY KEY,
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL,
    every      TEXT NOT NULL CHECK (every IN ('daily', 'weekly', 'off')),
    since_at   TIMESTAMPTZ NOT NULL,
    next_at    TIMESTAMPTZ,
    -- period counts the posted periods; a claim is UPDATE … WHERE period = the one read.
    period     BIGINT NOT NULL DEFAULT 0,
    actor      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (platform, workspace, channel)
);
CREATE INDEX digests_next_idx ON digests (next_at);
ALTER TABLE release_events DROP CONSTRAINT release_events_action_check;
ALTER TABLE release_events ADD CONSTRAINT release_events_action_check CHECK (action IN ('shipped', 'rolled_back', 'status', 'digest'));

-- +goose Down
DROP TABLE digests;
-- Digest events stay (their deliveries refer to them).
ALTER TABLE release_events DROP CONSTRAINT release_events_action_check;
ALTER TABLE release_events ADD CONSTRAINT release_events_action_check CHECK (action IN ('shipped', 'rolled_back', 'status', 'digest')) NOT VALID;
