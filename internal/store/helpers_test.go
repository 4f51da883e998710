package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The helper process (the os/exec test pattern): the test binary re-executed
// with BERTH_STORE_HELPER=<mode> acts on the store at BERTH_STORE_DB.
//
//	add   N Updates, each adding one record and counting it in counterKey
//	hang  one Update that writes, prints "inside" and sleeps until killed
//	loop  adds counted records until killed
func TestMain(m *testing.M) {
	if mode := os.Getenv("BERTH_STORE_HELPER"); mode != "" {
		if err := helper(mode, os.Getenv("BERTH_STORE_DB"), os.Getenv("BERTH_STORE_ID")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type counter struct {
	N int `json:"n"`
}

type record struct {
	ID   string `json:"id"`
	Note string `json:"note,omitempty"`
}

const counterKey = "counter"

// addCounted adds record id to Containers and counts it, in one transaction.
func addCounted(tx *Tx, id string) error {
	c, err := Get[counter](tx, Volumes, counterKey)
	if err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	c.N++
	if err := Put(tx, Volumes, counterKey, c); err != nil {
		return err
	}
	return Create(tx, Containers, id, record{ID: id})
}

func helper(mode, path, id string) error {
	db, err := Open(path)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	switch mode {
	case "add":
		n, _ := strconv.Atoi(os.Getenv("BERTH_STORE_N"))
		for i := range n {
			if err := db.Update(func(tx *Tx) error { return addCounted(tx, fmt.Sprintf("%s-%03d", id, i)) }); err != nil {
				return err
			}
		}
		return nil
	case "hang":
		return db.Update(func(tx *Tx) error {
			if err := addCounted(tx, id); err != nil {
				return err
			}
			if err := tx.PutImage(testImage("example.com/killed:latest", "killed")); err != nil {
				return err
			}
			fmt.Fprintln(out, "inside")
			out.Flush()
			time.Sleep(time.Hour) // until SIGKILL (select{} would be a detected deadlock)
			return nil
		})
	case "loop":
		for i := 0; ; i++ {
			if err := db.Update(func(tx *Tx) error { return addCounted(tx, fmt.Sprintf("%s-%06d", id, i)) }); err != nil {
				return err
			}
			if i == 20 {
				fmt.Fprintln(out, "running")
				out.Flush()
			}
		}
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

func newDB(t testing.TB) *DB {
	t.Helper()
	db, err := OpenOptions(filepath.Join(t.TempDir(), "lib", "berth.db"), Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })
	return db
}

// assertClosed checks that this process holds no descriptor of the file
// or its lock file (the store opens them per transaction) and that nothing
// but those two was left beside it.
//
// A wait for the lock that timed out goes on in the background until the
// lock is free, then closes its descriptor (lockTx): that one may take a
// moment to go, so the lock file's descriptors are waited for.
func assertClosed(t testing.TB, db *DB) {
	t.Helper()
	for _, fd := range openFDs(t, db.Path()) {
		t.Errorf("fd %s still open on %s", fd, db.Path())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lockFDs := openFDs(t, lockPath(db.Path()))
		if len(lockFDs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("fds %v still open on %s", lockFDs, lockPath(db.Path()))
			break
		}
	}
	entries, err := os.ReadDir(filepath.Dir(db.Path()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(db.Path()) && e.Name() != filepath.Base(lockPath(db.Path())) {
			t.Errorf("stray file %s beside the store", e.Name())
		}
	}
}

// openFDs lists this process's descriptors of path.
func openFDs(t testing.TB, path string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); target == path {
			out = append(out, fd.Name())
		}
	}
	return out
}

// testImage is an image whose digests derive from seed: same seed, same image.
func testImage(name, seed string) Image {
	target := digest.FromString("index " + seed)
	return Image{
		Name:     name,
		Target:   ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: target, Size: 1234},
		Manifest: digest.FromString("manifest " + seed),
		Config:   digest.FromString("config " + seed),
	}
}

func update(t testing.TB, db *DB, fn func(*Tx) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func view(t testing.TB, db *DB, fn func(*Tx) error) {
	t.Helper()
	if err := db.View(fn); err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, class error, contains ...string) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("error %v, want class %v", err, class)
	}
	for _, s := range contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}
