package store

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

func keys(imgs []Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, img.Key())
	}
	return out
}

func TestImageCRUD(t *testing.T) {
	db := newDB(t)
	busybox := testImage("docker.io/library/busybox:latest", "busybox")
	busybox.Labels = map[string]string{"org.example": "yes"}
	before := time.Now()
	update(t, db, func(tx *Tx) error { return tx.PutImage(busybox) })

	var got Image
	view(t, db, func(tx *Tx) (err error) { got, err = tx.Image(busybox.Name); return err })
	if got.Created.Before(before.Add(-time.Second)) || got.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", got.Created)
	}
	want := busybox
	want.Created = got.Created
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Image = %+v, want %+v", got, want)
	}

	// A given Created is kept; replacing with the same config leaves no dangling.
	busybox.Created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	update(t, db, func(tx *Tx) error { return tx.PutImage(busybox) })
	view(t, db, func(tx *Tx) error {
		all, err := tx.Images()
		if err != nil {
			return err
		}
		if len(all) != 1 || !all[0].Created.Equal(busybox.Created) {
			t.Errorf("Images = %+v, want the one busybox of %v", all, busybox.Created)
		}
		return nil
	})

	update(t, db, func(tx *Tx) error { return tx.DeleteImage(busybox.Name) })
	view(t, db, func(tx *Tx) error {
		_, err := tx.Image(busybox.Name)
		wantErr(t, err, errdefs.ErrNotFound, busybox.Name)
		all, err := tx.Images()
		if len(all) != 0 {
			t.Errorf("Images after delete = %v", keys(all))
		}
		return err
	})
	err := db.Update(func(tx *Tx) error { return tx.DeleteImage(busybox.Name) })
	wantErr(t, err, errdefs.ErrNotFound, busybox.Name)
}

func TestImagesSortedAndByConfig(t *testing.T) {
	db := newDB(t)
	update(t, db, func(tx *Tx) error {
		for _, img := range []Image{
			testImage("quay.io/b:1", "b"),
			testImage("docker.io/library/alpine:3", "alpine"),
			testImage("docker.io/library/alpine:latest", "alpine"),
			testImage("127.0.0.1:5000/x:y", "x"),
		} {
			if err := tx.PutImage(img); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, func(tx *Tx) error {
		all, err := tx.Images()
		if err != nil {
			return err
		}
		want := []string{"127.0.0.1:5000/x:y", "docker.io/library/alpine:3", "docker.io/library/alpine:latest", "quay.io/b:1"}
		if got := keys(all); !slices.Equal(got, want) {
			t.Errorf("Images = %v, want %v", got, want)
		}
		byConfig, err := tx.ImagesByConfig(testImage("", "alpine").Config)
		if got := keys(byConfig); !slices.Equal(got, want[1:3]) {
			t.Errorf("ImagesByConfig = %v, want %v", got, want[1:3])
		}
		none, err := tx.ImagesByConfig(digest.FromString("nothing"))
		if len(none) != 0 {
			t.Errorf("ImagesByConfig(unknown) = %v", keys(none))
		}
		return err
	})
}

func TestPutImageRefusesBadInput(t *testing.T) {
	db := newDB(t)
	bad := map[string]Image{
		"empty name":    testImage("", "a"),
		"dangling name": testImage("@sha256:abc", "a"),
		"no config":     func() Image { i := testImage("x:1", "a"); i.Config = ""; return i }(),
		"bad target":    func() Image { i := testImage("x:1", "a"); i.Target.Digest = "sha256:zz"; return i }(),
		"bad manifest":  func() Image { i := testImage("x:1", "a"); i.Manifest = "md5:00"; return i }(),
	}
	for what, img := range bad {
		err := db.Update(func(tx *Tx) error { return tx.PutImage(img) })
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: %v, want InvalidArgument", what, err)
		}
	}
	err := db.View(func(tx *Tx) error { return tx.PutImage(testImage("x:1", "a")) })
	wantErr(t, err, errdefs.ErrFailedPrecondition, "read-only")
	view(t, db, func(tx *Tx) error {
		all, err := tx.Images()
		if len(all) != 0 {
			t.Errorf("refused puts left %v", keys(all))
		}
		return err
	})
}

func TestDanglingImages(t *testing.T) {
	db := newDB(t)
	v1 := testImage("docker.io/library/app:latest", "v1")
	v1tag := testImage("docker.io/library/app:1", "v1")
	v2 := testImage("docker.io/library/app:latest", "v2")
	v3 := testImage("docker.io/library/app:latest", "v3")
	images := func() (out []Image) {
		t.Helper()
		view(t, db, func(tx *Tx) (err error) { out, err = tx.Images(); return err })
		return out
	}

	// Another name still refers to v1: moving latest leaves no dangling.
	update(t, db, func(tx *Tx) error { return tx.PutImage(v1) })
	update(t, db, func(tx *Tx) error { return tx.PutImage(v1tag) })
	update(t, db, func(tx *Tx) error { return tx.PutImage(v2) })
	if got, want := keys(images()), []string{v1tag.Name, v2.Name}; !slices.Equal(got, want) {
		t.Fatalf("after moving latest with app:1 left = %v, want %v", got, want)
	}

	// Now nothing names v1 once app:1 moves too: v1 dangles, keyed by its target.
	update(t, db, func(tx *Tx) error { return tx.PutImage(testImage(v1tag.Name, "v2")) })
	all := images()
	if got, want := keys(all), []string{"@" + v1.Target.Digest.String(), v1tag.Name, v2.Name}; !slices.Equal(got, want) {
		t.Fatalf("after moving app:1 = %v, want %v", got, want)
	}
	dangling := all[0]
	if !dangling.Dangling() || dangling.Config != v1.Config || dangling.Target.Digest != v1.Target.Digest || dangling.Manifest != v1.Manifest {
		t.Errorf("dangling record = %+v, want v1's", dangling)
	}

	// Moving latest to v3 leaves app:1 on v2, so v2 does not dangle.
	update(t, db, func(tx *Tx) error { return tx.PutImage(v3) })
	if got, want := keys(images()), []string{"@" + v1.Target.Digest.String(), v1tag.Name, v3.Name}; !slices.Equal(got, want) {
		t.Fatalf("after latest→v3 = %v, want %v", got, want)
	}

	// Naming v1 again (a re-tag of the dangling image) ends its dangling record.
	update(t, db, func(tx *Tx) error { return tx.PutImage(testImage("docker.io/library/app:old", "v1")) })
	if got, want := keys(images()), []string{"docker.io/library/app:1", "docker.io/library/app:latest", "docker.io/library/app:old"}; !slices.Equal(got, want) {
		t.Fatalf("after re-tagging v1 = %v, want %v", got, want)
	}

	// Deleting a name is the user's choice: it leaves no dangling record.
	update(t, db, func(tx *Tx) error { return tx.DeleteImage("docker.io/library/app:old") })
	update(t, db, func(tx *Tx) error { return tx.PutImage(testImage("docker.io/library/app:1", "v3")) })
	all = images()
	if got, want := keys(all), []string{"@" + v2.Target.Digest.String(), "docker.io/library/app:1", "docker.io/library/app:latest"}; !slices.Equal(got, want) {
		t.Fatalf("after app:1→v3 = %v, want %v", got, want)
	}

	// A dangling image is found by ID and pruned by its Key.
	view(t, db, func(tx *Tx) error {
		found, err := tx.LookupImage(v2.Config.Encoded()[:12])
		if got := keys(found); !slices.Equal(got, []string{all[0].Key()}) {
			t.Errorf("LookupImage(v2 id) = %v", got)
		}
		return err
	})
	update(t, db, func(tx *Tx) error { return tx.DeleteImage(all[0].Key()) })
	if got := keys(images()); len(got) != 2 {
		t.Errorf("after prune = %v", got)
	}
}

func TestLookupImage(t *testing.T) {
	db := newDB(t)
	// Find two configs that share a first hex digit, and one that does not.
	seeds := map[byte][]string{}
	for i := 0; len(seeds) < 2 || !anyTwo(seeds); i++ {
		seed := string(rune('a'+i%26)) + string(rune('0'+i/26))
		first := testImage("", seed).Config.Encoded()[0]
		seeds[first] = append(seeds[first], seed)
	}
	var pair []string
	var other string
	for _, s := range seeds {
		if len(s) >= 2 && pair == nil {
			pair = s[:2]
		} else if other == "" {
			other = s[0]
		}
	}
	a, b, c := testImage("r/a:1", pair[0]), testImage("r/b:1", pair[1]), testImage("r/c:1", other)
	a2 := testImage("r/a:2", pair[0])
	update(t, db, func(tx *Tx) error {
		for _, img := range []Image{a, a2, b, c} {
			if err := tx.PutImage(img); err != nil {
				return err
			}
		}
		return nil
	})
	common := a.Config.Encoded()[:1]
	commonLen := 1
	for a.Config.Encoded()[:commonLen+1] == b.Config.Encoded()[:commonLen+1] {
		commonLen++
	}
	unique := a.Config.Encoded()[:commonLen+1]

	view(t, db, func(tx *Tx) error {
		for _, tc := range []struct {
			in   string
			want []string
		}{
			{"r/b:1", []string{"r/b:1"}},
			{a.Config.String(), []string{"r/a:1", "r/a:2"}},
			{a.Config.Encoded(), []string{"r/a:1", "r/a:2"}},
			{unique, []string{"r/a:1", "r/a:2"}},
			{"sha256:" + unique, []string{"r/a:1", "r/a:2"}},
			{c.Config.Encoded()[:1], []string{"r/c:1"}},
		} {
			got, err := tx.LookupImage(tc.in)
			if err != nil {
				t.Errorf("LookupImage(%q): %v", tc.in, err)
			} else if !slices.Equal(keys(got), tc.want) {
				t.Errorf("LookupImage(%q) = %v, want %v", tc.in, keys(got), tc.want)
			}
		}
		_, err := tx.LookupImage(common)
		wantErr(t, err, errdefs.ErrInvalidArgument, "ambiguous", common)
		_, err = tx.LookupImage("sha256:" + a.Config.Encoded()[:commonLen])
		wantErr(t, err, errdefs.ErrInvalidArgument, "ambiguous")
		for _, missing := range []string{"r/a:3", "", "sha256:", "ABC" + unique, unique + "g",
			digest.FromString("nope").String(), "md5:" + unique, a.Config.Encoded() + "0"} {
			_, err = tx.LookupImage(missing)
			wantErr(t, err, errdefs.ErrNotFound)
		}
		return nil
	})
}

func anyTwo(m map[byte][]string) bool {
	for _, s := range m {
		if len(s) >= 2 {
			return true
		}
	}
	return false
}
