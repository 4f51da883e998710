package integration

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/test/kit"
)

// The image tests drive `berth` through its image verbs against the test
// registries (scripts/registry.sh), each with a storage root of its own
// (newBerth). The kit's images are pushed once to repositories that these
// tests only read ("127.0.0.1:5000/itest/images-<ref>:1"); a test that
// changes a repository uses one named after itself.

// seeded is a kit image in the open test registry.
type seeded struct {
	img  kit.Image
	ref  string // "127.0.0.1:5000/itest/images-busybox:1"
	repo string // ref without its tag
}

// seed pushes img to the open test registry (nothing to do when it is
// there already).
func seedKit(t *testing.T, img kit.Image) seeded {
	t.Helper()
	repo := kit.Registry(t) + "/itest/images-" + img.Ref
	kit.PushImage(t, img, repo+":1")
	return seeded{img: img, ref: repo + ":1", repo: repo}
}

// id is the image ID berth must give s: its config's digest.
func (s seeded) id() string { return s.img.Config.Digest.String() }

// shortID is the 12 hex digits `berth images` shows.
func (s seeded) shortID() string { return s.img.Config.Digest.Encoded()[:12] }

// imageInspect is what the tests read of `berth image inspect`.
type imageInspect struct {
	ID          string `json:"Id"`
	RepoTags    []string
	RepoDigests []string
	Created     string
	Config      struct {
		Cmd        []string
		Entrypoint []string
		Env        []string
		WorkingDir string
		Labels     map[string]string
	}
	Architecture string
	Os           string
	Size         int64
	RootFS       struct {
		Type   string
		Layers []string
	}
	History []struct {
		CreatedBy string `json:"created_by"`
		Comment   string `json:"comment"`
	}
	StorageDriver string
}

// inspectOne runs `berth image inspect name` and decodes its one result.
func inspectOne(t *testing.T, b *berthCLI, name string) imageInspect {
	t.Helper()
	out := b.must("image", "inspect", name)
	var v []imageInspect
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		t.Fatalf("image inspect %s: %v: want a JSON array of one image\n%s", name, err, out)
	}
	return v[0]
}

// imageLine is one line of `berth images --format json`.
type imageLine struct {
	Repository, Tag, Digest, ID, CreatedSince, CreatedAt, Size, Containers string
}

// listImages runs `berth images --format json` with args and decodes it.
func listImages(t *testing.T, b *berthCLI, args ...string) []imageLine {
	t.Helper()
	out := b.must(append([]string{"images", "--format", "json"}, args...)...)
	var rows []imageLine
	for _, l := range outLines(out) {
		var r imageLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("images --format json: line %q: %v", l, err)
		}
		rows = append(rows, r)
	}
	return rows
}

func outLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// checkImageInspect checks what `berth image inspect` tells of the pulled s.
func checkImageInspect(t *testing.T, b *berthCLI, s seeded, driver string) {
	t.Helper()
	i := inspectOne(t, b, s.ref)
	if i.ID != s.id() {
		t.Errorf("%s: Id %s, want the config digest %s", s.ref, i.ID, s.id())
	}
	if !slices.Contains(i.RepoTags, s.ref) {
		t.Errorf("%s: RepoTags %q, want it listed", s.ref, i.RepoTags)
	}
	if want := s.repo + "@" + s.img.Digest().String(); !slices.Contains(i.RepoDigests, want) {
		t.Errorf("%s: RepoDigests %q, want %s", s.ref, i.RepoDigests, want)
	}
	if i.Os != "linux" || i.Architecture != runtime.GOARCH {
		t.Errorf("%s: %s/%s, want linux/%s", s.ref, i.Os, i.Architecture, runtime.GOARCH)
	}
	var diffIDs []string
	for _, d := range s.img.DiffIDs {
		diffIDs = append(diffIDs, d.String())
	}
	if i.RootFS.Type != "layers" || !slices.Equal(i.RootFS.Layers, diffIDs) {
		t.Errorf("%s: RootFS %s %q, want layers %q", s.ref, i.RootFS.Type, i.RootFS.Layers, diffIDs)
	}
	if i.Size <= 0 {
		t.Errorf("%s: Size %d", s.ref, i.Size)
	}
	if driver != "" && i.StorageDriver != driver {
		t.Errorf("%s: StorageDriver %q, want %q", s.ref, i.StorageDriver, driver)
	}
}

// checkImageMount mounts the image name, compares its rootfs with what img
// must hold, and unmounts it.
func checkImageMount(t *testing.T, b *berthCLI, name string, img kit.Image) {
	t.Helper()
	dir := strings.TrimSpace(b.must("image", "mount", name))
	if want := filepath.Join(b.runroot, "image-mounts", img.Config.Digest.Encoded()); dir != want {
		t.Errorf("image mount %s: %s, want %s", name, dir, want)
	}
	if !isMountedOn(t, dir) {
		t.Fatalf("image mount %s: nothing mounted on %s", name, dir)
	}
	// Mounting again gives the same place, mounted once.
	if again := strings.TrimSpace(b.must("image", "mount", name)); again != dir {
		t.Errorf("second image mount %s: %s, want %s", name, again, dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "written"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Errorf("write into the image mount of %s: %v, want EROFS", name, err)
	}
	kit.CheckTree(t, dir, kit.ExpectedTree(t, img))
	b.must("image", "unmount", name)
	if isMountedOn(t, dir) {
		t.Errorf("image unmount %s: %s still mounted", name, dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("image unmount %s: %s left (%v)", name, dir, err)
	}
}

// isMountedOn reports whether /proc/self/mountinfo has a mount on dir.
func isMountedOn(t *testing.T, dir string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// pullLines returns the progress lines of a pull's output for layer digest
// prefix p ("a8b2ae48c82d: Already exists" → "Already exists").
func pullStates(out, layer string) []string {
	var states []string
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, layer+": "); ok {
			states = append(states, s)
		}
	}
	return states
}

// pullLayerID is the 12 hex digits a pull display names a layer by.
func pullLayerID(img kit.Image, i int) string { return img.Layers[i].Digest.Encoded()[:12] }

var humanSizeRE = regexp.MustCompile(`^([0-9.]+)(B|kB|MB|GB)$`)

// parseHumanSize reads docker's SI sizes ("5.38MB").
func parseHumanSize(t *testing.T, s string) float64 {
	t.Helper()
	m := humanSizeRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("size %q: not docker's human size", s)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	return f * map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[m[2]]
}

// TestImagePull pulls busybox, the big image and its child with each
// storage driver, and checks the listing, inspect, the shared layers, and
// the whole unpacked tree of each through image mount.
func TestImagePull(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	big := seedKit(t, kit.BigImage(t, ""))
	child := seedKit(t, kit.BigImageChild(t, ""))
	for _, s := range []seeded{busybox, big, child} {
		if d, err := kit.RegistryDigest(s.ref); err != nil || d != s.img.Digest() {
			t.Fatalf("%s: the registry has %s (%v), the kit %s", s.ref, d, err, s.img.Digest())
		}
	}

	for _, driver := range []string{"overlay", "native"} {
		t.Run(driver, func(t *testing.T) {
			b := newBerth(t)
			b.flags = append(b.flags, "--storage-driver", driver)

			out := b.must("pull", busybox.ref)
			if states := pullStates(out, pullLayerID(busybox.img, 0)); !slices.Contains(states, "Pull complete") {
				t.Errorf("pull %s: layer states %q, want Pull complete\n%s", busybox.ref, states, out)
			}
			lines := outLines(out)
			if want := "1: Pulling from " + busybox.repo; lines[0] != want {
				t.Errorf("pull %s: first line %q, want %q", busybox.ref, lines[0], want)
			}
			for _, want := range []string{
				"Digest: " + busybox.img.Digest().String(),
				"Status: Downloaded newer image for " + busybox.ref,
				busybox.ref,
			} {
				if !slices.Contains(lines, want) {
					t.Errorf("pull %s: no line %q in\n%s", busybox.ref, want, out)
				}
			}

			// The big image's bottom layer is busybox's: not fetched again.
			out = b.must("pull", big.ref)
			if strings.ContainsAny(out, "\r\x1b") {
				t.Errorf("pull to a pipe wrote terminal controls: %q", out)
			}
			if states := pullStates(out, pullLayerID(big.img, 0)); !slices.Equal(states, []string{"Already exists"}) {
				t.Errorf("pull %s: shared layer states %q, want [Already exists]\n%s", big.ref, states, out)
			}
			for i := 1; i < len(big.img.Layers); i++ {
				if states := pullStates(out, pullLayerID(big.img, i)); !slices.Contains(states, "Pull complete") || slices.Contains(states, "Already exists") {
					t.Errorf("pull %s: layer %d states %q, want Pull complete", big.ref, i, states)
				}
			}
			// The child shares four layers with big.
			out = b.must("pull", child.ref)
			for i := range child.img.Layers {
				want := "Already exists"
				if i == len(child.img.Layers)-1 {
					want = "Pull complete"
				}
				if states := pullStates(out, pullLayerID(child.img, i)); !slices.Contains(states, want) {
					t.Errorf("pull %s: layer %d states %q, want %s", child.ref, i, states, want)
				}
			}
			// Pulling what is there already.
			out = b.must("pull", busybox.ref)
			if want := "Status: Image is up to date for " + busybox.ref; !slices.Contains(outLines(out), want) {
				t.Errorf("second pull of %s: no line %q in\n%s", busybox.ref, want, out)
			}
			if strings.Contains(out, "Pull complete") {
				t.Errorf("second pull of %s unpacked again:\n%s", busybox.ref, out)
			}

			// The table: newest first, then by name; all made in 2000.
			table := outLines(b.must("images"))
			if h := strings.Fields(table[0]); !slices.Equal(h, []string{"REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"}) {
				t.Errorf("images header %q", table[0])
			}
			if len(table) != 4 {
				t.Fatalf("images: %d lines, want a header and 3 images:\n%s", len(table), strings.Join(table, "\n"))
			}
			for i, s := range []seeded{child, big, busybox} {
				f := strings.Fields(table[i+1])
				if len(f) < 5 || f[0] != s.repo || f[1] != "1" || f[2] != s.shortID() || !strings.HasSuffix(table[i+1], " ago   "+f[len(f)-1]) {
					t.Errorf("images line %d: %q, want %s 1 %s … ago SIZE", i+1, table[i+1], s.repo, s.shortID())
					continue
				}
				size := parseHumanSize(t, f[len(f)-1])
				if want := float64(inspectOne(t, b, s.ref).Size); size < want*0.99 || size > want*1.01 {
					t.Errorf("images: %s size %s, inspect says %.0f bytes", s.ref, f[len(f)-1], want)
				}
			}

			for _, s := range []seeded{busybox, big, child} {
				checkImageInspect(t, b, s, driver)
			}
			if _, err := os.Stat(filepath.Join(b.root, "snapshots", driver)); err != nil {
				t.Errorf("no %s snapshots: %v", driver, err)
			}
			for _, s := range []seeded{busybox, big, child} {
				checkImageMount(t, b, s.ref, s.img)
			}
			// By ID and by short ID, too.
			checkImageMount(t, b, busybox.shortID(), busybox.img)
		})
	}
}

// entryCount counts what dir holds (0 when it does not exist).
func entryCount(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return len(entries)
}

// blobs is the number of blobs in b's content store.
func blobCount(t *testing.T, b *berthCLI) int {
	t.Helper()
	return entryCount(t, filepath.Join(b.root, "content", "blobs", "sha256"))
}

// snapshots is the number of snapshot directories of b's overlay driver.
func snapshotCount(t *testing.T, b *berthCLI) int {
	t.Helper()
	return entryCount(t, filepath.Join(b.root, "snapshots", "overlay", "snapshots"))
}

// rootfsTar writes a tar of files (path → content; a path ending in "/" is
// a directory) and returns its path.
func rootfsTar(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg, ModTime: time.Unix(1e9, 0)}
		if strings.HasSuffix(n, "/") {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(tw.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// importSmall imports a small rootfs whose file /id holds content, as
// name, and returns the new image's ID.
func importSmall(t *testing.T, b *berthCLI, name, content string, args ...string) string {
	t.Helper()
	tarball := rootfsTar(t, map[string]string{"etc/": "", "etc/id": content})
	id := strings.TrimSpace(b.must(append(append([]string{"import"}, args...), tarball, name)...))
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("import: printed %q, want the image ID", id)
	}
	return id
}

// TestPullVariants pulls by digest, quietly, and every tag of a repository.
func TestPullVariants(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	b := newBerth(t)

	t.Run("by digest", func(t *testing.T) {
		b := b.with(t)
		byDigest := busybox.repo + "@" + busybox.img.Digest().String()
		out := b.must("pull", byDigest)
		lines := outLines(out)
		if lines[0] != busybox.img.Digest().String()+": Pulling from "+busybox.repo || lines[len(lines)-1] != byDigest {
			t.Errorf("pull %s:\n%s", byDigest, out)
		}
		rows := listImages(t, b)
		if len(rows) != 1 || rows[0].Repository != busybox.repo || rows[0].Tag != "<none>" ||
			rows[0].Digest != busybox.img.Digest().String() || rows[0].ID != busybox.shortID() {
			t.Errorf("images after a pull by digest: %+v, want %s <none> %s", rows, busybox.repo, busybox.img.Digest())
		}
		i := inspectOne(t, b, byDigest)
		if i.ID != busybox.id() || len(i.RepoTags) != 0 || !slices.Equal(i.RepoDigests, []string{byDigest}) {
			t.Errorf("inspect %s: Id %s, RepoTags %q, RepoDigests %q; want %s, none, [%s]", byDigest, i.ID, i.RepoTags, i.RepoDigests, busybox.id(), byDigest)
		}
		// The tag too: one image, two records, one repo digest.
		b.must("pull", busybox.ref)
		i = inspectOne(t, b, busybox.ref)
		if !slices.Equal(i.RepoTags, []string{busybox.ref}) || !slices.Equal(i.RepoDigests, []string{byDigest}) {
			t.Errorf("inspect %s: RepoTags %q, RepoDigests %q; want [%s], [%s]", busybox.ref, i.RepoTags, i.RepoDigests, busybox.ref, byDigest)
		}
		if ids := outLines(b.must("images", "-q")); !slices.Equal(ids, []string{busybox.shortID()}) {
			t.Errorf("images -q: %q, want the one ID %s", ids, busybox.shortID())
		}
	})

	t.Run("quiet", func(t *testing.T) {
		out, errs, code := newBerth(t).run("pull", "-q", busybox.ref)
		if code != 0 || out != busybox.ref+"\n" || errs != "" {
			t.Errorf("pull -q %s: exit %d, stdout %q, stderr %q; want only the name", busybox.ref, code, out, errs)
		}
	})

	t.Run("all tags", func(t *testing.T) {
		repo := kit.Registry(t) + "/itest/pull-all"
		kit.PushImage(t, busybox.img, repo+":a")
		// Tag b: an image of berth's own making, pushed by berth.
		maker := newBerth(t)
		otherID := importSmall(t, maker, repo+":b", "pull-all")
		maker.must("push", repo+":b")

		c := newBerth(t)
		out := c.must("pull", "-a", repo)
		for _, want := range []string{"Status: Downloaded newer image for " + repo + ":a", "Status: Downloaded newer image for " + repo + ":b"} {
			if !strings.Contains(out, want) {
				t.Errorf("pull -a %s: no %q in\n%s", repo, want, out)
			}
		}
		got := outLines(c.must("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"))
		slices.Sort(got)
		want := []string{repo + ":a " + busybox.id(), repo + ":b " + otherID}
		if !slices.Equal(got, want) {
			t.Errorf("images after pull -a: %q, want %q", got, want)
		}
		if _, errs, code := c.run("pull", "-a", repo+":a"); code != 125 || !strings.Contains(errs, "--all-tags") {
			t.Errorf("pull -a with a tag: exit %d, %s; want 125 and an error", code, errs)
		}
	})
}

// TestImageTagRmi checks names and removal as docker has them, the
// collection of layers no image needs, dangling images and prune.
func TestImageTagRmi(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	big := seedKit(t, kit.BigImage(t, ""))
	child := kit.BigImageChild(t, "")
	b := newBerth(t)
	b.must("pull", busybox.ref)
	b.must("pull", big.ref)
	nSnap, nBlob := snapshotCount(t, b), blobCount(t, b)
	if nSnap != len(big.img.Layers) || nBlob != 3+2+len(big.img.Layers)-1 {
		t.Fatalf("after pulling busybox and big: %d snapshots, %d blobs; want %d and %d", nSnap, nBlob, len(big.img.Layers), 3+2+len(big.img.Layers)-1)
	}

	t.Run("names", func(t *testing.T) {
		b := b.with(t)
		b.must("tag", busybox.ref, "itest-local/one:1")
		b.must("tag", busybox.shortID(), "itest-local/two") // by ID; :latest
		if tags := inspectOne(t, b, busybox.ref).RepoTags; !slices.Equal(tags, []string{busybox.ref, "itest-local/one:1", "itest-local/two:latest"}) {
			t.Errorf("RepoTags after tag: %q", tags)
		}
		// By ID with several names: refused unless forced.
		out, errs, code := b.run("rmi", busybox.shortID())
		if code != 125 || !strings.Contains(errs, "must be forced") || !strings.Contains(errs, busybox.shortID()) || out != "" {
			t.Errorf("rmi %s (3 names): exit %d, stdout %q, stderr %q; want 125 and must be forced", busybox.shortID(), code, out, errs)
		}
		if n := len(listImages(t, b, "--filter", "reference=itest-local/*")); n != 2 {
			t.Errorf("after a refused rmi: %d local names, want 2", n)
		}
		// By name: only that name goes.
		if out := b.must("rmi", "itest-local/one:1"); out != "Untagged: itest-local/one:1\n" {
			t.Errorf("rmi itest-local/one:1: %q, want only Untagged", out)
		}
		if tags := inspectOne(t, b, busybox.shortID()).RepoTags; !slices.Equal(tags, []string{busybox.ref, "itest-local/two:latest"}) {
			t.Errorf("RepoTags after rmi of one name: %q", tags)
		}
		if s, n := snapshotCount(t, b), blobCount(t, b); s != nSnap || n != nBlob {
			t.Errorf("rmi of a name collected: %d snapshots, %d blobs; want %d, %d", s, n, nSnap, nBlob)
		}
		if out := b.must("rmi", "itest-local/two"); out != "Untagged: itest-local/two:latest\n" {
			t.Errorf("rmi itest-local/two: %q", out)
		}
		if _, errs, code := b.run("rmi", "itest-local/two"); code != 125 || !strings.Contains(errs, "itest-local/two") {
			t.Errorf("rmi of a removed name: exit %d, %s; want 125 naming it", code, errs)
		}
	})

	t.Run("dangling", func(t *testing.T) {
		b := b.with(t)
		// The tag moves to another image in the registry: the image it
		// named before, left with no name, dangles.
		retag := kit.Registry(t) + "/itest/rmi-retag:1"
		kit.PushImage(t, child, retag)
		b.must("pull", retag)
		kit.PushImage(t, busybox.img, retag)
		if out := b.must("pull", retag); !strings.Contains(out, "Status: Downloaded newer image for "+retag) {
			t.Errorf("pull of a moved tag:\n%s", out)
		}
		childID := child.Config.Digest.Encoded()[:12]
		rows := listImages(t, b, "-f", "dangling=true")
		if len(rows) != 1 || rows[0].Repository != "<none>" || rows[0].Tag != "<none>" || rows[0].ID != childID {
			t.Errorf("images -f dangling=true: %+v, want <none> <none> %s", rows, childID)
		}
		table := b.must("images")
		if !regexp.MustCompile(`(?m)^<none>\s+<none>\s+` + childID + `\s`).MatchString(table) {
			t.Errorf("images: no dangling line for %s:\n%s", childID, table)
		}
		if i := inspectOne(t, b, childID); len(i.RepoTags) != 0 || len(i.RepoDigests) != 0 {
			t.Errorf("inspect of the dangling image: RepoTags %q, RepoDigests %q; want none", i.RepoTags, i.RepoDigests)
		}
		if s := snapshotCount(t, b); s != nSnap+1 {
			t.Errorf("%d snapshots with the child's layer, want %d", s, nSnap+1)
		}
		out := b.must("image", "prune")
		if !strings.Contains(out, "deleted: "+child.Config.Digest.String()) || !strings.Contains(out, "Total reclaimed space: ") {
			t.Errorf("image prune:\n%s", out)
		}
		if rows := listImages(t, b, "-f", "dangling=true"); len(rows) != 0 {
			t.Errorf("dangling after prune: %+v", rows)
		}
		if s := snapshotCount(t, b); s != nSnap {
			t.Errorf("%d snapshots after prune, want %d", s, nSnap)
		}
		b.must("rmi", retag)
	})

	t.Run("collect", func(t *testing.T) {
		b := b.with(t)
		out := b.must("rmi", big.ref)
		if !strings.Contains(out, "Untagged: "+big.ref) || !strings.Contains(out, "Deleted: "+big.id()) {
			t.Errorf("rmi %s:\n%s", big.ref, out)
		}
		// Busybox's layer (big's bottom one) stays; big's own go.
		if s, n := snapshotCount(t, b), blobCount(t, b); s != 1 || n != 3 {
			t.Errorf("after rmi of big: %d snapshots, %d blobs; want 1 and 3 (busybox's)", s, n)
		}
		checkImageMount(t, b, busybox.ref, busybox.img)

		// A mounted image: prune keeps it; rmi takes its mount with it.
		dir := strings.TrimSpace(b.must("image", "mount", busybox.ref))
		if out := b.must("image", "prune", "-a"); strings.Contains(out, "deleted:") {
			t.Errorf("image prune -a removed a mounted image:\n%s", out)
		}
		if !isMountedOn(t, dir) {
			t.Fatalf("image prune -a unmounted %s", dir)
		}
		b.must("tag", busybox.ref, "itest-local/last:1")
		if _, errs, code := b.run("rmi", busybox.shortID()); code != 125 {
			t.Errorf("rmi by ID with 2 names: exit %d (%s), want 125", code, errs)
		}
		out = b.must("rmi", "-f", busybox.shortID())
		for _, want := range []string{"Untagged: " + busybox.ref, "Untagged: itest-local/last:1", "Deleted: " + busybox.id()} {
			if !strings.Contains(out, want) {
				t.Errorf("rmi -f %s: no %q in\n%s", busybox.shortID(), want, out)
			}
		}
		if isMountedOn(t, dir) {
			t.Errorf("rmi of a mounted image left its mount %s", dir)
		}
		if n := entryCount(t, filepath.Join(b.runroot, "image-mounts")); n != 0 {
			t.Errorf("rmi of a mounted image left %d mount points", n)
		}
		if s, n := snapshotCount(t, b), blobCount(t, b); s != 0 || n != 0 {
			t.Errorf("after the last image went: %d snapshots, %d blobs; want none", s, n)
		}
	})

	t.Run("prune all", func(t *testing.T) {
		b := b.with(t)
		b.must("pull", busybox.ref)
		b.must("tag", busybox.ref, "itest-local/pruned:1")
		df := systemDFImages(t, b)
		if df.TotalCount != 1 || parseHumanSize(t, df.Size) == 0 {
			t.Errorf("system df with busybox: %+v", df)
		}
		out := b.must("image", "prune", "-a")
		for _, want := range []string{"untagged: " + busybox.ref, "untagged: itest-local/pruned:1", "deleted: " + busybox.id()} {
			if !strings.Contains(out, want) {
				t.Errorf("image prune -a: no %q in\n%s", want, out)
			}
		}
		if df := systemDFImages(t, b); df.TotalCount != 0 || df.Size != "0B" {
			t.Errorf("system df after image prune -a: %+v, want 0 images, 0B", df)
		}
		if s, n := snapshotCount(t, b), blobCount(t, b); s != 0 || n != 0 {
			t.Errorf("after image prune -a: %d snapshots, %d blobs", s, n)
		}
		if rows := listImages(t, b); len(rows) != 0 {
			t.Errorf("images after prune -a: %+v", rows)
		}
	})
}

// dfLine is the Images line of `berth system df --format json`.
type dfLine struct {
	Type              string
	TotalCount        int
	Active            int
	Size, Reclaimable string
}

func systemDFImages(t *testing.T, b *berthCLI) dfLine {
	t.Helper()
	out := b.must("system", "df", "--format", "json")
	for _, l := range outLines(out) {
		var d dfLine
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("system df --format json: %q: %v", l, err)
		}
		if d.Type == "Images" {
			return d
		}
	}
	t.Fatalf("system df: no Images line:\n%s", out)
	return dfLine{}
}

// TestImagesFormat checks the output formats and filters of `berth images`
// and `berth image inspect`.
func TestImagesFormat(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	b := newBerth(t)
	b.must("pull", busybox.ref)
	b.must("tag", busybox.ref, "itest-local/bb")
	// Made now: newer than the kit's images (made in 2000).
	importedID := importSmall(t, b, "itest-local/imported:1", "format", "--change", "LABEL itest=yes")
	imported := importedID[len("sha256:"):][:12]

	t.Run("template", func(t *testing.T) {
		b := b.with(t)
		got := outLines(b.must("images", "--format", "{{.Repository}}:{{.Tag}}"))
		want := []string{"itest-local/imported:1", busybox.ref, "itest-local/bb:latest"}
		if !slices.Equal(got, want) {
			t.Errorf("images --format {{.Repository}}:{{.Tag}}: %q, want %q (newest first, then by name)", got, want)
		}
		got = outLines(b.must("images", "--format", "table {{.ID}}\t{{.Tag}}"))
		if len(got) != 4 || strings.Fields(got[0])[0] != "IMAGE" || strings.Fields(got[1])[0] != imported {
			t.Errorf("images --format 'table …': %q", got)
		}
		if _, errs, code := b.run("images", "--format", "{{.NoSuchField}}"); code != 125 || !strings.Contains(errs, "NoSuchField") {
			t.Errorf("images with a template naming no field: exit %d, %s", code, errs)
		}
	})

	t.Run("json", func(t *testing.T) {
		b := b.with(t)
		lines := outLines(b.must("images", "--format", "json"))
		if len(lines) != 3 {
			t.Fatalf("images --format json: %d lines, want 3:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("images --format json: %q: %v", l, err)
			}
			for _, k := range []string{"Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"} {
				if _, ok := m[k]; !ok {
					t.Errorf("images --format json: no key %q (docker's) in %s", k, l)
				}
			}
		}
		rows := listImages(t, b)
		if r := rows[1]; r.Repository != busybox.repo || r.Tag != "1" || r.ID != busybox.shortID() ||
			r.Digest != busybox.img.Digest().String() || !strings.HasSuffix(r.CreatedSince, " ago") || r.Size == "" {
			t.Errorf("images --format json: busybox line %+v", r)
		}
	})

	t.Run("quiet digests no-trunc", func(t *testing.T) {
		b := b.with(t)
		if got := outLines(b.must("images", "-q")); !slices.Equal(got, []string{imported, busybox.shortID()}) {
			t.Errorf("images -q: %q, want each ID once: %s %s", got, imported, busybox.shortID())
		}
		if got := outLines(b.must("images", "-q", "--no-trunc")); !slices.Equal(got, []string{importedID, busybox.id()}) {
			t.Errorf("images -q --no-trunc: %q", got)
		}
		table := outLines(b.must("images", "--digests"))
		if h := strings.Fields(table[0]); !slices.Equal(h[:4], []string{"REPOSITORY", "TAG", "DIGEST", "IMAGE"}) {
			t.Errorf("images --digests header: %q", table[0])
		}
		if f := strings.Fields(table[2]); f[0] != busybox.repo || f[2] != busybox.img.Digest().String() || f[3] != busybox.shortID() {
			t.Errorf("images --digests: busybox line %q", table[2])
		}
	})

	t.Run("filters", func(t *testing.T) {
		b := b.with(t)
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"-f", "reference=itest-local/*"}, []string{"itest-local/imported:1", "itest-local/bb:latest"}},
			{[]string{"-f", "reference=*/itest/images-busybox:1"}, []string{busybox.ref}},
			{[]string{"itest-local/bb"}, []string{"itest-local/bb:latest"}},
			{[]string{"-f", "dangling=false"}, []string{"itest-local/imported:1", busybox.ref, "itest-local/bb:latest"}},
			{[]string{"-f", "dangling=true"}, nil},
			{[]string{"-f", "label=itest=yes"}, []string{"itest-local/imported:1"}},
			{[]string{"-f", "label=itest"}, []string{"itest-local/imported:1"}},
			{[]string{"-f", "label=itest=no"}, nil},
			{[]string{"-f", "before=itest-local/imported:1"}, []string{busybox.ref, "itest-local/bb:latest"}},
			{[]string{"-f", "since=" + busybox.shortID()}, []string{"itest-local/imported:1"}},
			{[]string{"-f", "since=itest-local/bb", "-f", "reference=*/*:1"}, []string{"itest-local/imported:1"}},
		} {
			got := outLines(b.must(append([]string{"images", "--format", "{{.Repository}}:{{.Tag}}"}, tc.args...)...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("images %q: %q, want %q", tc.args, got, tc.want)
			}
		}
		for _, f := range []string{"nosuchkey=1", "dangling=maybe", "before=nosuch:image", "reference"} {
			if out, errs, code := b.run("images", "-f", f); code != 125 || errs == "" {
				t.Errorf("images -f %s: exit %d, %q %q; want 125 and an error", f, code, out, errs)
			}
		}
	})

	t.Run("inspect", func(t *testing.T) {
		b := b.with(t)
		if out := b.must("inspect", "-f", "{{.Id}}", busybox.ref); out != busybox.id()+"\n" {
			t.Errorf("inspect -f {{.Id}}: %q, want %s", out, busybox.id())
		}
		if out := b.must("image", "inspect", "--format", "{{.Os}}/{{.Architecture}} {{json .Config.Cmd}}", busybox.ref); out != "linux/"+runtime.GOARCH+" [\"sh\"]\n" {
			t.Errorf("image inspect --format: %q", out)
		}
		out := b.must("image", "inspect", busybox.ref, "itest-local/imported:1")
		var both []imageInspect
		if err := json.Unmarshal([]byte(out), &both); err != nil || len(both) != 2 || both[0].ID != busybox.id() || both[1].ID != importedID {
			t.Errorf("inspect of two images: %v\n%s", err, out)
		}
		out, errs, code := b.run("image", "inspect", "itest-local/nosuch:1")
		if code != 125 || strings.TrimSpace(out) != "[]" || !strings.Contains(errs, "itest-local/nosuch:1") {
			t.Errorf("inspect of an unknown image: exit %d, stdout %q, stderr %q; want 125, [] and an error naming it", code, out, errs)
		}
		out, errs, code = b.run("inspect", "-f", "{{.Id}}", busybox.ref, "nosuch")
		if code != 125 || out != busybox.id()+"\n" || !strings.Contains(errs, "nosuch") {
			t.Errorf("inspect of a known and an unknown image: exit %d, stdout %q, stderr %q", code, out, errs)
		}
	})
}

// TestImageImport imports rootfs tarballs, with Dockerfile changes, and
// refuses garbage leaving nothing behind.
func TestImageImport(t *testing.T) {
	b := newBerth(t)
	files := map[string]string{"bin/": "", "etc/": "", "etc/motd": "hello\n", "w/": ""}
	id := strings.TrimSpace(b.must("import", "-m", "from a test",
		"--change", `CMD ["/bin/sh"]`, "--change", "ENV A=b", "--change", "WORKDIR /w",
		rootfsTar(t, files), "itest-local/imported:1"))
	i := inspectOne(t, b, "itest-local/imported:1")
	if i.ID != id || !slices.Equal(i.RepoTags, []string{"itest-local/imported:1"}) {
		t.Errorf("inspect of the import: Id %s, RepoTags %q; want %s", i.ID, i.RepoTags, id)
	}
	if !slices.Equal(i.Config.Cmd, []string{"/bin/sh"}) || !slices.Contains(i.Config.Env, "A=b") || i.Config.WorkingDir != "/w" {
		t.Errorf("import --change: Cmd %q, Env %q, WorkingDir %q; want [/bin/sh], A=b, /w", i.Config.Cmd, i.Config.Env, i.Config.WorkingDir)
	}
	if i.Os != "linux" || i.Architecture != runtime.GOARCH || len(i.RootFS.Layers) != 1 {
		t.Errorf("import: %s/%s, %d layers", i.Os, i.Architecture, len(i.RootFS.Layers))
	}
	if len(i.History) != 1 || i.History[0].Comment != "from a test" {
		t.Errorf("import -m: history %+v", i.History)
	}
	dir := strings.TrimSpace(b.must("image", "mount", id))
	if got, err := os.ReadFile(filepath.Join(dir, "etc/motd")); err != nil || string(got) != "hello\n" {
		t.Errorf("imported etc/motd: %q, %v", got, err)
	}
	b.must("image", "unmount", id)

	// From stdin, without a name: dangling.
	tarball, err := os.ReadFile(rootfsTar(t, map[string]string{"x": "y"}))
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := b.runStdin(string(tarball), "import", "-")
	if code != 0 {
		t.Fatalf("import -: exit %d: %s", code, errs)
	}
	if rows := listImages(t, b, "-f", "dangling=true", "--no-trunc"); len(rows) != 1 || rows[0].ID != strings.TrimSpace(out) {
		t.Errorf("import without a name: dangling %+v, want %s", rows, out)
	}

	// Garbage: an error, and the store as it was.
	nBlob, nSnap := blobCount(t, b), snapshotCount(t, b)
	garbage := filepath.Join(t.TempDir(), "garbage.tar")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a tar archive "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = b.run("import", garbage, "itest-local/garbage:1")
	if code != 125 || out != "" || errs == "" {
		t.Errorf("import of garbage: exit %d, stdout %q, stderr %q; want 125 and an error", code, out, errs)
	}
	if _, _, code := b.run("image", "inspect", "itest-local/garbage:1"); code != 125 {
		t.Errorf("import of garbage recorded an image")
	}
	if n, s := blobCount(t, b), snapshotCount(t, b); n != nBlob || s != nSnap {
		t.Errorf("import of garbage left %d blobs, %d snapshots; had %d, %d", n, s, nBlob, nSnap)
	}
	if _, errs, code := b.run("import", "--change", "FROB x", rootfsTar(t, files), "itest-local/bad:1"); code != 125 || !strings.Contains(errs, "FROB") {
		t.Errorf("import --change FROB: exit %d, %s; want 125 naming it", code, errs)
	}
	if n, s := blobCount(t, b), snapshotCount(t, b); n != nBlob || s != nSnap {
		t.Errorf("a refused import left %d blobs, %d snapshots; had %d, %d", n, s, nBlob, nSnap)
	}
}

// skopeoDigest is the digest skopeo inspect reports for ref in a test
// registry (with creds "user:password" if given).
func skopeoDigest(t *testing.T, ref, creds string) string {
	t.Helper()
	args := []string{"inspect", "--tls-verify=false"}
	if creds != "" {
		args = append(args, "--creds", creds)
	}
	out, errs, code := runCommand(t, nil, "skopeo", append(args, "docker://"+ref)...)
	if code != 0 {
		t.Fatalf("skopeo inspect %s: exit %d: %s", ref, code, errs)
	}
	var v struct{ Digest string }
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, out)
	}
	return v.Digest
}

// TestImagePush pushes a tagged image to the open registry and checks with
// skopeo that it holds the manifest berth has.
func TestImagePush(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	b := newBerth(t)
	b.must("pull", busybox.ref)
	repo := kit.Registry(t) + "/itest/pushed"
	b.must("tag", busybox.ref, repo+":1")
	out := b.must("push", repo+":1")
	lines := outLines(out)
	if lines[0] != "The push refers to repository ["+repo+"]" || !strings.HasPrefix(lines[len(lines)-1], "1: digest: "+busybox.img.Digest().String()+" size: ") {
		t.Errorf("push %s:\n%s", repo+":1", out)
	}
	// docker's display: one line per layer, not the config or manifest.
	if got, want := lines[1:len(lines)-1], []string{pullLayerID(busybox.img, 0) + ": Pushed"}; !slices.Equal(got, want) &&
		!slices.Equal(got, []string{pullLayerID(busybox.img, 0) + ": Layer already exists"}) {
		t.Errorf("push %s: progress %q, want %q or already exists", repo+":1", got, want)
	}
	want := repo + "@" + skopeoDigest(t, repo+":1", "")
	if rd := inspectOne(t, b, repo+":1").RepoDigests; !slices.Contains(rd, want) {
		t.Errorf("RepoDigests %q; skopeo inspect says %s", rd, want)
	}
	if want != repo+"@"+busybox.img.Digest().String() {
		t.Errorf("pushed %s, pulled %s: the manifest changed", want, busybox.img.Digest())
	}
	// Again: every blob is there already.
	if out, errs, code := b.run("push", "-q", repo+":1"); code != 0 || out != "" {
		t.Errorf("push -q again: exit %d, stdout %q, %s", code, out, errs)
	}

	out, errs, code := b.run("push", repo+":nosuch")
	if code != 125 || !strings.Contains(errs, repo+":nosuch") || !strings.Contains(errs, "no such image") {
		t.Errorf("push of an unknown local name: exit %d, stderr %q", code, errs)
	}
	if _, err := kit.RegistryDigest(repo + ":nosuch"); err == nil {
		t.Errorf("push of an unknown name made %s:nosuch", repo)
	}
	_ = out
}

// TestImageLogin logs in to the auth registry (127.0.0.1:5001) and pushes
// and pulls with the credentials; without them, both fail.
func TestImageLogin(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	auth := kit.AuthRegistry(t)
	seededAuth := auth + "/itest/images-busybox:1"
	kit.PushImage(t, busybox.img, seededAuth)

	// No credentials from this machine's files: only --authfile.
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + home, "XDG_CONFIG_HOME=" + home, "DOCKER_CONFIG=" + home, "REGISTRY_AUTH_FILE="}
	authfile := filepath.Join(t.TempDir(), "auth.json")
	withAuth := func(b *berthCLI) *berthCLI {
		b.env = env
		b.flags = append(b.flags, "--authfile", authfile)
		return b
	}
	b := withAuth(newBerth(t))
	b.must("pull", busybox.ref)
	pushed := auth + "/itest/pushed-auth:1"
	b.must("tag", busybox.ref, pushed)

	_, errs, code := b.run("push", pushed)
	if code != 125 || !strings.Contains(strings.ToLower(errs), "unauthorized") {
		t.Errorf("push to %s without login: exit %d, %s; want 125 unauthorized", auth, code, errs)
	}
	_, errs, code = withAuth(newBerth(t)).run("pull", seededAuth)
	if code != 125 || !strings.Contains(strings.ToLower(errs), "unauthorized") {
		t.Errorf("pull from %s without login: exit %d, %s; want 125 unauthorized", auth, code, errs)
	}

	wrongLogin := func() {
		t.Helper()
		out, errs, code := b.runStdin("wrong\n", "login", "-u", kit.RegistryUser, "--password-stdin", auth)
		if code != 125 || strings.Contains(out, "Login Succeeded") || errs == "" {
			t.Errorf("login with a wrong password: exit %d, %q %q; want 125", code, out, errs)
		}
	}
	wrongLogin()
	if _, err := os.Stat(authfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed login wrote %s (%v)", authfile, err)
	}

	out, errs, code := b.runStdin(kit.RegistryPassword+"\n", "login", "-u", kit.RegistryUser, "--password-stdin", auth)
	if code != 0 || out != "Login Succeeded\n" {
		t.Fatalf("login: exit %d, %q %q", code, out, errs)
	}
	st, err := os.Stat(authfile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("auth file after login: %v, mode %v; want 0600", err, st.Mode())
	}
	if got := authEntries(t, authfile); got[auth] != base64.StdEncoding.EncodeToString([]byte(kit.RegistryUser+":"+kit.RegistryPassword)) {
		t.Errorf("auth file entries %q, want %s with berth's credentials", got, auth)
	}

	out = b.must("push", pushed)
	if !strings.Contains(out, "1: digest: "+busybox.img.Digest().String()) {
		t.Errorf("push after login:\n%s", out)
	}
	if d := skopeoDigest(t, pushed, kit.RegistryUser+":"+kit.RegistryPassword); d != busybox.img.Digest().String() {
		t.Errorf("skopeo inspect %s: %s, want %s", pushed, d, busybox.img.Digest())
	}
	c := withAuth(newBerth(t))
	c.must("pull", seededAuth)
	if i := inspectOne(t, c, seededAuth); i.ID != busybox.id() {
		t.Errorf("pull from %s: Id %s, want %s", auth, i.ID, busybox.id())
	}

	// A wrong password leaves the stored login as it was.
	before, err := os.ReadFile(authfile)
	if err != nil {
		t.Fatal(err)
	}
	wrongLogin()
	if after, _ := os.ReadFile(authfile); !bytes.Equal(before, after) {
		t.Errorf("a failed login changed %s:\n%s\n→\n%s", authfile, before, after)
	}

	if out := b.must("logout", auth); out != "Removing login credentials for "+auth+"\n" {
		t.Errorf("logout: %q", out)
	}
	if got := authEntries(t, authfile); len(got) != 0 {
		t.Errorf("auth file after logout: %q", got)
	}
	if _, errs, code := b.run("logout", auth); code != 125 || !strings.Contains(errs, "not logged in") {
		t.Errorf("logout again: exit %d, %s; want 125 not logged in", code, errs)
	}
	if _, errs, code := withAuth(newBerth(t)).run("pull", seededAuth); code != 125 || !strings.Contains(strings.ToLower(errs), "unauthorized") {
		t.Errorf("pull after logout: exit %d, %s; want 125 unauthorized", code, errs)
	}
}

// authEntries returns the "auth" values of a credentials file's "auths".
func authEntries(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	out := map[string]string{}
	for k, v := range doc.Auths {
		out[k] = v.Auth
	}
	return out
}

// TestImageSaveLoad saves busybox and the big image in both archive formats
// and loads each archive into a fresh root: same IDs, names and trees.
func TestImageSaveLoad(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	big := seedKit(t, kit.BigImage(t, ""))
	b := newBerth(t)
	b.must("pull", busybox.ref)
	b.must("pull", big.ref)
	dir := t.TempDir()

	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			b := b.with(t)
			archive := filepath.Join(dir, format+".tar")
			if out := b.must("save", "--format", format, "-o", archive, busybox.ref, big.ref); out != "" {
				t.Errorf("save -o printed %q", out)
			}
			if st, err := os.Stat(archive); err != nil || st.Size() < 100<<20 {
				t.Fatalf("save -o %s: %v (%d bytes), want the big image in it", archive, err, st.Size())
			}
			fresh := newBerth(t)
			out := fresh.must("load", "-i", archive)
			for _, s := range []seeded{busybox, big} {
				if !strings.Contains(out, "Loaded image: "+s.ref+"\n") {
					t.Errorf("load: no %q in\n%s", "Loaded image: "+s.ref, out)
				}
				i := inspectOne(t, fresh, s.ref)
				if i.ID != s.id() || !slices.Equal(i.RepoTags, []string{s.ref}) {
					t.Errorf("loaded %s: Id %s, RepoTags %q; want %s", s.ref, i.ID, i.RepoTags, s.id())
				}
				checkImageMount(t, fresh, s.ref, s.img)
			}
		})
	}

	t.Run("stdout by ID", func(t *testing.T) {
		b := b.with(t)
		// Saved by ID: no name, loaded as a dangling image.
		out := b.must("save", busybox.shortID())
		fresh := newBerth(t)
		if out := fresh.must("load", "-q", "-i", writeTemp(t, out)); out != "" {
			t.Errorf("load -q printed %q", out)
		}
		rows := listImages(t, fresh, "--no-trunc")
		if len(rows) != 1 || rows[0].ID != busybox.id() || rows[0].Repository != "<none>" {
			t.Errorf("load of an image saved by ID: %+v, want one dangling %s", rows, busybox.id())
		}
		again, errs, code := fresh.runStdin(out, "load")
		if code != 0 || again != "Loaded image ID: "+busybox.id()+"\n" {
			t.Errorf("load from stdin: exit %d, %q %s; want Loaded image ID: %s", code, again, errs, busybox.id())
		}
		checkImageMount(t, fresh, busybox.shortID(), busybox.img)
	})

	t.Run("errors", func(t *testing.T) {
		b := b.with(t)
		if _, errs, code := b.run("save", "-o", filepath.Join(dir, "x.tar"), "itest-local/nosuch:1"); code != 125 || !strings.Contains(errs, "itest-local/nosuch:1") {
			t.Errorf("save of an unknown image: exit %d, %s", code, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.tar")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed save left its file (%v)", err)
		}
		if _, errs, code := b.run("save", "--format", "zip", "-o", filepath.Join(dir, "x.tar"), busybox.ref); code != 125 || !strings.Contains(errs, "zip") {
			t.Errorf("save --format zip: exit %d, %s", code, errs)
		}
		fresh := newBerth(t)
		if _, errs, code := fresh.runStdin(strings.Repeat("garbage", 1000), "load"); code != 125 || errs == "" {
			t.Errorf("load of garbage: exit %d, %s", code, errs)
		}
		if n := blobCount(t, fresh); n != 0 {
			t.Errorf("load of garbage left %d blobs", n)
		}
	})
}

// writeTemp writes data to a file of the test's and returns its path.
func writeTemp(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
