package unpack

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/testenv"
)

// childSpec is what a re-executed test binary unpacks (the os/exec test
// pattern): BERTH_UNPACK_CHILD holds it as JSON.
type childSpec struct {
	Kind, Snapshots, Content, LockDir string
	Layers                            []ocispec.Descriptor
	DiffIDs                           []digest.Digest
	// BlockIn, if set, makes the child print "extracting" once it has read
	// part of that layer's blob, and then hang mid-apply until killed.
	BlockIn digest.Digest
}

// childResult is what the child prints on success.
type childResult struct {
	Top     digest.Digest
	Applied int // layers this process applied itself
}

func TestMain(m *testing.M) {
	if spec := os.Getenv("BERTH_UNPACK_CHILD"); spec != "" {
		if err := runChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(raw string) error {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return err
	}
	cs, err := content.Open(spec.Content)
	if err != nil {
		return err
	}
	sn := openSnapshotter(&childTB{}, spec.Kind, spec.Snapshots)
	defer sn.Close()
	var res childResult
	var once sync.Once
	opts := Options{LockDir: spec.LockDir, Progress: func(ev Event) {
		if ev.Phase == Verifying {
			res.Applied++
		}
		if ev.Layer.Digest == spec.BlockIn && ev.Phase == Extracting && ev.Current > 0 {
			once.Do(func() { fmt.Println("extracting") })
			select {} // hang mid-apply, holding the lock, the snapshot and its mount
		}
	}}
	res.Top, err = Unpack(context.Background(), cs, sn, spec.Layers, spec.DiffIDs, opts)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// childTB lets the test helpers run in a child process.
type childTB struct{ testing.TB }

func (*childTB) Helper()                   {}
func (*childTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (*childTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// child starts the test binary unpacking im into e's stores.
func (e *env) child(t *testing.T, im testImage, blockIn digest.Digest) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	spec, err := json.Marshal(childSpec{Kind: e.kind, Snapshots: e.snapRoot(), Content: e.cs.Root(), LockDir: e.lockDir,
		Layers: im.descs(), DiffIDs: im.diffIDs(), BlockIn: blockIn})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BERTH_UNPACK_CHILD="+string(spec))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, bufio.NewScanner(out)
}

// manyFiles is a layer of n small files in a few directories.
func manyFiles(t testing.TB, prefix string, n, size int) []byte {
	ents := []ent{dir(prefix)}
	body := strings.Repeat("x", size)
	for i := range n {
		if i%100 == 0 {
			ents = append(ents, dir(fmt.Sprintf("%s/d%d", prefix, i/100)))
		}
		ents = append(ents, file(fmt.Sprintf("%s/d%d/f%d", prefix, i/100, i), body))
	}
	return tarOf(t, ents...)
}

// Unpacks of one image from several processes at once (and this one):
// one result, each layer applied once, nothing left over.
func TestUnpackConcurrentProcesses(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := append(threeLayers(t), mkLayer(t, manyFiles(t, "many", 300, 100), gz))
		e.ingest(t, im)
		type out struct {
			res childResult
			err error
		}
		outs := make([]out, 3)
		var wg sync.WaitGroup
		for i := range outs {
			cmd, sc := e.child(t, im, "")
			wg.Add(1)
			go func() {
				defer wg.Done()
				if sc.Scan() {
					outs[i].err = json.Unmarshal(sc.Bytes(), &outs[i].res)
				}
				if err := cmd.Wait(); err != nil {
					outs[i].err = fmt.Errorf("child %d: %w", i, err)
				}
			}()
		}
		var applied int
		var mu sync.Mutex
		opts := e.opts()
		opts.Progress = func(ev Event) {
			if ev.Phase == Verifying {
				mu.Lock()
				applied++
				mu.Unlock()
			}
		}
		e.unpack(t, im, opts)
		wg.Wait()
		total := applied
		for i, o := range outs {
			if o.err != nil {
				t.Fatalf("child %d: %v", i, o.err)
			}
			if o.res.Top != im.chain()[len(im)-1] {
				t.Errorf("child %d: top %s", i, o.res.Top)
			}
			total += o.res.Applied
		}
		if total != len(im) {
			t.Errorf("%d layers applied in all, want %d (each once)", total, len(im))
		}
		e.checkClean(t, im.chain()...)
		e.checkView(t, im.chain()[3], tree{"many/d2/f299": strings.Repeat("x", 100), "e2/x": "x"})
	})
}

// A process killed mid-apply leaves an active snapshot and no mount;
// Cleanup leaves a live unpack's snapshot alone and removes the dead one's.
func TestCleanupAfterKill(t *testing.T) {
	testenv.RequiresRoot(t)
	forEachKind(t, func(t *testing.T, e *env) {
		im := testImage{mkLayer(t, tarOf(t, dir("etc"), file("etc/os-release", "test")), gz),
			mkLayer(t, manyFiles(t, "many", 500, 10), gz)}
		e.ingest(t, im)
		ctx := context.Background()
		cmd, sc := e.child(t, im, im[1].desc.Digest)
		if !sc.Scan() || sc.Text() != "extracting" {
			t.Fatalf("child: %q %v", sc.Text(), sc.Err())
		}
		// Alive: its snapshot stays.
		removed, err := Cleanup(ctx, e.sn)
		if err != nil || len(removed) != 0 {
			t.Fatalf("Cleanup of a live unpack: removed %v, %v", removed, err)
		}
		active := e.actives(t)
		if len(active) != 1 {
			t.Fatalf("active snapshots %v, want the child's one", active)
		}
		checkNoMounts(t, e.base)

		if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if got := e.actives(t); len(got) != 1 || got[0] != active[0] {
			t.Fatalf("after kill: active snapshots %v, want %v", got, active)
		}
		removed, err = Cleanup(ctx, e.sn)
		if err != nil || len(removed) != 1 || removed[0] != active[0] {
			t.Fatalf("Cleanup: removed %v, %v; want %v", removed, err, active)
		}
		e.checkClean(t, im.chain()[0])
		// And the next unpack completes the image.
		e.unpack(t, im, e.opts())
		e.checkClean(t, im.chain()...)
		e.checkView(t, im.chain()[1], tree{"etc/os-release": "test", "many/d4/f499": "xxxxxxxxxx"})
	})
}

// actives returns the keys of the active snapshots.
func (e *env) actives(t testing.TB) []string {
	var keys []string
	for k, i := range e.snapshots(t) {
		if i.Kind == snapshot.KindActive {
			keys = append(keys, k)
		}
	}
	return keys
}
