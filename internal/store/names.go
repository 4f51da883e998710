package store

import (
	"fmt"

	"github.com/berth-project/berth/internal/errdefs"
)

// Name reservations make a human name unique within a kind ("container",
// "pod", …; the caller picks the kinds and so which of them share names) and
// map it to the owner's ID. Reserve in the same Update that creates the
// record, so the name and the record appear, or vanish, together.

// Reserve gives name in kind to owner. It fails with ErrAlreadyExists, naming
// the holder, if another owner has it; reserving a name one already holds is
// a no-op.
func (tx *Tx) Reserve(kind, name, owner string) error {
	what := fmt.Sprintf("reserve %s name %q", kind, name)
	if err := tx.mustWrite(what); err != nil {
		return err
	}
	if kind == "" || name == "" || owner == "" {
		return fmt.Errorf("%s for %q: empty kind, name or owner: %w", what, owner, errdefs.ErrInvalidArgument)
	}
	names, err := tx.bucket(bucketNames)
	if err != nil {
		return err
	}
	b, err := names.CreateBucketIfNotExists([]byte(kind))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if held := b.Get([]byte(name)); held != nil {
		if string(held) == owner {
			return nil
		}
		return fmt.Errorf("%s name %q is already in use by %s: %w", kind, name, held, errdefs.ErrAlreadyExists)
	}
	if err := b.Put([]byte(name), []byte(owner)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Owner returns who holds name in kind, or ErrNotFound.
func (tx *Tx) Owner(kind, name string) (string, error) {
	names, err := tx.bucket(bucketNames)
	if err != nil {
		return "", err
	}
	if b := names.Bucket([]byte(kind)); b != nil {
		if held := b.Get([]byte(name)); held != nil {
			return string(held), nil
		}
	}
	return "", fmt.Errorf("%s name %q: %w", kind, name, errdefs.ErrNotFound)
}

// Release frees name in kind, or returns ErrNotFound if nobody holds it.
func (tx *Tx) Release(kind, name string) error {
	if err := tx.mustWrite(fmt.Sprintf("release %s name %q", kind, name)); err != nil {
		return err
	}
	if _, err := tx.Owner(kind, name); err != nil {
		return err
	}
	names, err := tx.bucket(bucketNames)
	if err != nil {
		return err
	}
	if err := names.Bucket([]byte(kind)).Delete([]byte(name)); err != nil {
		return fmt.Errorf("release %s name %q: %w", kind, name, err)
	}
	return nil
}
