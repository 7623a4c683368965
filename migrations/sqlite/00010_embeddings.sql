-- +goose Up
-- Cached embedding vectors of requests (optional semantic duplicate scoring):
-- one per request and model; text_hash says which text it was computed from.
CREATE TABLE embeddings (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BLOB NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, model)
);

-- +goose Down
DROP TABLE embeddings;
