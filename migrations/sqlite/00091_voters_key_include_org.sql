-- +goose Up
-- PostgreSQL folds voters_request_org_idx into the voters key here (an
-- INCLUDE column, see its 00091); SQLite has no INCLUDE and keeps both.
-- The migration exists on both so that both dialects have the same
-- versions.
SELECT 1;

-- +goose Down
SELECT 1;
