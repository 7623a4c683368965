-- +goose Up
-- The duplicate index learns from the team's decisions (store.DecisionsSince):
-- every replica reads recent merges, dismissed suggestions and mentions by time.
CREATE INDEX merges_created_at_idx ON merges (created_at);
CREATE INDEX suggestions_dismissed_at_idx ON suggestions (decided_at) WHERE state = 'dismissed';
CREATE INDEX mentions_created_at_idx ON mentions (created_at);

-- +goose Down
DROP INDEX mentions_created_at_idx;
DROP INDEX suggestions_dismissed_at_idx;
DROP INDEX merges_created_at_idx;
