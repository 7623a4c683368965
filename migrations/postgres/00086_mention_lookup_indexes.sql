-- +goose Up
-- The two indexes on mentions that the capture path reads began with the
-- same three columns (platform, workspace, channel), and without statistics
-- (a new board, or autovacuum off) PostgreSQL rated them alike and looked
-- messages up through mentions_thread_idx with message_id as a filter,
-- reading every mention of the channel on each capture (and thread lookups
-- could go the other way). Each now starts with the column that tells rows
-- apart, so each lookup has one index that fits: a message through the
-- unique key, a thread through the thread index. The unique key is swapped
-- inside this migration's transaction, so mentions stay unique throughout.
CREATE UNIQUE INDEX mentions_message_key ON mentions (message_id, channel, workspace, platform);
ALTER TABLE mentions DROP CONSTRAINT mentions_platform_workspace_channel_message_id_key;
ALTER TABLE mentions ADD CONSTRAINT mentions_message_key UNIQUE USING INDEX mentions_message_key;
DROP INDEX mentions_thread_idx;
CREATE INDEX mentions_thread_idx ON mentions (thread_id, channel, workspace, platform, id);

-- +goose Down
DROP INDEX mentions_thread_idx;
CREATE INDEX mentions_thread_idx ON mentions (platform, workspace, channel, thread_id, id);
ALTER TABLE mentions DROP CONSTRAINT mentions_message_key;
ALTER TABLE mentions ADD CONSTRAINT mentions_platform_workspace_channel_message_id_key UNIQUE (platform, workspace, channel, message_id);
