package pullbench

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/engine"
	"github.com/berth-project/berth/internal/unpack"
	"github.com/berth-project/berth/test/kit"
)

// layerTimes are the moments one layer went through, from the pull's start.
type layerTimes struct {
	fetchStart, fetchEnd       time.Duration // first and last Downloading event
	applyStart, verify, commit time.Duration // Extracting, Verifying, Done
}

// timeline records a pull's progress events as they come (from several
// goroutines: the fetches report on their own).
type timeline struct {
	mu     sync.Mutex
	start  time.Time
	first  time.Duration // the first event: manifest and config are in
	layers map[digest.Digest]*layerTimes
}

func (tl *timeline) event(e unpack.Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	now := time.Since(tl.start)
	if tl.first == 0 {
		tl.first = now
	}
	l := tl.layers[e.Layer.Digest]
	if l == nil {
		l = &layerTimes{}
		tl.layers[e.Layer.Digest] = l
	}
	switch e.Phase {
	case unpack.Downloading:
		if l.fetchStart == 0 {
			l.fetchStart = now
		}
		if e.Current == e.Total {
			l.fetchEnd = now
		}
	case unpack.Extracting:
		if l.applyStart == 0 {
			l.applyStart = now
		}
	case unpack.Verifying:
		l.verify = now
	case unpack.Done:
		l.commit = now
	}
}

// TestBreakdown pulls kit.BigImage (pushed by TestSeed) into fresh roots
// BERTH_BENCH_RUNS times (3 by default) and prints, per run, when each
// layer was fetched, applied and committed, with its file count.
func TestBreakdown(t *testing.T) {
	requireBench(t)
	kit.Registry(t)
	img := kit.BigImage(t, "")
	entries, err := tarEntries(img)
	if err != nil {
		t.Fatal(err)
	}
	runs := 3
	if v := os.Getenv("BERTH_BENCH_RUNS"); v != "" {
		if runs, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	for i := range runs {
		dir := t.TempDir()
		e, err := engine.Open(engine.Config{Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")})
		if err != nil {
			t.Fatal(err)
		}
		tl := &timeline{start: time.Now(), layers: map[digest.Digest]*layerTimes{}}
		if _, err := e.Pull(context.Background(), BigRef, engine.PullOptions{Progress: tl.event}); err != nil {
			e.Close()
			t.Fatal(err)
		}
		total := time.Since(tl.start)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "run %d (%s, driver %s): total %s, manifest+config %s\n", i+1, BigRef, e.StorageDriver(), ms(total), ms(tl.first))
		fmt.Fprintf(&b, "%-5s %9s %7s %9s %9s %9s %9s %9s %9s %9s\n",
			"layer", "blob MB", "entries", "fetch at", "fetch ms", "MB/s", "apply at", "apply ms", "ms/entry", "commit ms")
		var last time.Duration
		for j, l := range img.Layers {
			lt := tl.layers[l.Digest]
			if lt == nil {
				t.Fatalf("no events for layer %d", j)
			}
			fetch := lt.fetchEnd - lt.fetchStart
			apply := lt.verify - lt.applyStart
			fmt.Fprintf(&b, "%-5d %9.1f %7d %9s %9s %9.0f %9s %9s %9.3f %9s\n", j, float64(l.Size)/1e6, entries[j],
				ms(lt.fetchStart), ms(fetch), float64(l.Size)/1e6/fetch.Seconds(),
				ms(lt.applyStart), ms(apply), float64(apply.Microseconds())/1e3/float64(entries[j]), ms(lt.commit-lt.verify))
			last = max(last, lt.commit)
		}
		fmt.Fprintf(&b, "after the last commit (image record, sizes): %s\n", ms(total-last))
		t.Log("\n" + b.String())
	}
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1e3, 'f', 1, 64)
}

// tarEntries counts the tar entries of each of img's layers.
func tarEntries(img kit.Image) ([]int, error) {
	var n []int
	for _, l := range img.Layers {
		f, err := os.Open(filepath.Join(img.Layout, "blobs", l.Digest.Algorithm().String(), l.Digest.Encoded()))
		if err != nil {
			return nil, err
		}
		count, err := countEntries(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		n = append(n, count)
	}
	return n, nil
}

func countEntries(r io.Reader) (int, error) {
	rc, err := archive.Decompress(r)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for n := 0; ; n++ {
		if _, err := tr.Next(); errors.Is(err, io.EOF) {
			return n, nil
		} else if err != nil {
			return n, err
		}
	}
}
