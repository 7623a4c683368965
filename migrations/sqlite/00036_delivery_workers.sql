-- +goose Up
-- Heartbeats of the delivery workers (Outbox.Run): each renews its row
-- every few seconds with expires_at a few heartbeats ahead. A worker whose
-- row expired is dead (killed, crashed, cut off): its delivery and
-- progress-message leases are taken over at once instead of when each
-- lease runs out.
CREATE TABLE delivery_workers (
    worker     TEXT PRIMARY KEY,
    seen_at    TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE delivery_workers;
