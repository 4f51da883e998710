package volume

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/store"
)

func setup(t *testing.T) (*store.DB, *Volumes, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "volumes")
	return db, New(root), root
}

func TestCreateGetListRemove(t *testing.T) {
	db, vols, root := setup(t)
	var named, anon Volume
	err := db.Update(func(tx *store.Tx) (err error) {
		if named, err = vols.Create(tx, Options{Name: "data", Labels: map[string]string{"a": "b"}}); err != nil {
			return err
		}
		again, err := vols.Create(tx, Options{Name: "data"})
		if err != nil || again.CreatedAt != named.CreatedAt {
			t.Errorf("second create of data = %+v, %v; want the first", again, err)
		}
		anon, err = vols.Create(tx, Options{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if named.Mountpoint != filepath.Join(root, "data", "_data") || named.Labels["a"] != "b" {
		t.Fatalf("named volume %+v", named)
	}
	if !anon.Anonymous || len(anon.Name) != 64 {
		t.Fatalf("anonymous volume %+v", anon)
	}
	if err := os.WriteFile(filepath.Join(named.Mountpoint, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		all, err := vols.List(tx)
		if err != nil || len(all) != 2 {
			t.Errorf("List = %v, %v", all, err)
		}
		if err := vols.Remove(tx, "data"); err != nil {
			return err
		}
		if _, err := vols.Get(tx, "data"); !errdefs.IsNotFound(err) {
			t.Errorf("Get after Remove: %v", err)
		}
		if err := vols.Remove(tx, "data"); !errdefs.IsNotFound(err) {
			t.Errorf("second Remove: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "data")); !os.IsNotExist(err) {
		t.Fatalf("the removed volume's directory is still there: %v", err)
	}
}

func TestBadInputAndSweep(t *testing.T) {
	db, vols, root := setup(t)
	err := db.Update(func(tx *store.Tx) error {
		for _, o := range []Options{{Name: "a"}, {Name: "../x"}, {Name: "has space"}, {Name: "ok", Driver: "nfs"}} {
			if _, err := vols.Create(tx, o); !errdefs.IsInvalidArgument(err) {
				t.Errorf("Create(%+v): %v, want InvalidArgument", o, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "orphan", "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *store.Tx) error {
		if _, err := vols.Create(tx, Options{Name: "kept"}); err != nil {
			return err
		}
		return vols.Sweep(tx)
	}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 || entries[0].Name() != "kept" {
		t.Fatalf("after Sweep the volume root holds %v", entries)
	}
}
