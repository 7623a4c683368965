package bot

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wrapf wraps err with what was being done: fmt.Errorf("what: %w", err).
func wrapf(err error, what string) error { return fmt.Errorf("%s: %w", what, err) }
