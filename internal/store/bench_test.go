package store

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchDB is a store with 200 images and 200 containers, about what a busy
// host holds, on the filesystem of TMPDIR.
func benchDB(b *testing.B) *DB {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "berth.db"))
	if err != nil {
		b.Fatal(err)
	}
	update(b, db, func(tx *Tx) error {
		for i := range 200 {
			if err := tx.PutImage(testImage(fmt.Sprintf("docker.io/library/img%03d:latest", i), fmt.Sprint(i))); err != nil {
				return err
			}
			if err := Put(tx, Containers, fmt.Sprintf("c%03d", i), record{ID: fmt.Sprint(i), Note: "a container record of modest size"}); err != nil {
				return err
			}
		}
		return nil
	})
	return db
}

// BenchmarkView is one whole View: open, shared lock, mmap, read one record,
// close.
func BenchmarkView(b *testing.B) {
	db := benchDB(b)
	for b.Loop() {
		if err := db.View(func(tx *Tx) error { _, err := Get[record](tx, Containers, "c100"); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate is one whole Update: open, exclusive lock, write one
// record, commit (two fdatasyncs), close.
func BenchmarkUpdate(b *testing.B) {
	db := benchDB(b)
	i := 0
	for b.Loop() {
		i++
		if err := db.Update(func(tx *Tx) error { return Put(tx, Containers, "c100", record{ID: fmt.Sprint(i)}) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateHeldOpen is the same write through a bbolt file kept open:
// the difference to BenchmarkUpdate is what opening per transaction costs.
func BenchmarkUpdateHeldOpen(b *testing.B) {
	db := benchDB(b)
	bdb, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer bdb.Close()
	i := 0
	for b.Loop() {
		i++
		if err := bdb.Update(func(btx *bolt.Tx) error {
			return Put(&Tx{tx: btx}, Containers, "c100", record{ID: fmt.Sprint(i)})
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewHeldOpen is BenchmarkView through a file kept open.
func BenchmarkViewHeldOpen(b *testing.B) {
	db := benchDB(b)
	bdb, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer bdb.Close()
	for b.Loop() {
		if err := bdb.View(func(btx *bolt.Tx) error {
			_, err := Get[record](&Tx{tx: btx}, Containers, "c100")
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel is Update from several goroutines at once: the
// waits for the lock dominate.
func BenchmarkUpdateParallel(b *testing.B) {
	db := benchDB(b)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Update(func(tx *Tx) error { return Put(tx, Containers, "c100", record{ID: "x"}) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProcesses20 is twenty berth commands at once, each a process
// making five Updates (as twenty `berth run -d` might); one op is one
// Update, timed from the first start to the last exit, process starts
// included.
func BenchmarkProcesses20(b *testing.B) {
	const procs, each = 20, 5
	db := benchDB(b)
	b.ResetTimer()
	for round := 0; round < b.N; round++ {
		var cmds []*exec.Cmd
		for p := range procs {
			cmd := helperCmd(b, db, "add", fmt.Sprintf("b%d-%02d", round, p), fmt.Sprintf("BERTH_STORE_N=%d", each))
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*procs*each), "ns/update")
}
