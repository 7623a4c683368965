-- +goose Up
-- PostgreSQL drops the foreign key of cards.request_id here (see its
-- 00094); SQLite keeps it: its check is an in-process index lookup. The
-- migration exists on both so that both dialects have the same versions.
SELECT 1;

-- +goose Down
SELECT 1;
