-- +goose Up
-- Curation: tags (denormalised in requests.tags, space-separated and sorted,
-- and one row per tag in request_tags for filtering), removal, the edit
-- history, and the queue of card refreshes.
ALTER TABLE requests ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN removed_at TIMESTAMP;

CREATE TABLE request_tags (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (request_id, tag)
);
CREATE INDEX request_tags_tag_idx ON request_tags (tag, request_id);

CREATE TABLE request_edits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES requests (id),
    actor      TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL CHECK (kind IN ('rename', 'describe', 'tag', 'remove', 'restore')),
    from_value TEXT NOT NULL DEFAULT '',
    to_value   TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX request_edits_request_idx ON request_edits (request_id, id);

-- +goose StatementBegin
CREATE TRIGGER request_edits_no_update BEFORE UPDATE ON request_edits
BEGIN
    SELECT RAISE(ABORT, 'request_edits is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER request_edits_no_delete BEFORE DELETE ON request_edits
BEGIN
    SELECT RAISE(ABORT, 'request_edits is append-only');
END;
-- +goose StatementEnd

CREATE INDEX cards_request_idx ON cards (request_id);

-- One row per request group (its canonical request) whose cards must be
-- edited. gen counts the changes; seen_at is when a worker first saw the
-- row (a burst of changes before it settles makes one edit per card).
CREATE TABLE card_refreshes (
    root_id      INTEGER PRIMARY KEY,
    gen          INTEGER NOT NULL DEFAULT 1,
    seen_at      TIMESTAMP,
    next_at      TIMESTAMP,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMP
);

-- Every change a card shows (title, description, status, demand, tags,
-- merges, removal) happens as an UPDATE of requests; this trigger queues the
-- refresh in the same transaction, for groups that have cards.
-- +goose StatementBegin
CREATE TRIGGER requests_card_refresh AFTER UPDATE ON requests
WHEN (OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description OR OLD.status IS NOT NEW.status
      OR OLD.demand IS NOT NEW.demand OR OLD.orgs IS NOT NEW.orgs OR OLD.tags IS NOT NEW.tags
      OR OLD.merged_into IS NOT NEW.merged_into OR OLD.root_id IS NOT NEW.root_id
      OR OLD.removed_at IS NOT NEW.removed_at)
BEGIN
    INSERT INTO card_refreshes (root_id)
    SELECT NEW.root_id WHERE EXISTS (
        SELECT 1 FROM requests g JOIN cards c ON c.request_id = g.id WHERE g.root_id = NEW.root_id)
    ON CONFLICT (root_id) DO UPDATE SET gen = gen + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER requests_card_refresh;
DROP TABLE card_refreshes;
DROP INDEX cards_request_idx;
DROP TABLE request_edits;
DROP TABLE request_tags;
ALTER TABLE requests DROP COLUMN removed_at;
ALTER TABLE requests DROP COLUMN tags;
