package store

import (
	"fmt"
	"strconv"

	"github.com/berth-project/berth/internal/errdefs"
	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this code reads and writes. A store with an
// older version is migrated by Open; a newer one is refused, so an old berth
// never rewrites records it does not understand.
const SchemaVersion = 1

// The top-level buckets. Each holds one kind of record, keyed by its ID or
// name, with JSON values.
const (
	bucketMeta   = "meta"   // "version" → decimal SchemaVersion
	bucketImages = "images" // image name (or "@"+target digest when dangling) → Image
	bucketNames  = "names"  // kind → name → owner (name reservations)
)

// Record buckets for Get, Put, Delete and List.
const (
	Containers Bucket = "containers"
	Volumes    Bucket = "volumes"
	Networks   Bucket = "networks"
	Pods       Bucket = "pods"
)

var versionKey = []byte("version")

// migrations[v] brings a store at version v to version v+1, inside the same
// transaction as the version bump. Version 0 is a new, empty file. To change
// the layout, append a step and raise SchemaVersion.
var migrations = []func(*bolt.Tx) error{
	0: createBuckets,
}

func createBuckets(tx *bolt.Tx) error {
	for _, name := range []string{bucketMeta, bucketImages, bucketNames,
		string(Containers), string(Volumes), string(Networks), string(Pods)} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	return nil
}

// readVersion returns the schema version recorded in tx, 0 for a new file.
func readVersion(tx *bolt.Tx) (int, error) {
	b := tx.Bucket([]byte(bucketMeta))
	if b == nil {
		return 0, nil
	}
	raw := b.Get(versionKey)
	if raw == nil {
		return 0, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 1 {
		return 0, fmt.Errorf("schema version %q is not a positive number: %w", raw, errdefs.ErrFailedPrecondition)
	}
	return v, nil
}

// migrate brings the file at db.path up to SchemaVersion. The common case
// (already current) costs one read-only transaction.
func (db *DB) migrate() error {
	current := false
	err := db.withBolt(true, func(tx *bolt.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return fmt.Errorf("metadata store %s: %w", db.path, err)
		}
		current = v == SchemaVersion
		return nil
	})
	if err != nil && !errdefs.IsNotFound(err) { // not found: the file is made below
		return err
	}
	if current {
		return nil
	}
	return db.withBolt(false, func(tx *bolt.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return fmt.Errorf("metadata store %s: %w", db.path, err)
		}
		if v == SchemaVersion { // another process got here first
			return nil
		}
		if v > SchemaVersion {
			return fmt.Errorf("metadata store %s: schema version %d is newer than this berth's (%d): %w", db.path, v, SchemaVersion, errdefs.ErrFailedPrecondition)
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("metadata store %s: migrate schema %d to %d: %w", db.path, v, v+1, err)
			}
		}
		return tx.Bucket([]byte(bucketMeta)).Put(versionKey, []byte(strconv.Itoa(SchemaVersion)))
	})
}

// checkVersion refuses a store that another berth migrated to a newer schema
// since Open.
func (tx *Tx) checkVersion(path string) error {
	v, err := readVersion(tx.tx)
	if err != nil {
		return fmt.Errorf("metadata store %s: %w", path, err)
	}
	if v != SchemaVersion {
		return fmt.Errorf("metadata store %s: schema version %d, this berth speaks %d: %w", path, v, SchemaVersion, errdefs.ErrFailedPrecondition)
	}
	return nil
}
