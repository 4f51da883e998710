package store

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Tx is one transaction, valid only inside the function given to View or
// Update. Values it returns are copies and stay valid after it ends.
type Tx struct {
	tx *bolt.Tx
}

// Writable reports whether tx came from Update.
func (tx *Tx) Writable() bool { return tx.tx.Writable() }

// bucket returns a top-level bucket; every one exists from Open on.
func (tx *Tx) bucket(name string) (*bolt.Bucket, error) {
	b := tx.tx.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("metadata store %s: bucket %q missing: %w", tx.tx.DB().Path(), name, errdefs.ErrFailedPrecondition)
	}
	return b, nil
}

// mustWrite refuses a write in a View transaction.
func (tx *Tx) mustWrite(what string) error {
	if !tx.tx.Writable() {
		return fmt.Errorf("%s: read-only transaction: %w", what, errdefs.ErrFailedPrecondition)
	}
	return nil
}

// getJSON decodes the value at key into v; false if there is none. what
// names the record in errors.
func getJSON(b *bolt.Bucket, what, key string, v any) (bool, error) {
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("decode %s %q: %w", what, key, err)
	}
	return true, nil
}

// putJSON stores v at key, JSON-encoded.
func putJSON(b *bolt.Bucket, what, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", what, key, err)
	}
	if err := b.Put([]byte(key), raw); err != nil {
		return fmt.Errorf("put %s %q: %w", what, key, err)
	}
	return nil
}
