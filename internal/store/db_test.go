package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	bolt "go.etcd.io/bbolt"
)

func TestOpenCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "berth")
	path := filepath.Join(dir, "berth.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: os.ModeDir | 0o700, filepath.Dir(dir): os.ModeDir | 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
	if db.Path() != path {
		t.Errorf("Path = %q, want %q", db.Path(), path)
	}
	assertClosed(t, db)
	view(t, db, func(tx *Tx) error {
		if tx.Writable() {
			t.Error("View tx is writable")
		}
		return nil
	})
	// A second Open of an existing store changes nothing.
	fi, _ := os.Stat(path)
	if _, err := Open(path); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(path)
	if !fi.ModTime().Equal(fi2.ModTime()) || fi.Size() != fi2.Size() {
		t.Errorf("reopening an up-to-date store rewrote it")
	}
	assertClosed(t, db)

	_, err = Open("")
	wantErr(t, err, errdefs.ErrInvalidArgument)
}

func TestRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	db, err := Open("sub/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(db.Path()) {
		t.Errorf("Path = %q, want absolute", db.Path())
	}
}

func TestUpdateRollsBack(t *testing.T) {
	db := newDB(t)
	update(t, db, func(tx *Tx) error { return Put(tx, Containers, "kept", record{ID: "kept"}) })
	before, _ := os.ReadFile(db.Path())

	failing := func(tx *Tx) error {
		if err := Put(tx, Containers, "c1", record{ID: "c1"}); err != nil {
			return err
		}
		if err := tx.Reserve("container", "web", "c1"); err != nil {
			return err
		}
		if err := tx.PutImage(testImage("x/y:z", "y")); err != nil {
			return err
		}
		if err := Delete(tx, Containers, "kept"); err != nil {
			return err
		}
		return errors.New("engine: bundle failed")
	}
	if err := db.Update(failing); err == nil || err.Error() != "engine: bundle failed" {
		t.Fatalf("Update = %v, want fn's error as it is", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want fn's panic", r)
			}
		}()
		db.Update(func(tx *Tx) error {
			failing(tx)
			panic("boom")
		})
	}()
	assertUntouched(t, db)
	after, _ := os.ReadFile(db.Path())
	if !bytes.Equal(before, after) {
		t.Error("a rolled-back Update changed the file")
	}
}

// assertUntouched checks that only the record "kept" exists.
func assertUntouched(t *testing.T, db *DB) {
	t.Helper()
	view(t, db, func(tx *Tx) error {
		ks, err := Keys(tx, Containers)
		if err != nil {
			return err
		}
		if len(ks) != 1 || ks[0] != "kept" {
			t.Errorf("containers = %v, want [kept]", ks)
		}
		if _, err := tx.Owner("container", "web"); !errdefs.IsNotFound(err) {
			t.Errorf("name reservation survived: %v", err)
		}
		imgs, err := tx.Images()
		if len(imgs) != 0 {
			t.Errorf("images survived: %v", keys(imgs))
		}
		return err
	})
}

// setVersion rewrites the schema version behind the store's back.
func setVersion(t *testing.T, path string, v string) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if err := bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put(versionKey, []byte(v))
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaVersion(t *testing.T) {
	db := newDB(t)
	var v int
	view(t, db, func(tx *Tx) (err error) { v, err = readVersion(tx.tx); return err })
	if v != SchemaVersion || SchemaVersion != len(migrations) {
		t.Fatalf("version %d, SchemaVersion %d, %d migrations", v, SchemaVersion, len(migrations))
	}

	// A newer berth migrated the file: refuse to open it, and refuse
	// transactions of a DB opened before.
	setVersion(t, db.Path(), fmt.Sprint(SchemaVersion+1))
	_, err := Open(db.Path())
	wantErr(t, err, errdefs.ErrFailedPrecondition, db.Path(), "newer")
	err = db.View(func(*Tx) error { t.Error("fn ran on a newer schema"); return nil })
	wantErr(t, err, errdefs.ErrFailedPrecondition, db.Path(), "schema version")

	setVersion(t, db.Path(), "one")
	_, err = Open(db.Path())
	wantErr(t, err, errdefs.ErrFailedPrecondition, db.Path(), `"one"`)

	// A file of version 0 (buckets but no version) is migrated.
	setVersion(t, db.Path(), fmt.Sprint(SchemaVersion))
	update(t, db, func(tx *Tx) error { return Put(tx, Pods, "p", record{ID: "p"}) })
	bdb, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		return tx.DeleteBucket([]byte(bucketMeta))
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	if _, err := Open(db.Path()); err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx *Tx) error {
		_, err := Get[record](tx, Pods, "p")
		return err // the migration kept what was there
	})
}

func TestCorruptFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *Tx) error { return Put(tx, Containers, "c", record{ID: "c"}) })
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	zeroMeta := bytes.Clone(valid)
	clear(zeroMeta[:2*4096]) // both meta pages
	for name, content := range map[string][]byte{
		"text":      []byte("this is not a database\n"),
		"garbage":   bytes.Repeat([]byte{0xa5, 0x5a, 0x17}, 8192),
		"zero-meta": zeroMeta,
		"truncated": valid[:4096+100],
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			wantErr(t, err, errdefs.ErrFailedPrecondition, path, "corrupt")
			// The store did not "repair" the file by overwriting it.
			if now, _ := os.ReadFile(path); !bytes.Equal(now, content) {
				t.Error("Open changed the corrupt file")
			}
		})
	}
	_, err = Open(dir) // a directory
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(dir) = %v", err)
	}
}

// While another process holds the file, a transaction waits up to the
// timeout and then fails with ErrUnavailable naming the path.
func TestLockTimeout(t *testing.T) {
	db := newDB(t)
	short, err := OpenOptions(db.Path(), Options{Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = short.Update(func(*Tx) error { t.Error("Update ran while the file was held"); return nil })
	wantErr(t, err, errdefs.ErrUnavailable, db.Path(), "locked")
	err = short.View(func(*Tx) error { t.Error("View ran while the file was held for writing"); return nil })
	wantErr(t, err, errdefs.ErrUnavailable, db.Path())
	holder.Close()
	update(t, short, func(tx *Tx) error { return Put(tx, Containers, "c", record{ID: "c"}) })

	// Readers share the file.
	reader, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	view(t, short, func(tx *Tx) error { _, err := Get[record](tx, Containers, "c"); return err })
	err = short.Update(func(*Tx) error { t.Error("Update ran beside a reader"); return nil })
	wantErr(t, err, errdefs.ErrUnavailable)
	reader.Close()
}

// A damaged page makes bbolt panic, inside bolt.Open or in a transaction.
// Every such case is an error naming the file, and leaves the file unlocked.
func TestDamagedPage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "berth.db")
	db, err := OpenOptions(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *Tx) error { return Put(tx, Containers, "c", record{ID: "c"}) })
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	failed := 0
	for pg := 2; pg < len(valid)/page; pg++ {
		damaged := bytes.Clone(valid)
		copy(damaged[pg*page:(pg+1)*page], bytes.Repeat([]byte{0xa5}, page))
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := OpenOptions(path, Options{Timeout: 5 * time.Second})
		if err == nil {
			err = db.View(func(tx *Tx) error { _, err := List[record](tx, Containers); return err })
		}
		if err == nil {
			err = db.Update(func(tx *Tx) error { return Put(tx, Containers, "d", record{ID: "d"}) })
		}
		if err != nil {
			failed++
			t.Logf("page %d: %v", pg, err)
			wantErr(t, err, errdefs.ErrFailedPrecondition, path, "corrupt")
		}
		// Repaired, the file is usable at once: nothing kept it locked.
		if err := os.WriteFile(path, valid, 0o600); err != nil {
			t.Fatal(err)
		}
		update(t, db, func(tx *Tx) error { return Put(tx, Containers, "e", record{ID: "e"}) })
	}
	if failed == 0 {
		t.Error("no damaged page was noticed")
	}
}
