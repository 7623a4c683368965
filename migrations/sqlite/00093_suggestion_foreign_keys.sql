-- +goose Up
-- PostgreSQL drops the foreign keys of suggestions.request_id and
-- suggestion_candidates.request_id here (see its 00093); SQLite keeps
-- them: its checks are in-process index lookups. The migration exists on
-- both so that both dialects have the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
