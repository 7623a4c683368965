-- +goose Up
-- Curation: tags (denormalised in requests.tags, space-separated and sorted,
-- and one row per tag in request_tags for filtering), removal, the edit
-- history, and the queue of card refreshes.
ALTER TABLE requests ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN removed_at TIMESTAMPTZ;

CREATE TABLE request_tags (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (request_id, tag)
);
CREATE INDEX request_tags_tag_idx ON request_tags (tag, request_id);

CREATE TABLE request_edits (
    id         BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    actor      TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('rename', 'describe', 'tag', 'remove', 'restore')),
    from_value TEXT NOT NULL DEFAULT '',
    to_value   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX request_edits_request_idx ON request_edits (request_id, id);

-- +goose StatementBegin
CREATE FUNCTION request_edits_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'request_edits is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER request_edits_no_update BEFORE UPDATE OR DELETE ON request_edits
    FOR EACH ROW EXECUTE FUNCTION request_edits_append_only();

CREATE INDEX cards_request_idx ON cards (request_id);

-- One row per request group (its canonical request) whose cards must be
-- edited. gen counts the changes; seen_at is when a worker first saw the
-- row (a burst of changes before it settles makes one edit per card).
CREATE TABLE card_refreshes (
    root_id      BIGINT PRIMARY KEY,
    gen          BIGINT NOT NULL DEFAULT 1,
    seen_at      TIMESTAMPTZ,
    next_at      TIMESTAMPTZ,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMPTZ
);

-- Every change a card shows (title, description, status, demand, tags,
-- merges, removal) happens as an UPDATE of requests; this trigger queues the
-- refresh in the same transaction, for groups that have cards.
-- +goose StatementBegin
CREATE FUNCTION requests_card_refresh() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM requests g JOIN cards c ON c.request_id = g.id WHERE g.root_id = NEW.root_id) THEN
        INSERT INTO card_refreshes (root_id) VALUES (NEW.root_id)
        ON CONFLICT (root_id) DO UPDATE SET gen = card_refreshes.gen + 1;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER requests_card_refresh AFTER UPDATE ON requests
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
          OR OLD.status IS DISTINCT FROM NEW.status OR OLD.demand IS DISTINCT FROM NEW.demand
          OR OLD.orgs IS DISTINCT FROM NEW.orgs OR OLD.tags IS DISTINCT FROM NEW.tags
          OR OLD.merged_into IS DISTINCT FROM NEW.merged_into OR OLD.root_id IS DISTINCT FROM NEW.root_id
          OR OLD.removed_at IS DISTINCT FROM NEW.removed_at)
    EXECUTE FUNCTION requests_card_refresh();

-- +goose Down
DROP TRIGGER requests_card_refresh ON requests;
DROP FUNCTION requests_card_refresh();
DROP TABLE card_refreshes;
DROP INDEX cards_request_idx;
DROP TRIGGER request_edits_no_update ON request_edits;
DROP FUNCTION request_edits_append_only();
DROP TABLE request_edits;
DROP TABLE request_tags;
ALTER TABLE requests DROP COLUMN removed_at;
ALTER TABLE requests DROP COLUMN tags;
