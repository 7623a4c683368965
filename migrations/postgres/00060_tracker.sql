-- +goose Up
-- Links between requests and tracker items (GitHub issues and pull requests,
-- Linear issues). item identifies the tracker item whatever URL named it
-- ("github:owner/repo#N", "linear:ENG-123"); state is the item's last known
-- state, updated by webhooks for every request linked to it.
CREATE TABLE tracker_links (
    id         BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    item       TEXT NOT NULL,
    url        TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('github_issue', 'github_pull', 'linear')),
    state      TEXT NOT NULL DEFAULT 'unknown',
    milestone  TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (request_id, item)
);
CREATE INDEX tracker_links_item_idx ON tracker_links (item);

-- Webhook deliveries, recorded once per (source, delivery id) in the
-- transaction that applies what they carry; results holds what that
-- transaction found (previous item states, automatic links) so that an
-- unfinished delivery can be resumed.
CREATE TABLE tracker_deliveries (
    source      TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event       TEXT NOT NULL DEFAULT '',
    results     TEXT NOT NULL DEFAULT '',
    done        BOOLEAN NOT NULL DEFAULT FALSE,
    received_at TIMESTAMPTZ NOT NULL,
    done_at     TIMESTAMPTZ,
    PRIMARY KEY (source, delivery_id)
);

-- +goose Down
DROP TABLE tracker_deliveries;
DROP TABLE tracker_links;
