-- +goose Up
-- suggestions.request_id and suggestion_candidates.request_id no longer
-- have foreign keys: each check ran a query that locked the request's row
-- (one more WAL record), for the suggestion's own request and for every
-- candidate, and the candidates are the requests that many captures'
-- suggestions name at once, so their locks were shared (multixacts). The
-- references still hold because:
--   * a request is never deleted (removal sets removed_at) and its id
--     never changes;
--   * suggestions and their candidates are written only by
--     CreateSuggestion and CreateSuggestionFrom (store/suggestion.go),
--     which write nothing unless every request they name exists
--     (ENOTFOUND): CreateSuggestionFrom's candidates are the requests its
--     statement has just read, and the statement inserts the suggestion
--     only when its own request exists; CreateSuggestion checks each
--     request; no statement changes their request_id.
-- TestCaptureWritesNoOrphans (store) checks that a suggestion about or
-- naming a request that does not exist is refused and writes nothing, and
-- that every suggestion and candidate references a request. (The cards'
-- foreign key went later, in 00094.) SQLite keeps these two (its checks
-- cost no round trip or WAL).
ALTER TABLE suggestions DROP CONSTRAINT suggestions_request_id_fkey;
ALTER TABLE suggestion_candidates DROP CONSTRAINT suggestion_candidates_request_id_fkey;

-- +goose Down
ALTER TABLE suggestions ADD CONSTRAINT suggestions_request_id_fkey FOREIGN KEY (request_id) REFERENCES requests (id);
ALTER TABLE suggestion_candidates ADD CONSTRAINT suggestion_candidates_request_id_fkey FOREIGN KEY (request_id) REFERENCES requests (id);
