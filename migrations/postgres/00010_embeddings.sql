-- +goose Up
-- Cached embedding vectors of requests (optional semantic duplicate scoring):
-- one per request and model; text_hash says which text it was computed from.
CREATE TABLE embeddings (
    request_id BIGINT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, model)
);

-- +goose Down
DROP TABLE embeddings;
