package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/feedbackbot/feedbackbot/bot"
)

// VectorStore keeps the embedding vectors of requests (table embeddings),
// one per request and model, with the hash of the text each was computed
// from. It backs the embeddings package's store cache.
type VectorStore struct {
	s *DB
}

// VectorCache returns the store of embedding vectors.
func (s *DB) VectorCache() *VectorStore { return &VectorStore{s: s} }

// GetVector returns the vector of a request for a model and the hash of
// the text it was computed from. ENOTFOUND when there is none.
func (v *VectorStore) GetVector(ctx context.Context, requestID int64, model string) (string, []float32, error) {
	var row struct {
		Hash   string `db:"text_hash"`
		Vector []byte `db:"vector"`
	}
	err := v.s.get(ctx, &row, `SELECT text_hash, vector FROM embeddings WHERE request_id = ? AND model = ?`, requestID, model)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, bot.Errorf(bot.ENOTFOUND, "No vector for request %d.", requestID)
	}
	if err != nil {
		return "", nil, fmt.Errorf("get vector %d: %w", requestID, err)
	}
	vec, err := decodeVector(row.Vector)
	if err != nil {
		return "", nil, fmt.Errorf("get vector %d: %w", requestID, err)
	}
	return row.Hash, vec, nil
}

// PutVector stores (or replaces) the vector of a request for a model.
// ENOTFOUND when the request does not exist.
func (v *VectorStore) PutVector(ctx context.Context, requestID int64, model, hash string, vec []float32) error {
	_, err := v.s.exec(ctx, `INSERT INTO embeddings (request_id, model, text_hash, vector, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (request_id, model) DO UPDATE SET text_hash = excluded.text_hash, vector = excluded.vector, updated_at = excluded.updated_at`,
		requestID, model, hash, encodeVector(vec), v.s.now())
	if err != nil {
		if isForeignKeyViolation(err) {
			return storeError(bot.ENOTFOUND, bot.ReasonNoRequest, fmt.Sprintf("Request %d not found.", requestID), requestID)
		}
		return fmt.Errorf("put vector %d: %w", requestID, err)
	}
	return nil
}

// encodeVector writes float32 values little-endian, 4 bytes each.
func encodeVector(vec []float32) []byte {
	b := make([]byte, 4*len(vec))
	for i, x := range vec {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("vector of %d bytes", len(b))
	}
	vec := make([]float32, len(b)/4)
	for i := range vec {
		vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return vec, nil
}
