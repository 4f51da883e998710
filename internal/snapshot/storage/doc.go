// Package storage keeps the records and directories of a snapshotter: which
// snapshots exist, their kind, parent and labels (in a bbolt database), and
// one directory per snapshot whose content the snapshotter owns. The overlay
// and native snapshotters share it; they decide what goes into a snapshot's
// directory and how it is mounted, storage decides when it exists.
//
// On-disk layout under a snapshotter's root:
//
//	metadata.db         bbolt: bucket "v1" → "snapshots": key → JSON record
//	                    {id, kind, parent, created, labels}; ids come from the
//	                    bucket's sequence and are never reused
//	lock                flock(2) taken around every database open (shared to
//	                    read, exclusive to write): processes queue on it
//	                    instead of polling bbolt's own lock
//	snapshots/<id>/     the directory of recorded snapshot id (short numeric
//	                    names keep overlay's lowerdir option short)
//	snapshots/tmp-*/    a snapshot being made or removed, flock'ed by its
//	                    maker for as long as it works on it
//
// Crash consistency. The database is opened per operation and closed after,
// so several processes can share one root. A new snapshot is filled in a
// locked tmp-* directory without holding the database; then, in one write
// transaction, its record is written and the directory renamed to
// snapshots/<id> before the transaction commits. Removal deletes the record,
// commits, and only then moves the directory aside into a locked tmp-* and
// deletes it. A process killed at any point therefore leaves either a full
// record with its directory, or no record and garbage: a tmp-* directory no
// one holds a lock on, or a numeric directory without a record. Open removes
// both, never touching a tmp-* directory that a live process holds.
//
// Example (what a snapshotter does in Prepare):
//
//	st, err := storage.Open(root)
//	s, parents, err := st.Create(ctx, snapshot.KindActive, key, parent, labels,
//		func(dir string, parents []storage.Snapshot) error {
//			return os.Mkdir(filepath.Join(dir, "fs"), 0o755)
//		})
//	// s.ID names st.Dir(s.ID); parents are the committed chain, nearest first
package storage
