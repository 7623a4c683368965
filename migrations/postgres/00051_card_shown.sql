-- +goose Up
-- What each card last showed (a hash of its text and buttons), so a refresh
-- edits only the cards whose content changed.
ALTER TABLE cards ADD COLUMN shown TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE cards DROP COLUMN shown;
