package progress

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// pull plays a pull of three layers: one already present, two fetched
// side by side, each downloaded in steps, verified and extracted.
func pull(d *Display, c *clock) {
	d.Printf("latest: Pulling from library/busybox")
	d.Update(digestA, AlreadyExists, 0, 0)
	const size = 45.6e6
	for _, id := range []string{digestB, digestC} {
		d.Update(id, PullingFSLayer, 0, size)
	}
	d.Update(digestC, Waiting, 0, size)
	for i := int64(0); i <= 10; i++ {
		d.Update(digestB, Downloading, i*size/10, size)
		c.Advance(50 * time.Millisecond)
	}
	d.Update(digestB, VerifyingChecksum, size, size)
	d.Update(digestB, DownloadComplete, size, size)
	d.Update(digestB, DownloadComplete, size, size) // repeated: printed once
	for i := int64(0); i <= 10; i++ {
		d.Update(digestC, Downloading, i*size/10, size)
		d.Update(digestB, Extracting, i*size/10, size)
		c.Advance(50 * time.Millisecond)
	}
	d.Update(digestB, PullComplete, 0, 0)
	d.Update(digestC, VerifyingChecksum, size, size)
	d.Update(digestC, DownloadComplete, size, size)
	d.Update(digestC, Extracting, size, size)
	d.Update(digestC, PullComplete, 0, 0)
	d.Close()
	d.Printf("Digest: sha256:%s", strings.Repeat("ab", 32))
	d.Printf("Status: Downloaded newer image for busybox:latest\n")
}

func push(d *Display, c *clock) {
	d.Printf("The push refers to repository [localhost:5000/busybox]")
	for _, id := range []string{digestA, digestB, digestC} {
		d.Update(id, Preparing, 0, 0)
	}
	d.Update(digestA, LayerAlreadyExists, 0, 0)
	d.Update(digestC, Waiting, 0, 0)
	r := d.Reader(strings.NewReader(strings.Repeat("x", 3000)), digestB, Pushing, 0, 3000)
	buf := make([]byte, 1000)
	for {
		if _, err := r.Read(buf); err != nil {
			break
		}
		c.Advance(100 * time.Millisecond)
	}
	d.Update(digestB, Pushed, 3000, 3000)
	d.Update(digestC, Pushing, 10, 20)
	d.Update(digestC, Pushed, 20, 20)
	d.Close()
	d.Printf("latest: digest: sha256:%s size: 527", strings.Repeat("cd", 32))
}

func TestPlainPull(t *testing.T) {
	var b bytes.Buffer
	c := newClock()
	pull(New(&b, Options{Now: c.Now}), c) // a bytes.Buffer is no terminal
	golden(t, "pull.golden", b.String())
}

func TestPlainPush(t *testing.T) {
	var b bytes.Buffer
	c := newClock()
	push(New(&b, Options{TTY: ptr(false), Now: c.Now}), c)
	golden(t, "push.golden", b.String())
}

// A plain file is no terminal either: the output is the same.
func TestPlainFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := newClock()
	d := New(f, Options{Now: c.Now})
	if d.tty {
		t.Fatal("a regular file was taken for a terminal")
	}
	pull(d, c)
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pull.golden", string(got))
}

func TestQuiet(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b syncBuffer
		c := newClock()
		pull(New(&b, Options{Quiet: true, TTY: &tty, Now: c.Now}), c)
		push(New(&b, Options{Quiet: true, TTY: &tty, Now: c.Now}), c)
		if got := b.String(); got != "" {
			t.Errorf("tty=%v: quiet display printed %q", tty, got)
		}
	}
}

func TestUpdateAfterClose(t *testing.T) {
	var b bytes.Buffer
	d := New(&b, Options{TTY: ptr(false)})
	d.Close()
	d.Update(digestA, PullComplete, 0, 0)
	d.Close()
	if b.Len() != 0 {
		t.Errorf("printed %q after Close", b.String())
	}
}
