package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// The helper process (the os/exec test pattern): the test binary re-executed
// with BERTH_CONTENT_HELPER=<root> ingests the file BERTH_CONTENT_SRC and
// prints "fetched" if it had to download it.
func TestMain(m *testing.M) {
	if root := os.Getenv("BERTH_CONTENT_HELPER"); root != "" {
		if err := helperIngest(root, os.Getenv("BERTH_CONTENT_SRC")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helperIngest(root, src string) error {
	s, err := Open(root)
	if err != nil {
		return err
	}
	blob, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	d := digest.FromBytes(blob)
	return s.Ingest("pull-"+d.String(), d, int64(len(blob)), func(off int64) (io.ReadCloser, error) {
		fmt.Println("fetched")
		return io.NopCloser(&slowReader{r: bytes.NewReader(blob[off:])}), nil
	})
}

// slowReader makes a download last long enough for others to queue behind it.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(2 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 4096)])
}

func testBlob() []byte { return bytes.Repeat([]byte("shared layer "), 20000) } // 260 kB, ~130 ms slow

func TestConcurrentGoroutines(t *testing.T) {
	s := newStore(t)
	blob := testBlob()
	d := digest.FromBytes(blob)
	var fetches atomic.Int32
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Ingest("pull-"+d.String(), d, int64(len(blob)), func(off int64) (io.ReadCloser, error) {
				fetches.Add(1)
				return io.NopCloser(&slowReader{r: bytes.NewReader(blob[off:])}), nil
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
	equal(t, readAll(t, s, d), blob)
	assertClean(t, s, d)
}

func TestConcurrentProcesses(t *testing.T) {
	s := newStore(t)
	blob := testBlob()
	d := digest.FromBytes(blob)
	src := t.TempDir() + "/src"
	if err := os.WriteFile(src, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 3 {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "BERTH_CONTENT_HELPER="+s.Root(), "BERTH_CONTENT_SRC="+src)
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	fetched := 0
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v: %s", i, err, outs[i])
		}
		fetched += strings.Count(outs[i].String(), "fetched")
	}
	if fetched != 1 {
		t.Errorf("%d downloads, want 1", fetched)
	}
	equal(t, readAll(t, s, d), blob)
	assertClean(t, s, d)
}

func TestTryWriter(t *testing.T) {
	s := newStore(t)
	w, err := s.Writer("busy", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TryWriter("busy", "", 0); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("TryWriter on a held ref: %v, want Unavailable", err)
	}
	w.Write([]byte("abc"))
	w.Close()
	w, err = s.TryWriter("busy", "", 0)
	if err != nil {
		t.Fatalf("TryWriter on a free ref: %v", err)
	}
	if w.Offset() != 3 {
		t.Errorf("Offset = %d, want 3", w.Offset())
	}
	w.Discard()
	assertClean(t, s)
}

// A fetch that fails mid-blob keeps the partial ingest; the retry resumes it.
func TestIngestResumesAfterFailure(t *testing.T) {
	s := newStore(t)
	blob := testBlob()
	d := digest.FromBytes(blob)
	cut := int64(len(blob) / 3)
	err := s.Ingest("pull", d, int64(len(blob)), func(off int64) (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(bytes.NewReader(blob[:cut]), errReader{})), nil
	})
	if err == nil {
		t.Fatal("Ingest with a broken source succeeded")
	}
	var resumedAt int64 = -1
	err = s.Ingest("pull", d, int64(len(blob)), func(off int64) (io.ReadCloser, error) {
		resumedAt = off
		return io.NopCloser(bytes.NewReader(blob[off:])), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if resumedAt != cut {
		t.Errorf("resumed at %d, want %d", resumedAt, cut)
	}
	assertClean(t, s, d)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
