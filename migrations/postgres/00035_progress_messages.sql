-- +goose Up
-- The progress message of a release ("Notifying 40 threads…") posted where
-- the release lead ran the command, one per release event. It is stored so
-- that whichever replica settles the event's last delivery, or the process
-- restarted after a crash, makes the final edit: message_id is the
-- platform's id once posted ('' while the first post waits out a 429),
-- outcome is what the headline names (JSON), shown the text last shown.
-- A replica leases the row (locked_by, locked_until) for one post or edit,
-- so only one makes it; state becomes 'done' after the final edit.
CREATE TABLE progress_messages (
    event_id     BIGINT PRIMARY KEY REFERENCES release_events (id),
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    thread_id    TEXT NOT NULL DEFAULT '',
    message_id   TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT '',
    shown        TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'given_up')),
    failures     INTEGER NOT NULL DEFAULT 0,
    retry_at     TIMESTAMPTZ NOT NULL,
    edited_at    TIMESTAMPTZ,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX progress_messages_open_idx ON progress_messages (state, retry_at);

-- +goose Down
DROP TABLE progress_messages;
