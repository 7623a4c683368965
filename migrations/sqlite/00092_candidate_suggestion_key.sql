-- +goose Up
-- PostgreSQL drops the foreign key of suggestion_candidates.suggestion_id
-- here (see its 00092); SQLite keeps it. The migration exists on both so
-- that both dialects have the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
