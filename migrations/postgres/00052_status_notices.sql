-- +goose Up
-- Status notices: a status change listed in FEEDBACKBOT_NOTIFY_STATUSES is an
-- event (action 'status', note = the new status) whose replies go through
-- the delivery queue like a ship's.
ALTER TABLE release_events DROP CONSTRAINT release_events_action_check;
ALTER TABLE release_events ADD CONSTRAINT release_events_action_check CHECK (action IN ('shipped', 'rolled_back', 'status'));

-- +goose Down
-- Status events stay (their deliveries and history rows refer to them).
ALTER TABLE release_events DROP CONSTRAINT release_events_action_check;
ALTER TABLE release_events ADD CONSTRAINT release_events_action_check CHECK (action IN ('shipped', 'rolled_back', 'status')) NOT VALID;
