-- +goose Up
-- suggestion_candidates.suggestion_id no longer has a foreign key: each
-- candidate's check ran a query that locked the suggestion's row (one more
-- WAL record per suggestion), about a tenth of the cost of the capture's
-- suggestion statement, and it can never fail: candidates are written only
-- by CreateSuggestion and CreateSuggestionFrom, in the statement or
-- transaction that inserts their suggestion and with the id that insert
-- returned, and a suggestion is never deleted (a decision changes its
-- state), so its ON DELETE CASCADE never ran. TestCaptureWritesNoOrphans
-- (store) checks that every candidate has its suggestion. The candidates'
-- request_id keeps its foreign key (CreateSuggestion relies on it to
-- refuse a request that does not exist); SQLite keeps both.
ALTER TABLE suggestion_candidates DROP CONSTRAINT suggestion_candidates_suggestion_id_fkey;

-- +goose Down
ALTER TABLE suggestion_candidates ADD CONSTRAINT suggestion_candidates_suggestion_id_fkey
    FOREIGN KEY (suggestion_id) REFERENCES suggestions (id) ON DELETE CASCADE;
