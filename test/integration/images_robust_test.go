package integration

// Robustness of the berth image path: kill -9 at any moment of a pull, a
// removal or a load; several processes on one root at once; registries that
// fail (404, 401, 500, garbage, a wrong byte, a cut body, nobody listening);
// bad input. Each test ends with the same check: the next command works,
// every image listed mounts and holds the tree it must, and a prune leaves
// the root empty — no blob, no ingest, no root, no snapshot, no record.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/snapshot/storage"
	"github.com/berth-project/berth/internal/store"
	"github.com/berth-project/berth/test/kit"
	digest "github.com/opencontainers/go-digest"
)

// robustImages are the kit images these tests pull, pushed once to the
// open registry under names of their own.
type robustImages struct {
	big, busybox       kit.Image
	bigRef, busyboxRef string // in 127.0.0.1:5000
	bigRepo, bbRepo    string // repository/tag paths, for the proxy's names
}

func robustSeed(t *testing.T) robustImages {
	t.Helper()
	reg := kit.Registry(t)
	im := robustImages{
		big:     kit.BigImage(t, ""),
		busybox: kit.BusyboxImage(t, ""),
		bigRepo: "itest/robust-big:1",
		bbRepo:  "itest/robust-busybox:1",
	}
	im.bigRef = reg + "/" + im.bigRepo
	im.busyboxRef = reg + "/" + im.bbRepo
	kit.PushImage(t, im.big, im.bigRef)
	kit.PushImage(t, im.busybox, im.busyboxRef)
	return im
}

// trees maps an image ID (config digest) to the kit image it must be.
func (im robustImages) trees() map[string]kit.Image {
	return map[string]kit.Image{
		im.big.Config.Digest.String():     im.big,
		im.busybox.Config.Digest.String(): im.busybox,
	}
}

// --- processes -------------------------------------------------------------

// rbBuffer is a bytes.Buffer safe to read while a process writes it.
type rbBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *rbBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *rbBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// robustProc is a berth process started in the background.
type robustProc struct {
	cmd         *exec.Cmd
	out, errb   *rbBuffer
	done        chan struct{}
	code        int
	killed      bool
	description string
}

// robustStart runs berth with args in the background; the test kills it
// at its end if it still runs.
func robustStart(t testing.TB, b *berthCLI, args ...string) *robustProc {
	t.Helper()
	p := &robustProc{out: &rbBuffer{}, errb: &rbBuffer{}, done: make(chan struct{}),
		description: "berth " + strings.Join(args, " ")}
	p.cmd = exec.Command(b.bin, append(append([]string{}, b.flags...), args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errb
	if b.env != nil {
		p.cmd.Env = append(os.Environ(), b.env...)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.description, err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.exited() {
			return
		}
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *robustProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL (to this process only, by its pid) unless it has
// exited, and waits for it; it reports whether the kill came first.
func (p *robustProc) kill() bool {
	if p.exited() {
		return false
	}
	_ = p.cmd.Process.Signal(os.Kill)
	<-p.done
	p.killed = p.code == -1
	return p.killed
}

// wait waits for the process and returns its exit code.
func (p *robustProc) wait() int {
	<-p.done
	return p.code
}

// killWhen polls cond every few milliseconds and kills p as soon as it
// holds, or after max; it reports whether p was killed (not already gone).
func (p *robustProc) killWhen(max time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(max)
	for !p.exited() && time.Now().Before(deadline) {
		if cond != nil && cond() {
			break
		}
		time.Sleep(3 * time.Millisecond)
	}
	return p.kill()
}

// rbWritten returns the bytes p has written so far (/proc/<pid>/io).
func rbWritten(p *robustProc) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.cmd.Process.Pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// robustRun is berthCLI.run without the testing.TB, for goroutines.
func robustRun(b *berthCLI, args ...string) (string, string, int) {
	cmd := exec.Command(b.bin, append(append([]string{}, b.flags...), args...)...)
	if b.env != nil {
		cmd.Env = append(os.Environ(), b.env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		return out.String(), err.Error(), -1
	}
	return out.String(), errb.String(), 0
}

// --- what is on disk ---------------------------------------------------------

// rbIngests returns, per blob digest, the bytes of the ingests in b's
// content store.
func rbIngests(b *berthCLI) map[digest.Digest]int64 {
	dir := filepath.Join(b.root, "content", "ingest")
	entries, _ := os.ReadDir(dir)
	out := map[digest.Digest]int64{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		ref, err := os.ReadFile(filepath.Join(dir, e.Name(), "ref"))
		if err != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name(), "data"))
		if err != nil {
			continue
		}
		out[digest.Digest(ref)] = fi.Size()
	}
	return out
}

// rbSnapshotDirs lists the directories of b's overlay snapshotter.
func rbSnapshotDirs(b *berthCLI) []string {
	entries, _ := os.ReadDir(filepath.Join(b.root, "snapshots", "overlay", "snapshots"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// blobs lists the committed blobs of b's content store.
func rbBlobs(b *berthCLI) []string {
	entries, _ := os.ReadDir(filepath.Join(b.root, "content", "blobs", "sha256"))
	var out []string
	for _, e := range entries {
		out = append(out, "sha256:"+e.Name())
	}
	return out
}

func rbHasBlob(b *berthCLI, d digest.Digest) bool {
	_, err := os.Stat(filepath.Join(b.root, "content", "blobs", "sha256", d.Encoded()))
	return err == nil
}

// rbNoMounts fails t if anything is mounted under b's root or runroot.
func rbNoMounts(t testing.TB, b *berthCLI) {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		if p := f[4]; strings.HasPrefix(p, b.root+"/") || strings.HasPrefix(p, b.runroot+"/") || p == b.root || p == b.runroot {
			t.Errorf("mount left at %s", p)
		}
	}
}

// rbImagesWhole checks that `berth images` works and that every image it
// lists mounts and, when it is one of trees, holds exactly its tree. It
// returns the IDs listed.
func rbImagesWhole(t testing.TB, b *berthCLI, trees map[string]kit.Image) []string {
	t.Helper()
	out, errs, code := b.run("images", "-q", "--no-trunc")
	if code != 0 {
		t.Fatalf("berth images after the crash: exit %d: %s", code, errs)
	}
	ids := strings.Fields(out)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		dir, errs, code := b.run("image", "mount", id)
		if code != 0 {
			t.Errorf("image %s is listed but does not mount: exit %d: %s", id, code, errs)
			continue
		}
		if img, ok := trees[id]; ok {
			kit.CheckTree(t, strings.TrimSpace(dir), kit.ExpectedTree(t, img))
		}
		if _, errs, code := b.run("image", "unmount", id); code != 0 {
			t.Errorf("image unmount %s: exit %d: %s", id, code, errs)
		}
	}
	return ids
}

// rbEmpty checks what `berth image prune -a` must leave: no image
// record, no blob, no ingest, no content root, no snapshot (neither
// directory nor record), no mount, no unpack lock.
func rbEmpty(t testing.TB, b *berthCLI) {
	t.Helper()
	if bs := rbBlobs(b); len(bs) > 0 {
		t.Errorf("blobs left in content/: %v", bs)
	}
	if in := rbIngests(b); len(in) > 0 {
		t.Errorf("ingests left: %v", in)
	}
	if rs, _ := os.ReadDir(filepath.Join(b.root, "content", "roots")); len(rs) > 0 {
		var names []string
		for _, r := range rs {
			b, _ := os.ReadFile(filepath.Join(b.root, "content", "roots", r.Name()))
			names = append(names, string(b))
		}
		t.Errorf("content roots left: %v", names)
	}
	if ds := rbSnapshotDirs(b); len(ds) > 0 {
		t.Errorf("snapshot directories left: %v", ds)
	}
	if locks, _ := filepath.Glob(filepath.Join(b.runroot, "unpack", "*", "*")); len(locks) > 0 {
		t.Errorf("unpack locks left: %v", locks)
	}
	if st, err := storage.Open(filepath.Join(b.root, "snapshots", "overlay")); err != nil {
		t.Errorf("open snapshots: %v", err)
	} else {
		_ = st.Walk(context.Background(), func(s storage.Snapshot) error {
			t.Errorf("snapshot record %q (%s) left", s.Info.Key, s.Info.Kind)
			return nil
		})
	}
	db, err := store.Open(filepath.Join(b.root, "berth.db"))
	if err != nil {
		t.Fatalf("open berth.db: %v", err)
	}
	if err := db.View(func(tx *store.Tx) error {
		imgs, err := tx.Images()
		for _, img := range imgs {
			t.Errorf("image record %q (%s) left", img.Name, img.Target.Digest)
		}
		return err
	}); err != nil {
		t.Errorf("read berth.db: %v", err)
	}
	rbNoMounts(t, b)
}

// rbPruneAll runs `berth image prune -a` and checks that it empties the root.
func rbPruneAll(t testing.TB, b *berthCLI) {
	t.Helper()
	b.must("image", "prune", "-a")
	rbEmpty(t, b)
}

// --- a misbehaving registry ------------------------------------------------

// robustProxy is a registry in front of 127.0.0.1:5000 that passes every
// request on unless hook handles it, and logs the requests.
type robustProxy struct {
	srv      *httptest.Server
	upstream *httputil.ReverseProxy
	mu       sync.Mutex
	hook     func(w http.ResponseWriter, r *http.Request) bool
	log      []string // "GET /v2/… range=bytes=…"
}

func newRobustProxy(t testing.TB) *robustProxy {
	t.Helper()
	u, _ := url.Parse("http://" + kit.Registry(t))
	p := &robustProxy{upstream: httputil.NewSingleHostReverseProxy(u)}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *robustProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	line := r.Method + " " + r.URL.Path
	if rg := r.Header.Get("Range"); rg != "" {
		line += " range=" + rg
	}
	p.log = append(p.log, line)
	hook := p.hook
	p.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	p.upstream.ServeHTTP(w, r)
}

// host is the proxy's "127.0.0.1:port", a registry name berth treats as
// plain http.
func (p *robustProxy) host() string { return strings.TrimPrefix(p.srv.URL, "http://") }

func (p *robustProxy) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = h
}

// requests returns the log lines that contain every one of subs.
func (p *robustProxy) requests(subs ...string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.log {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// rbIsBlobGet reports whether r fetches the blob d.
func rbIsBlobGet(r *http.Request, d digest.Digest) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+d.String())
}

// rbUpstreamBlob reads the blob at path from the real registry.
func rbUpstreamBlob(path string) ([]byte, http.Header, error) {
	resp, err := http.Get("http://" + kit.RegistryAddr + path)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, resp.Header, err
}

// rbServeCut answers with headers for the whole of body but sends only its
// first n bytes, then drops the connection.
func rbServeCut(w http.ResponseWriter, hdr http.Header, body []byte, n int) {
	for _, k := range []string{"Content-Type", "Docker-Content-Digest", "Etag"} {
		if v := hdr.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:n])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

// rbFreePort returns a 127.0.0.1 port nobody listens on (for now).
func rbFreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// --- kill -9 ------------------------------------------------------------------

// TestImageRobustKillPull kills `berth pull` of the big image at several
// moments — mid-download (at a byte the registry stalls at), mid-unpack, and
// after random delays — and checks each time that the store stays
// consistent, that the next pull completes, resuming a partial download
// with a Range request instead of starting over, and that a prune empties it.
func TestImageRobustKillPull(t *testing.T) {
	im := robustSeed(t)
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))
	t.Logf("random delays from seed %d", seed)

	big := im.big.Layers[0]
	for _, l := range im.big.Layers {
		if l.Size > big.Size {
			big = l
		}
	}
	const stallAt = 5 << 20

	type moment struct {
		name  string
		max   time.Duration
		stall bool                               // the registry stops sending big after stallAt bytes
		cond  func(b *berthCLI, out string) bool // kill as soon as it holds
	}
	moments := []moment{
		{name: "mid-download", max: time.Minute, stall: true, cond: func(b *berthCLI, _ string) bool {
			return rbIngests(b)[big.Digest] >= stallAt
		}},
		{name: "mid-unpack", max: time.Minute, cond: func(b *berthCLI, out string) bool {
			return strings.Contains(out, "Pull complete") && len(rbSnapshotDirs(b)) >= 3
		}},
	}
	for i := 0; i < 3; i++ {
		d := time.Duration(50+rnd.Intn(2450)) * time.Millisecond
		moments = append(moments, moment{name: fmt.Sprintf("after-%v", d), max: d})
	}
	for _, m := range moments {
		t.Run(m.name, func(t *testing.T) {
			b := newBerth(t)
			proxy := newRobustProxy(t)
			ref := proxy.host() + "/" + im.bigRepo
			if m.stall {
				proxy.setHook(func(w http.ResponseWriter, r *http.Request) bool {
					if !rbIsBlobGet(r, big.Digest) || r.Header.Get("Range") != "" {
						return false
					}
					body, hdr, err := rbUpstreamBlob(r.URL.Path)
					if err != nil {
						http.Error(w, err.Error(), http.StatusBadGateway)
						return true
					}
					w.Header().Set("Content-Type", hdr.Get("Content-Type"))
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					_, _ = w.Write(body[:stallAt])
					w.(http.Flusher).Flush()
					<-r.Context().Done() // until the client is gone
					return true
				})
			}
			p := robustStart(t, b, "pull", ref)
			killed := p.killWhen(m.max, func() bool { return m.cond != nil && m.cond(b, p.out.String()) })
			t.Logf("killed: %v; output ends: %q %s", killed, rbTail(p.out.String(), 3), p.errb)
			if !killed && m.cond != nil {
				t.Fatalf("pull exited (code %d) before the moment to kill it", p.code)
			}
			if !killed && p.code != 0 {
				t.Fatalf("pull: exit %d: %s", p.code, p.errb)
			}
			proxy.setHook(nil)
			partial := rbIngests(b)
			t.Logf("partial ingests: %v; snapshot dirs: %v", partial, rbSnapshotDirs(b))
			if m.stall && partial[big.Digest] != stallAt {
				t.Fatalf("ingest of %s holds %d bytes after the kill, want %d", big.Digest, partial[big.Digest], stallAt)
			}
			rbNoMounts(t, b)

			// The next commands see a consistent store.
			rbImagesWhole(t, b, im.trees())
			b.must("pull", ref)
			sizes := map[digest.Digest]int64{}
			for _, l := range im.big.Layers {
				sizes[l.Digest] = l.Size
			}
			for d, n := range partial {
				if n == 0 || n >= sizes[d] {
					continue // nothing to resume, or nothing left to fetch
				}
				want := fmt.Sprintf("range=bytes=%d-", n)
				if got := proxy.requests("/blobs/"+d.String(), want); len(got) == 0 {
					t.Errorf("the second pull did not resume %s at byte %d: requests %v", d, n, proxy.requests("/blobs/"+d.String()))
				}
			}
			if ids := rbImagesWhole(t, b, im.trees()); len(ids) != 1 || ids[0] != im.big.Config.Digest.String() {
				t.Errorf("images after the second pull: %v, want [%s]", ids, im.big.Config.Digest)
			}
			if n := len(rbSnapshotDirs(b)); n != len(im.big.Layers) {
				t.Errorf("%d snapshot directories, want %d: %v", n, len(im.big.Layers), rbSnapshotDirs(b))
			}
			rbPruneAll(t, b)
		})
	}
}

// TestImageRobustKillRemove kills `berth rmi` and `berth image prune -a` of
// the big image while they delete its layers (some 3000 files), then checks
// that the next `images` and `image prune` complete with nothing half
// listed, and that a pull brings the image back whole.
func TestImageRobustKillRemove(t *testing.T) {
	im := robustSeed(t)
	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))
	t.Logf("random delays from seed %d", seed)
	b := newBerth(t)
	b.must("pull", "-q", im.bigRef)

	deleting := func() bool { // a layer's directory is set aside for deletion
		for _, d := range rbSnapshotDirs(b) {
			if strings.HasPrefix(d, "tmp-") {
				return true
			}
		}
		return len(rbSnapshotDirs(b)) < len(im.big.Layers)
	}
	rounds := []struct {
		args []string
		max  time.Duration
		cond func() bool
	}{
		{[]string{"rmi", im.bigRef}, time.Minute, deleting},
		{[]string{"image", "prune", "-a"}, time.Minute, deleting},
		{[]string{"rmi", im.bigRef}, time.Duration(5+rnd.Intn(400)) * time.Millisecond, nil},
		{[]string{"image", "prune", "-a"}, time.Duration(5+rnd.Intn(400)) * time.Millisecond, nil},
	}
	for _, r := range rounds {
		p := robustStart(t, b, r.args...)
		killed := p.killWhen(r.max, r.cond)
		t.Logf("%s killed after %v max: %v; snapshot dirs left %v", p.description, r.max, killed, rbSnapshotDirs(b))
		if !killed && p.code != 0 {
			t.Fatalf("%s: exit %d: %s", p.description, p.code, p.errb)
		}
		if r.cond != nil && !killed {
			t.Errorf("%s ended before it deleted anything", p.description)
		}
		rbNoMounts(t, b)
		ids := rbImagesWhole(t, b, im.trees())
		b.must("image", "prune")
		if after := rbImagesWhole(t, b, im.trees()); len(after) != len(ids) {
			t.Errorf("image prune (dangling only) changed the images from %v to %v", ids, after)
		}
		if len(ids) == 0 { // the record went first: its layers must go too
			if ds := rbSnapshotDirs(b); len(ds) > 0 {
				t.Errorf("image gone, but image prune left snapshot directories %v", ds)
			}
		}
		b.must("pull", "-q", im.bigRef)
		if ids := rbImagesWhole(t, b, im.trees()); len(ids) != 1 {
			t.Errorf("images after the pull: %v, want the big image alone", ids)
		}
		if n := len(rbSnapshotDirs(b)); n != len(im.big.Layers) {
			t.Errorf("%d snapshot directories, want %d: %v", n, len(im.big.Layers), rbSnapshotDirs(b))
		}
	}
	rbPruneAll(t, b)
}

// TestImageRobustKillLoad kills `berth load` of a 200 MB docker-archive
// while it stores blobs and while it unpacks, then checks that the next load
// works and a prune leaves nothing.
func TestImageRobustKillLoad(t *testing.T) {
	im := robustSeed(t)
	src := newBerth(t)
	src.must("pull", "-q", im.bigRef)
	// A save killed mid-way leaves nothing where it wrote.
	out := t.TempDir()
	p := robustStart(t, src, "save", "-o", filepath.Join(out, "big.tar"), im.bigRef)
	if !p.killWhen(time.Minute, func() bool { return rbWritten(p) >= 20<<20 }) {
		t.Errorf("save ended (exit %d) before it was killed: %s", p.code, p.errb)
	} else if left, _ := os.ReadDir(out); len(left) > 0 {
		t.Errorf("a save killed mid-way left %v", left)
	}
	archive := filepath.Join(t.TempDir(), "big.tar")
	src.must("save", "-o", archive, im.bigRef)
	rbPruneAll(t, src)

	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewSource(seed))
	t.Logf("random delay from seed %d", seed)
	b := newBerth(t)
	rounds := []struct {
		name string
		max  time.Duration
		cond func() bool
	}{
		{"mid-blobs", time.Minute, func() bool { return len(rbBlobs(b)) >= 2 }},
		{"mid-unpack", time.Minute, func() bool { return len(rbSnapshotDirs(b)) >= 2 }},
		{"random", time.Duration(20+rnd.Intn(3000)) * time.Millisecond, nil},
	}
	for _, r := range rounds {
		p := robustStart(t, b, "load", "-i", archive)
		killed := p.killWhen(r.max, r.cond)
		t.Logf("%s: killed %v; blobs %d, snapshot dirs %v, ingests %v", r.name, killed, len(rbBlobs(b)), rbSnapshotDirs(b), rbIngests(b))
		if !killed && p.code != 0 {
			t.Fatalf("load: exit %d: %s", p.code, p.errb)
		}
		if r.cond != nil && !killed {
			t.Errorf("%s: load ended before the moment to kill it", r.name)
		}
		rbNoMounts(t, b)
		rbImagesWhole(t, b, im.trees())
		out := b.must("load", "-i", archive)
		if !strings.Contains(out, "Loaded image: "+im.bigRef) {
			t.Errorf("load printed %q", out)
		}
		if ids := rbImagesWhole(t, b, im.trees()); len(ids) != 1 || ids[0] != im.big.Config.Digest.String() {
			t.Errorf("images after the load: %v", ids)
		}
		rbPruneAll(t, b)
	}
}

// --- concurrency ---------------------------------------------------------------

// TestImageRobustConcurrent runs berth processes on one root at once.
func TestImageRobustConcurrent(t *testing.T) {
	im := robustSeed(t)

	t.Run("pulls", func(t *testing.T) {
		// Four pulls of the big image at the same moment, `berth images` in
		// a loop beside them: all succeed, each layer is unpacked once.
		b := newBerth(t)
		b.must("images") // the root exists before the race
		stop := make(chan struct{})
		var lister sync.WaitGroup
		lister.Add(1)
		var lists int
		go func() {
			defer lister.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, errs, code := robustRun(b, "images"); code != 0 {
					t.Errorf("berth images beside the pulls: exit %d: %s", code, errs)
				}
				lists++
			}
		}()
		var ps []*robustProc
		for i := 0; i < 4; i++ {
			ps = append(ps, robustStart(t, b, "pull", im.bigRef))
		}
		for _, p := range ps {
			if code := p.wait(); code != 0 {
				t.Errorf("%s: exit %d: %s", p.description, code, p.errb)
			}
		}
		close(stop)
		lister.Wait()
		t.Logf("berth images ran %d times beside the pulls", lists)
		if ds := rbSnapshotDirs(b); len(ds) != len(im.big.Layers) {
			t.Errorf("snapshot directories %v, want %d: one per layer", ds, len(im.big.Layers))
		}
		if ids := rbImagesWhole(t, b, im.trees()); len(ids) != 1 {
			t.Errorf("images: %v, want one", ids)
		}
		rbPruneAll(t, b)
	})

	t.Run("pulls-one-killed", func(t *testing.T) {
		// Three pulls of the big image at once, one killed mid-way: the
		// others, waiting on what it downloaded or unpacked, carry on.
		b := newBerth(t)
		b.must("images")
		var ps []*robustProc
		for i := 0; i < 3; i++ {
			ps = append(ps, robustStart(t, b, "pull", im.bigRef))
		}
		killed := ps[0].killWhen(time.Minute, func() bool { return len(rbSnapshotDirs(b)) >= 2 })
		t.Logf("one pull killed: %v; snapshot dirs %v, ingests %v", killed, rbSnapshotDirs(b), rbIngests(b))
		for _, p := range ps[1:] {
			if code := p.wait(); code != 0 {
				t.Errorf("%s beside a killed one: exit %d: %s", p.description, code, p.errb)
			}
		}
		if ids := rbImagesWhole(t, b, im.trees()); len(ids) != 1 {
			t.Errorf("images: %v, want one", ids)
		}
		b.must("image", "prune") // collects what the killed pull left
		if ds := rbSnapshotDirs(b); len(ds) != len(im.big.Layers) {
			t.Errorf("snapshot directories %v, want %d: one per layer", ds, len(im.big.Layers))
		}
		rbPruneAll(t, b)
	})

	t.Run("tags", func(t *testing.T) {
		b := newBerth(t)
		b.must("pull", "-q", im.busyboxRef)
		var ps []*robustProc
		for i := 0; i < 10; i++ {
			ps = append(ps, robustStart(t, b, "tag", im.busyboxRef, fmt.Sprintf("itest/robust-tag-%d:v%d", i, i)))
		}
		for _, p := range ps {
			if code := p.wait(); code != 0 {
				t.Errorf("%s: exit %d: %s", p.description, code, p.errb)
			}
		}
		out := b.must("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
		for i := 0; i < 10; i++ {
			want := fmt.Sprintf("localhost/itest/robust-tag-%d:v%d ", i, i)
			if !strings.Contains(out, fmt.Sprintf("itest/robust-tag-%d:v%d ", i, i)) {
				t.Errorf("tag %s missing from images:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "\n"); n != 11 {
			t.Errorf("images lists %d lines, want 11:\n%s", n, out)
		}
		rbImagesWhole(t, b, im.trees())
		rbPruneAll(t, b)
	})

	t.Run("pull-during-prune", func(t *testing.T) {
		// `image prune -a` over and over while a pull runs: the pull ends
		// with a whole image or fails cleanly, and never leaves an image
		// whose layers are gone.
		b := newBerth(t)
		refs := []string{im.bigRef}
		for i := 0; i < 6; i++ { // a small image's window between unpack and record is short: try often
			refs = append(refs, im.busyboxRef)
		}
		for round, ref := range refs {
			start := time.Now()
			pull := robustStart(t, b, "pull", "-q", ref)
			prunes := 0
			for !pull.exited() {
				if _, errs, code := robustRun(b, "image", "prune", "-a"); code != 0 {
					t.Errorf("round %d: image prune -a beside a pull: exit %d: %s", round, code, errs)
				}
				prunes++
				time.Sleep(20 * time.Millisecond)
			}
			code := pull.wait()
			t.Logf("round %d: pull of %s exit %d after %d prunes in %v: %s", round, ref, code, prunes, time.Since(start), pull.errb)
			if code != 0 { // what the pull holds is spared: it has no reason to fail
				t.Errorf("round %d: pull beside image prune -a: exit %d: %s", round, code, pull.errb)
			}
			// A prune that began before the pull ended may have removed
			// the image since (prune -a removes every image): whatever is
			// listed must be whole, and a pull now must work.
			ids := rbImagesWhole(t, b, im.trees())
			t.Logf("round %d: images after: %v", round, ids)
			b.must("pull", "-q", ref)
			if ids := rbImagesWhole(t, b, im.trees()); len(ids) != 1 {
				t.Errorf("round %d: images after a pull of its own: %v", round, ids)
			}
			rbPruneAll(t, b)
		}
	})
}

// --- registries that fail -------------------------------------------------------

// rbFailed checks a command that must fail as berth fails: exit 125, and
// stderr holding each of wants (case-insensitive).
func rbFailed(t testing.TB, what string, stdout, stderr string, code int, wants ...string) {
	t.Helper()
	t.Logf("%s: %s", what, strings.TrimSpace(stderr))
	if code != 125 {
		t.Errorf("%s: exit %d, want 125\n%s%s", what, code, stdout, stderr)
	}
	for _, w := range wants {
		if !strings.Contains(strings.ToLower(stderr), strings.ToLower(w)) {
			t.Errorf("%s: error does not say %q:\n%s", what, w, stderr)
		}
	}
}

// rbNothingPulled checks that a failed pull left no image, no snapshot, no
// layer blob and no ingest (a partial ingest, kept to resume, goes with
// the prune that follows), and that `image prune` then empties the root.
func rbNothingPulled(t testing.TB, b *berthCLI, img kit.Image) {
	t.Helper()
	if out := b.must("images", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("images after a failed pull: %s", out)
	}
	if ds := rbSnapshotDirs(b); len(ds) > 0 {
		t.Errorf("snapshot directories after a failed pull: %v", ds)
	}
	for _, l := range img.Layers {
		if rbHasBlob(b, l.Digest) {
			t.Errorf("layer blob %s stored by a failed pull", l.Digest)
		}
	}
	b.must("image", "prune")
	rbEmpty(t, b)
}

// TestImageRobustRegistry pulls from registries that answer wrong.
func TestImageRobustRegistry(t *testing.T) {
	im := robustSeed(t)
	layer := im.busybox.Layers[0]

	t.Run("not-found", func(t *testing.T) {
		b := newBerth(t)
		for _, ref := range []string{kit.Registry(t) + "/itest/robust-nosuch:1", kit.Registry(t) + "/itest/robust-busybox:nosuch"} {
			out, errs, code := b.run("pull", ref)
			rbFailed(t, "pull "+ref, out, errs, code, ref, "not found")
		}
		rbEmpty(t, b)
	})

	t.Run("down", func(t *testing.T) {
		b := newBerth(t)
		ref := rbFreePort(t) + "/itest/robust:1"
		out, errs, code := b.run("pull", ref)
		rbFailed(t, "pull "+ref, out, errs, code, strings.Split(ref, "/")[0], "connection refused")
		rbEmpty(t, b)
	})

	t.Run("unauthorized", func(t *testing.T) {
		b := newBerth(t)
		home := t.TempDir()
		b.env = []string{"HOME=" + home, "DOCKER_CONFIG=" + home, "XDG_RUNTIME_DIR=" + home, "REGISTRY_AUTH_FILE=" + filepath.Join(home, "none.json")}
		ref := kit.AuthRegistry(t) + "/itest/robust-busybox:1"
		out, errs, code := b.run("pull", ref)
		rbFailed(t, "pull "+ref+" without credentials", out, errs, code, ref, "401", "unauthorized")
		authfile := filepath.Join(home, "auth.json")
		out, errs, code = b.run("--authfile", authfile, "login", "-u", "berth", "-p", "wrong", kit.AuthRegistry(t))
		rbFailed(t, "login with a wrong password", out, errs, code, kit.AuthRegistry(t))
		if _, err := os.Stat(authfile); err == nil {
			b, _ := os.ReadFile(authfile)
			if strings.Contains(string(b), kit.AuthRegistry(t)) {
				t.Errorf("a failed login wrote credentials: %s", b)
			}
		}
		rbEmpty(t, b)
	})

	// The rest go through a proxy in front of 127.0.0.1:5000 that
	// misbehaves as each case says.
	pull := func(t *testing.T, hook func(w http.ResponseWriter, r *http.Request) bool) (*berthCLI, *robustProxy, string, string, string, int) {
		b := newBerth(t)
		p := newRobustProxy(t)
		p.setHook(hook)
		ref := p.host() + "/" + im.bbRepo
		out, errs, code := b.run("pull", ref)
		return b, p, ref, out, errs, code
	}
	// failing answers 500 to the first n GETs of the layer (all if n < 0).
	failing := func(n int) func(w http.ResponseWriter, r *http.Request) bool {
		var mu sync.Mutex
		seen := 0
		return func(w http.ResponseWriter, r *http.Request) bool {
			if !rbIsBlobGet(r, layer.Digest) {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			if seen++; n >= 0 && seen > n {
				return false
			}
			http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}`, http.StatusInternalServerError)
			return true
		}
	}

	t.Run("500-then-ok", func(t *testing.T) {
		b, p, ref, _, errs, code := pull(t, failing(2))
		if code != 0 {
			t.Fatalf("pull %s through two 500s: exit %d: %s", ref, code, errs)
		}
		if n := len(p.requests("GET", "/blobs/"+layer.Digest.String())); n != 3 {
			t.Errorf("%d GETs of the layer, want 3 (two 500s, then the blob)", n)
		}
		rbImagesWhole(t, b, im.trees())
		rbPruneAll(t, b)
	})

	t.Run("500-always", func(t *testing.T) {
		b, p, ref, out, errs, code := pull(t, failing(-1))
		rbFailed(t, "pull "+ref+" from a registry failing with 500", out, errs, code, ref, "500")
		if n := len(p.requests("GET", "/blobs/"+layer.Digest.String())); n < 2 {
			t.Errorf("%d GETs of the layer: not retried", n)
		}
		rbNothingPulled(t, b, im.busybox)
	})

	t.Run("flipped-byte", func(t *testing.T) {
		b, _, ref, out, errs, code := pull(t, func(w http.ResponseWriter, r *http.Request) bool {
			if !rbIsBlobGet(r, layer.Digest) {
				return false
			}
			body, hdr, err := rbUpstreamBlob(r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return true
			}
			body[len(body)/2] ^= 0x20
			w.Header().Set("Content-Type", hdr.Get("Content-Type"))
			w.Header().Set("Docker-Content-Digest", hdr.Get("Docker-Content-Digest"))
			_, _ = w.Write(body)
			return true
		})
		rbFailed(t, "pull "+ref+" of a blob with a flipped byte", out, errs, code, ref, "digest", layer.Digest.String())
		if in := rbIngests(b); len(in) > 0 {
			t.Errorf("ingests of bad bytes kept: %v", in)
		}
		rbNothingPulled(t, b, im.busybox)
	})

	t.Run("cut-once", func(t *testing.T) {
		// The first GET of the layer ends half-way: the pull retries and
		// resumes where the cut left it.
		var once sync.Once
		b, p, ref, _, errs, code := pull(t, func(w http.ResponseWriter, r *http.Request) bool {
			if !rbIsBlobGet(r, layer.Digest) {
				return false
			}
			cut := false
			once.Do(func() { cut = true })
			if !cut {
				return false
			}
			body, hdr, err := rbUpstreamBlob(r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return true
			}
			rbServeCut(w, hdr, body, len(body)/2)
			return true
		})
		if code != 0 {
			t.Fatalf("pull %s through a body cut half-way: exit %d: %s", ref, code, errs)
		}
		if rs := p.requests("/blobs/"+layer.Digest.String(), "range=bytes="); len(rs) != 1 {
			t.Errorf("the cut download was not resumed with one Range request: %v", p.requests("/blobs/"+layer.Digest.String()))
		}
		rbImagesWhole(t, b, im.trees())
		rbPruneAll(t, b)
	})

	t.Run("cut-always", func(t *testing.T) {
		b, p, ref, out, errs, code := pull(t, func(w http.ResponseWriter, r *http.Request) bool {
			if !rbIsBlobGet(r, layer.Digest) {
				return false
			}
			body, hdr, err := rbUpstreamBlob(r.URL.Path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return true
			}
			rbServeCut(w, hdr, body, 1000)
			return true
		})
		rbFailed(t, "pull "+ref+" from a registry that always cuts the layer", out, errs, code, ref, layer.Digest.String(), "unexpected EOF")
		if rs := p.requests("/blobs/"+layer.Digest.String(), "range=bytes=1000-"); len(rs) < 1 {
			t.Errorf("the cut download was not resumed: %v", p.requests("/blobs/"+layer.Digest.String()))
		}
		rbNothingPulled(t, b, im.busybox)
	})

	manifest := func(body []byte, mediaType string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/manifests/") {
				return false
			}
			w.Header().Set("Content-Type", mediaType)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			if r.Method != http.MethodHead {
				_, _ = w.Write(body)
			}
			return true
		}
	}

	t.Run("garbage-manifest", func(t *testing.T) {
		b, _, ref, out, errs, code := pull(t, manifest([]byte("{\"schemaVersion\": 2, \x00garbage"), "application/vnd.oci.image.manifest.v1+json"))
		rbFailed(t, "pull "+ref+" of a garbage manifest", out, errs, code, ref, "not a valid manifest")
		rbNothingPulled(t, b, im.busybox)
	})

	t.Run("ambiguous-manifest", func(t *testing.T) {
		// A manifest that is an index as well (the CVE-2021-41190 class):
		// which one a client takes must not depend on the client.
		raw, err := os.ReadFile(filepath.Join(im.busybox.Layout, "blobs", "sha256", im.busybox.Manifest.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		delete(doc, "mediaType") // so that only the shape can tell
		doc["manifests"] = []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json",
			"digest":    im.big.Manifest.Digest.String(), "size": im.big.Manifest.Size,
		}}
		both, _ := json.Marshal(doc)
		for _, mt := range []string{"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"} {
			b, _, ref, out, errs, code := pull(t, manifest(both, mt))
			rbFailed(t, "pull "+ref+" of a manifest and index in one ("+mt+")", out, errs, code, ref, "ambiguous", "both manifests and layers")
			rbNothingPulled(t, b, im.busybox)
		}
	})
}

// --- bad input ------------------------------------------------------------------

// rbUntouched checks that b's root holds nothing a command could have left:
// no image record, blob, ingest, content root or snapshot.
func rbUntouched(t testing.TB, b *berthCLI) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(b.root, "berth.db")); errors.Is(err, os.ErrNotExist) {
		return // not even created
	}
	rbEmpty(t, b)
}

// TestImageRobustBadInput gives berth what it must refuse: exit 125, an
// error naming the input, and nothing left behind.
func TestImageRobustBadInput(t *testing.T) {
	im := robustSeed(t)

	t.Run("references", func(t *testing.T) {
		b := newBerth(t)
		for _, ref := range []string{"UPPER/case", "a::b", "busybox@sha256:123", ""} {
			out, errs, code := b.run("pull", ref)
			rbFailed(t, fmt.Sprintf("pull %q", ref), out, errs, code, "invalid")
			if ref != "" && !strings.Contains(errs, ref) {
				t.Errorf("pull %q: the error does not name it: %s", ref, errs)
			}
		}
		rbUntouched(t, b)
	})

	t.Run("platform", func(t *testing.T) {
		b := newBerth(t)
		for _, p := range []string{"bogus", "linux/", "/amd64", "linux/amd64/v8/x"} {
			out, errs, code := b.run("pull", "--platform", p, im.busyboxRef)
			rbFailed(t, "pull --platform "+p, out, errs, code, "platform", p)
		}
		out, errs, code := b.run("pull", "--platform", "linux/s390x", im.busyboxRef)
		rbFailed(t, "pull --platform linux/s390x of an image for the host", out, errs, code, "s390x")
		rbUntouched(t, b)
	})

	t.Run("storage-driver", func(t *testing.T) {
		b := newBerth(t)
		b.flags = append(b.flags, "--storage-driver", "zfs")
		out, errs, code := b.run("images")
		rbFailed(t, "--storage-driver zfs images", out, errs, code, "zfs")
		if _, err := os.Stat(b.root); err == nil {
			left, _ := filepath.Glob(filepath.Join(b.root, "*"))
			t.Errorf("--storage-driver zfs created the root %s: %v", b.root, left)
		}
	})

	t.Run("save-unknown", func(t *testing.T) {
		b := newBerth(t)
		b.must("pull", "-q", im.busyboxRef)
		dir := t.TempDir()
		dest := filepath.Join(dir, "out.tar")
		out, errs, code := b.run("save", "-o", dest, im.busyboxRef, "itest/robust-nosuch:1")
		rbFailed(t, "save of an unknown image", out, errs, code, "itest/robust-nosuch")
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("save of an unknown image left %v in the -o directory", left)
		}
		rbPruneAll(t, b)
	})

	t.Run("load-bad-archives", func(t *testing.T) {
		src := newBerth(t)
		src.must("pull", "-q", im.busyboxRef)
		dir := t.TempDir()
		good := filepath.Join(dir, "good.tar")
		src.must("save", "-o", good, im.busyboxRef)
		rbPruneAll(t, src)
		whole, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}
		inputs := map[string][]byte{
			"text":        []byte("this is not an archive\n"),
			"empty":       nil,
			"truncated":   whole[:len(whole)/2],
			"no-manifest": whole[:4096], // a tar cut after its first entries
		}
		b := newBerth(t)
		for name, data := range inputs {
			p := filepath.Join(dir, name+".tar")
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			out, errs, code := b.run("load", "-i", p)
			rbFailed(t, "load -i "+name, out, errs, code)
			rbUntouched(t, b)
		}
		out, errs, code := b.run("load", "-i", filepath.Join(dir, "nosuch.tar"))
		rbFailed(t, "load -i of a missing file", out, errs, code, "nosuch.tar")
		// And the whole archive still loads.
		b.must("load", "-i", good)
		rbImagesWhole(t, b, im.trees())
		rbPruneAll(t, b)
	})

	t.Run("unknown-images", func(t *testing.T) {
		b := newBerth(t)
		b.must("pull", "-q", im.busyboxRef)
		before := b.must("images", "--no-trunc")
		zero := "sha256:" + strings.Repeat("0", 64)
		for _, args := range [][]string{
			{"rmi", "itest/robust-nosuch:1"},
			{"rmi", zero},
			{"tag", "itest/robust-nosuch:1", "itest/robust-x:1"},
			{"image", "mount", "itest/robust-nosuch:1"},
		} {
			out, errs, code := b.run(args...)
			unknown := "itest/robust-nosuch:1"
			if args[1] == zero {
				unknown = zero
			}
			rbFailed(t, strings.Join(args, " "), out, errs, code, unknown, "not found")
		}
		for _, name := range []string{"UPPER/case", "a::b", "itest/x@sha256:" + strings.Repeat("0", 64), "itest/x:" + strings.Repeat("t", 200)} {
			out, errs, code := b.run("tag", im.busyboxRef, name)
			rbFailed(t, "tag to "+name, out, errs, code, name)
		}
		if after := b.must("images", "--no-trunc"); after != before {
			t.Errorf("refused commands changed the images:\n%s\nto\n%s", before, after)
		}
		rbPruneAll(t, b)
	})
}

// rbTail returns the last n lines of s.
func rbTail(s string, n int) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[max(0, len(lines)-n):]
}
