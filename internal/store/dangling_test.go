package store

import (
	"slices"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

// An unnamed image (loaded or imported without a name) is recorded as
// dangling, unless its config is there already.
func TestPutDangling(t *testing.T) {
	db := newDB(t)
	put := func(img Image) bool {
		t.Helper()
		var recorded bool
		update(t, db, func(tx *Tx) (err error) { recorded, err = tx.PutDangling(img); return err })
		return recorded
	}
	keysNow := func() (out []string) {
		t.Helper()
		view(t, db, func(tx *Tx) error { all, err := tx.Images(); out = keys(all); return err })
		return out
	}

	a := testImage("", "a")
	if !put(a) {
		t.Fatal("PutDangling of a new image recorded nothing")
	}
	if got, want := keysNow(), []string{a.Key()}; !slices.Equal(got, want) {
		t.Fatalf("after PutDangling = %v, want %v", got, want)
	}
	view(t, db, func(tx *Tx) error {
		img, err := tx.Image(a.Key())
		if err == nil && (img.Config != a.Config || img.Created.IsZero()) {
			t.Errorf("dangling record = %+v", img)
		}
		return err
	})
	if put(a) {
		t.Error("PutDangling of an image already there recorded it again")
	}

	// A name for it ends the dangling record; an unnamed copy then adds nothing.
	update(t, db, func(tx *Tx) error { return tx.PutImage(testImage("docker.io/library/a:1", "a")) })
	if put(a) {
		t.Error("PutDangling of a named image recorded it")
	}
	if got, want := keysNow(), []string{"docker.io/library/a:1"}; !slices.Equal(got, want) {
		t.Errorf("after naming it = %v, want %v", got, want)
	}

	err := db.Update(func(tx *Tx) error { _, err := tx.PutDangling(testImage("x:1", "b")); return err })
	wantErr(t, err, errdefs.ErrInvalidArgument, "x:1")
	bad := testImage("", "b")
	bad.Config = "sha256:zz"
	err = db.Update(func(tx *Tx) error { _, err := tx.PutDangling(bad); return err })
	wantErr(t, err, errdefs.ErrInvalidArgument, "config")
	err = db.View(func(tx *Tx) error { _, err := tx.PutDangling(testImage("", "b")); return err })
	wantErr(t, err, errdefs.ErrFailedPrecondition, "read-only")
}
