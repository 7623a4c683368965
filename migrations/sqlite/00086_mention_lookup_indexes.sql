-- +goose Up
-- As on PostgreSQL, the thread index starts with thread_id, so that it and
-- the unique key on (platform, workspace, channel, message_id) never fit
-- the same lookup. (SQLite already picked the unique key for a message,
-- which it knows gives one row; the key itself stays.)
DROP INDEX mentions_thread_idx;
CREATE INDEX mentions_thread_idx ON mentions (thread_id, channel, workspace, platform, id);

-- +goose Down
DROP INDEX mentions_thread_idx;
CREATE INDEX mentions_thread_idx ON mentions (platform, workspace, channel, thread_id, id);
