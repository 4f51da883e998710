package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/berth-project/berth/internal/store"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// contentGrace keeps blobs committed this recently from GC while another
// process pulls, loads or imports: a load commits its blobs before it can
// root them. With no such process at work, GC spares nothing unrooted —
// partial downloads included.
const contentGrace = 10 * time.Minute

// GCResult says what a garbage collection removed.
type GCResult struct {
	Blobs     int   // content blobs
	Snapshots int   // unpacked layers
	Reclaimed int64 // bytes, of both
}

// collect removes what no image (or pull in progress) needs: stale
// content roots, then snapshots, then blobs.
func (e *Engine) collect(ctx context.Context) (GCResult, error) {
	var res GCResult
	unlock, err := e.lockGC(true)
	if err != nil {
		return res, err
	}
	defer unlock()
	// The roots before the records: a pull drops its root only after it
	// has recorded its image, so what it needs is in one or the other.
	roots, err := e.content.Roots()
	if err != nil {
		return res, err
	}
	var images []store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		images, err = tx.Images()
		return err
	}); err != nil {
		return res, err
	}
	busy, leased, err := e.reconcileRoots(roots, images)
	if err != nil {
		return res, err
	}
	if err := e.cleanupUnpacks(ctx); err != nil {
		return res, err
	}
	if err := e.cleanupImageMounts(ctx); err != nil {
		return res, err
	}
	n, size, err := e.collectSnapshots(ctx, images, leased)
	res.Snapshots, res.Reclaimed = n, size
	if err != nil {
		return res, err
	}
	before := e.contentSize()
	grace := time.Duration(0)
	if busy {
		grace = contentGrace
	}
	gc, err := e.content.GC(e.children, grace)
	if err != nil {
		return res, fmt.Errorf("content gc: %w", err)
	}
	res.Blobs = len(gc.Blobs)
	if d := before - e.contentSize(); d > 0 {
		res.Reclaimed += d
	}
	return res, nil
}

// reconcileRoots drops content roots nothing stands behind any more: an
// image root whose target no record has (a crash between the record's
// removal and its root's) and no live process holds, a pull root of a
// process that is gone. It reports whether a pull, load or import is at
// work in another process, and what those hold (blobs and chain IDs).
func (e *Engine) reconcileRoots(roots []content.Root, images []store.Image) (busy bool, leased map[digest.Digest]bool, err error) {
	targets := map[string]bool{}
	for _, img := range images {
		targets[imageRoot(img.Target.Digest)] = true
	}
	leased = map[digest.Digest]bool{}
	var stale []string
	for _, r := range roots {
		if !strings.HasPrefix(r.Name, "pull/") {
			continue
		}
		if !ownerAlive(strings.TrimPrefix(r.Name, "pull/")) {
			stale = append(stale, r.Name)
			continue
		}
		busy = true
		for _, d := range r.Digests {
			leased[d] = true
		}
	}
	for _, r := range roots {
		d, ok := strings.CutPrefix(r.Name, "image/")
		if ok && !targets[r.Name] && !leased[digest.Digest(d)] {
			stale = append(stale, r.Name)
		}
	}
	for _, name := range stale {
		if err := e.content.RemoveRoot(name); err != nil && !errdefs.IsNotFound(err) {
			return busy, leased, err
		}
	}
	return busy, leased, nil
}

// collectSnapshots removes committed snapshots no image's chain needs and
// no live process holds (leased), children before parents.
func (e *Engine) collectSnapshots(ctx context.Context, images []store.Image, leased map[digest.Digest]bool) (int, int64, error) {
	live := map[string]bool{}
	for d := range leased {
		live[d.String()] = true
	}
	for _, img := range images {
		ids, err := e.chainIDs(img)
		if err != nil {
			continue // its config is gone: nothing of it to keep
		}
		for _, id := range ids {
			live[id.String()] = true
		}
	}
	var removed int
	var size int64
	for {
		var dead []snapshot.Info
		parents := map[string]bool{}
		err := e.snap.Walk(ctx, func(i snapshot.Info) error {
			if i.Parent != "" {
				parents[i.Parent] = true
			}
			if i.Kind == snapshot.KindCommitted && !live[i.Key] {
				dead = append(dead, i)
			}
			return nil
		})
		if err != nil {
			return removed, size, err
		}
		progress := false
		for _, i := range dead {
			if parents[i.Key] {
				continue
			}
			u, _ := e.snap.Usage(ctx, i.Key)
			if err := e.snap.Remove(ctx, i.Key); err != nil {
				if errdefs.IsNotFound(err) || errdefs.IsFailedPrecondition(err) {
					continue // another process got there, or made a child
				}
				return removed, size, err
			}
			removed++
			size += u.Size
			progress = true
		}
		if !progress {
			return removed, size, nil
		}
	}
}

// chainIDs returns the chain IDs of img's layers, from its config.
func (e *Engine) chainIDs(img store.Image) ([]digest.Digest, error) {
	c, err := e.config(img)
	if err != nil {
		return nil, err
	}
	return image.ChainIDs(c.RootFS.DiffIDs), nil
}

// children lists the blobs a manifest or index refers to, for GC.
func (e *Engine) children(d digest.Digest) []digest.Digest {
	info, err := e.content.Info(d)
	if err != nil || info.Size > 4<<20 {
		return nil
	}
	b, err := e.readBlob(d, 4<<20)
	if err != nil || !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil
	}
	var doc struct {
		Config    *ocispec.Descriptor  `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
		Manifests []ocispec.Descriptor `json:"manifests"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []digest.Digest
	if doc.Config != nil {
		out = append(out, doc.Config.Digest)
	}
	for _, l := range doc.Layers {
		out = append(out, l.Digest)
	}
	for _, m := range doc.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

// readBlob reads a small blob whole, failing beyond limit bytes.
func (e *Engine) readBlob(d digest.Digest, limit int64) ([]byte, error) {
	rc, err := e.content.Open(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", d, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("blob %s exceeds %d bytes: %w", d, limit, errdefs.ErrInvalidArgument)
	}
	return b, nil
}

// contentSize is the bytes of all committed blobs.
func (e *Engine) contentSize() int64 {
	var n int64
	_ = e.content.Walk(func(i content.Info) error { n += i.Size; return nil })
	return n
}

// pullRoot names the content root of a pull by this process: the pid and
// the process's start time, so that a recycled pid is not mistaken for it.
func pullRoot() string {
	return fmt.Sprintf("pull/%d-%d/%d", os.Getpid(), startTime(os.Getpid()), time.Now().UnixNano())
}

// ownerAlive reports whether the process named "<pid>-<start>/…" runs.
func ownerAlive(name string) bool {
	id, _, _ := strings.Cut(name, "/")
	p, s, ok := strings.Cut(id, "-")
	pid, err1 := strconv.Atoi(p)
	start, err2 := strconv.ParseUint(s, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return false
	}
	return startTime(pid) == start
}

// startTime returns the start time of pid in clock ticks (0 if gone).
func startTime(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces and parentheses: fields count from
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// cleanupImageMounts removes the views of image mounts that are no longer
// mounted (unmounted by hand, or gone with a reboot).
func (e *Engine) cleanupImageMounts(ctx context.Context) error {
	var stale []string
	err := e.snap.Walk(ctx, func(i snapshot.Info) error {
		id, ok := strings.CutPrefix(i.Key, imageMountPrefix)
		if ok && !mounted(filepath.Join(e.cfg.RunRoot, "image-mounts", id)) {
			stale = append(stale, i.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		if err := e.snap.Remove(ctx, k); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	return nil
}
