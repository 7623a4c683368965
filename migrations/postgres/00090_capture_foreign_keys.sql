-- +goose Up
-- mentions.request_id and voters.request_id no longer have foreign keys:
-- each insert's check ran a query that locked the request's row (one more
-- WAL record) for every mention and every voter, about a quarter of the
-- capture statement's cost, and it can never fail. The references still
-- hold because:
--   * a request is never deleted (removal sets removed_at) and its id
--     never changes;
--   * mentions and voters are written only by the capture (rows that
--     reference the request inserted in the same statement or
--     transaction), by AddMention and AddVote (after lockGroups has read
--     the request, ENOTFOUND otherwise) and by bench seed (the requests
--     inserted before them in its transaction); no statement changes
--     their request_id.
-- TestCaptureWritesNoOrphans (store) checks that a mention or a vote on a
-- request that does not exist is refused and writes nothing. The other
-- references to requests (cards, suggestions, merges, ...) keep theirs;
-- SQLite keeps these two as well (its checks cost no round trip or WAL).
ALTER TABLE mentions DROP CONSTRAINT mentions_request_id_fkey;
ALTER TABLE voters DROP CONSTRAINT voters_request_id_fkey;

-- +goose Down
ALTER TABLE mentions ADD CONSTRAINT mentions_request_id_fkey FOREIGN KEY (request_id) REFERENCES requests (id);
ALTER TABLE voters ADD CONSTRAINT voters_request_id_fkey FOREIGN KEY (request_id) REFERENCES requests (id);
