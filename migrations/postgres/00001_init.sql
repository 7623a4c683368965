-- +goose Up
CREATE TABLE requests (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'planned', 'in_progress', 'shipped', 'declined', 'rolled_back')),
    merged_into BIGINT REFERENCES requests (id),
    -- root_id is the canonical request of the group (id itself when not merged).
    root_id     BIGINT NOT NULL,
    -- Counters over the request and everything merged into it, kept current
    -- by store in the transaction that changes mentions, voters or merges.
    demand      INTEGER NOT NULL DEFAULT 0,
    orgs        INTEGER NOT NULL DEFAULT 0,
    mentions    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX requests_merged_into_idx ON requests (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX requests_root_id_idx ON requests (root_id);
CREATE INDEX requests_demand_idx ON requests (demand DESC, id) WHERE merged_into IS NULL;
CREATE INDEX requests_status_demand_idx ON requests (status, demand DESC, id) WHERE merged_into IS NULL;
CREATE INDEX requests_updated_at_idx ON requests (updated_at);

CREATE TABLE release_events (
    id              BIGSERIAL PRIMARY KEY,
    action          TEXT NOT NULL CHECK (action IN ('shipped', 'rolled_back')),
    version         TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL DEFAULT '',
    result          TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX release_events_idempotency_key_idx ON release_events (idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE status_history (
    id          BIGSERIAL PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES requests (id),
    actor       TEXT NOT NULL DEFAULT '',
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    version     TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    event_id    BIGINT REFERENCES release_events (id),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX status_history_request_idx ON status_history (request_id, id);
CREATE INDEX status_history_shipped_version_idx ON status_history (version) WHERE to_status = 'shipped';

-- +goose StatementBegin
CREATE FUNCTION status_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'status_history is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER status_history_no_update BEFORE UPDATE OR DELETE ON status_history
    FOR EACH ROW EXECUTE FUNCTION status_history_append_only();

CREATE TABLE mentions (
    id          BIGSERIAL PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES requests (id),
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL DEFAULT '',
    message_id  TEXT NOT NULL,
    thread_id   TEXT NOT NULL DEFAULT '',
    author_id   TEXT NOT NULL DEFAULT '',
    author_name TEXT NOT NULL DEFAULT '',
    org         TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL DEFAULT '',
    permalink   TEXT NOT NULL DEFAULT '',
    captured_by TEXT NOT NULL DEFAULT '',
    via         TEXT NOT NULL DEFAULT '',
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (platform, workspace, channel, message_id)
);
CREATE INDEX mentions_thread_idx ON mentions (platform, workspace, channel, thread_id, id);
CREATE INDEX mentions_request_idx ON mentions (request_id, id);

CREATE TABLE voters (
    id         BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL DEFAULT '',
    user_id    TEXT NOT NULL,
    -- person identifies (platform, workspace, user_id) in one column so that
    -- demand is COUNT(DISTINCT person) on every dialect.
    person     TEXT NOT NULL,
    org        TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('author', 'vote')),
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (request_id, person, kind)
);
CREATE INDEX voters_request_org_idx ON voters (request_id, org);

CREATE TABLE merges (
    id         BIGSERIAL PRIMARY KEY,
    action     TEXT NOT NULL CHECK (action IN ('merge', 'unmerge')),
    src_id     BIGINT NOT NULL REFERENCES requests (id),
    dst_id     BIGINT NOT NULL REFERENCES requests (id),
    actor      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX merges_src_idx ON merges (src_id);

CREATE TABLE channels (
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('watch', 'releases')),
    set_by     TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, workspace, channel, kind)
);

CREATE TABLE suggestions (
    id          BIGSERIAL PRIMARY KEY,
    request_id  BIGINT NOT NULL REFERENCES requests (id),
    platform    TEXT NOT NULL DEFAULT '',
    workspace   TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL DEFAULT '',
    message_id  TEXT NOT NULL DEFAULT '',
    thread_id   TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'merged', 'dismissed')),
    merged_into BIGINT REFERENCES requests (id),
    decided_by  TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX suggestions_request_idx ON suggestions (request_id);

CREATE TABLE suggestion_candidates (
    suggestion_id BIGINT NOT NULL REFERENCES suggestions (id) ON DELETE CASCADE,
    rank          INTEGER NOT NULL,
    request_id    BIGINT NOT NULL REFERENCES requests (id),
    score         DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (suggestion_id, rank)
);
CREATE INDEX suggestion_candidates_request_idx ON suggestion_candidates (request_id);

CREATE TABLE cards (
    platform   TEXT NOT NULL,
    workspace  TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, workspace, channel, message_id)
);

CREATE TABLE deliveries (
    id           BIGSERIAL PRIMARY KEY,
    event_id     BIGINT NOT NULL REFERENCES release_events (id),
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    thread_id    TEXT NOT NULL,
    text         TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TIMESTAMPTZ NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ,
    UNIQUE (event_id, platform, workspace, channel, thread_id)
);
CREATE INDEX deliveries_due_idx ON deliveries (state, next_at);
CREATE INDEX deliveries_lease_idx ON deliveries (state, locked_until);

-- +goose Down
DROP TABLE deliveries;
DROP TABLE cards;
DROP TABLE suggestion_candidates;
DROP TABLE suggestions;
DROP TABLE channels;
DROP TABLE merges;
DROP TABLE voters;
DROP TABLE mentions;
DROP TABLE status_history;
DROP FUNCTION status_history_append_only();
DROP TABLE release_events;
DROP TABLE requests;
