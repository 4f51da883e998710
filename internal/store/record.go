package store

import (
	"encoding/json"
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
	bolt "go.etcd.io/bbolt"
)

// Bucket names a kind of record kept with Get, Put, Delete and List:
// Containers, Volumes, Networks or Pods. Values are JSON; keys are the
// record's ID (or name, for volumes and networks).
type Bucket string

// record returns the bbolt bucket behind b, refusing names that are not
// record buckets (images and name reservations have their own API).
func (tx *Tx) record(b Bucket) (*bolt.Bucket, error) {
	switch b {
	case Containers, Volumes, Networks, Pods:
		return tx.bucket(string(b))
	}
	return nil, fmt.Errorf("record bucket %q: %w", string(b), errdefs.ErrInvalidArgument)
}

// Get returns the record at key, or ErrNotFound.
func Get[T any](tx *Tx, b Bucket, key string) (T, error) {
	var v T
	bk, err := tx.record(b)
	if err != nil {
		return v, err
	}
	ok, err := getJSON(bk, string(b), key, &v)
	if err != nil {
		return v, err
	}
	if !ok {
		return v, fmt.Errorf("%s %q: %w", b, key, errdefs.ErrNotFound)
	}
	return v, nil
}

// Put creates or replaces the record at key.
func Put[T any](tx *Tx, b Bucket, key string, v T) error {
	bk, err := tx.record(b)
	if err != nil {
		return err
	}
	if err := tx.mustWrite(fmt.Sprintf("put %s %q", b, key)); err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("put %s: empty key: %w", b, errdefs.ErrInvalidArgument)
	}
	return putJSON(bk, string(b), key, v)
}

// Create is Put that fails with ErrAlreadyExists if key is taken.
func Create[T any](tx *Tx, b Bucket, key string, v T) error {
	bk, err := tx.record(b)
	if err != nil {
		return err
	}
	if bk.Get([]byte(key)) != nil {
		return fmt.Errorf("%s %q: %w", b, key, errdefs.ErrAlreadyExists)
	}
	return Put(tx, b, key, v)
}

// Delete removes the record at key, or returns ErrNotFound.
func Delete(tx *Tx, b Bucket, key string) error {
	bk, err := tx.record(b)
	if err != nil {
		return err
	}
	if err := tx.mustWrite(fmt.Sprintf("delete %s %q", b, key)); err != nil {
		return err
	}
	if bk.Get([]byte(key)) == nil {
		return fmt.Errorf("%s %q: %w", b, key, errdefs.ErrNotFound)
	}
	if err := bk.Delete([]byte(key)); err != nil {
		return fmt.Errorf("delete %s %q: %w", b, key, err)
	}
	return nil
}

// List returns every record in b, in key order.
func List[T any](tx *Tx, b Bucket) ([]T, error) {
	bk, err := tx.record(b)
	if err != nil {
		return nil, err
	}
	var out []T
	err = bk.ForEach(func(k, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode %s %q: %w", b, k, err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// Keys returns the keys of b in order.
func Keys(tx *Tx, b Bucket) ([]string, error) {
	bk, err := tx.record(b)
	if err != nil {
		return nil, err
	}
	var out []string
	err = bk.ForEach(func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out, err
}
