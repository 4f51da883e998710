package store

import (
	"slices"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestRecords(t *testing.T) {
	db := newDB(t)
	update(t, db, func(tx *Tx) error {
		for _, id := range []string{"c2", "c1", "c3"} {
			if err := Put(tx, Containers, id, record{ID: id}); err != nil {
				return err
			}
		}
		return Put(tx, Pods, "p1", record{ID: "p1", Note: "pod"})
	})
	view(t, db, func(tx *Tx) error {
		got, err := Get[record](tx, Containers, "c2")
		if err != nil || got != (record{ID: "c2"}) {
			t.Errorf("Get c2 = %+v, %v", got, err)
		}
		_, err = Get[record](tx, Containers, "p1") // buckets are apart
		wantErr(t, err, errdefs.ErrNotFound, "containers", "p1")
		all, err := List[record](tx, Containers)
		if err != nil || !slices.Equal(all, []record{{ID: "c1"}, {ID: "c2"}, {ID: "c3"}}) {
			t.Errorf("List = %+v, %v", all, err)
		}
		ks, err := Keys(tx, Containers)
		if err != nil || !slices.Equal(ks, []string{"c1", "c2", "c3"}) {
			t.Errorf("Keys = %v, %v", ks, err)
		}
		none, err := List[record](tx, Volumes)
		if err != nil || len(none) != 0 {
			t.Errorf("List volumes = %v, %v", none, err)
		}
		return nil
	})

	update(t, db, func(tx *Tx) error {
		if err := Put(tx, Containers, "c1", record{ID: "c1", Note: "replaced"}); err != nil {
			return err
		}
		wantErr(t, Create(tx, Containers, "c2", record{}), errdefs.ErrAlreadyExists, "c2")
		if err := Create(tx, Containers, "c4", record{ID: "c4"}); err != nil {
			return err
		}
		if err := Delete(tx, Containers, "c3"); err != nil {
			return err
		}
		wantErr(t, Delete(tx, Containers, "c3"), errdefs.ErrNotFound, "c3")
		wantErr(t, Put(tx, Containers, "", record{}), errdefs.ErrInvalidArgument)
		wantErr(t, Put(tx, Bucket("images"), "x", record{}), errdefs.ErrInvalidArgument, "images")
		wantErr(t, Put(tx, Bucket("meta"), "version", 7), errdefs.ErrInvalidArgument)
		_, err := Get[int](tx, Bucket("nope"), "x")
		wantErr(t, err, errdefs.ErrInvalidArgument, "nope")
		if err := Put(tx, Containers, "bad", func() {}); err == nil || !strings.Contains(err.Error(), `"bad"`) {
			t.Errorf("Put of an unencodable value: %v", err)
		}
		return nil
	})
	view(t, db, func(tx *Tx) error {
		all, err := List[record](tx, Containers)
		want := []record{{ID: "c1", Note: "replaced"}, {ID: "c2"}, {ID: "c4"}}
		if err != nil || !slices.Equal(all, want) {
			t.Errorf("List = %+v, %v; want %+v", all, err, want)
		}
		wantErr(t, Put(tx, Containers, "c9", record{}), errdefs.ErrFailedPrecondition, "read-only")
		wantErr(t, Delete(tx, Containers, "c1"), errdefs.ErrFailedPrecondition, "read-only")
		// A value of the wrong shape is a decode error naming the key.
		_, err = Get[[]int](tx, Containers, "c1")
		if err == nil || errdefs.IsNotFound(err) {
			t.Errorf("Get into the wrong type: %v", err)
		}
		return nil
	})
}

func TestNameReservations(t *testing.T) {
	db := newDB(t)
	update(t, db, func(tx *Tx) error {
		if err := tx.Reserve("container", "web", "id1"); err != nil {
			return err
		}
		if err := tx.Reserve("container", "web", "id1"); err != nil { // one's own: fine
			return err
		}
		return tx.Reserve("pod", "web", "pod1") // kinds are apart
	})
	err := db.Update(func(tx *Tx) error { return tx.Reserve("container", "web", "id2") })
	wantErr(t, err, errdefs.ErrAlreadyExists, `container name "web"`, "id1")
	view(t, db, func(tx *Tx) error {
		if owner, err := tx.Owner("container", "web"); err != nil || owner != "id1" {
			t.Errorf("Owner = %q, %v", owner, err)
		}
		if owner, err := tx.Owner("pod", "web"); err != nil || owner != "pod1" {
			t.Errorf("Owner pod = %q, %v", owner, err)
		}
		_, err := tx.Owner("container", "db")
		wantErr(t, err, errdefs.ErrNotFound, "db")
		_, err = tx.Owner("volume", "web") // a kind never used
		wantErr(t, err, errdefs.ErrNotFound)
		wantErr(t, tx.Reserve("container", "x", "y"), errdefs.ErrFailedPrecondition)
		return nil
	})
	update(t, db, func(tx *Tx) error {
		wantErr(t, tx.Reserve("container", "", "id"), errdefs.ErrInvalidArgument)
		wantErr(t, tx.Reserve("", "n", "id"), errdefs.ErrInvalidArgument)
		wantErr(t, tx.Reserve("container", "n", ""), errdefs.ErrInvalidArgument)
		if err := tx.Release("container", "web"); err != nil {
			return err
		}
		wantErr(t, tx.Release("container", "web"), errdefs.ErrNotFound)
		wantErr(t, tx.Release("network", "web"), errdefs.ErrNotFound)
		return tx.Reserve("container", "web", "id2")
	})
	view(t, db, func(tx *Tx) error {
		owner, err := tx.Owner("container", "web")
		if owner != "id2" {
			t.Errorf("after release and re-reserve Owner = %q", owner)
		}
		return err
	})
}
