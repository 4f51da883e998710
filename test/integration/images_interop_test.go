package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// The interop tests hand berth's archives to Podman and take Podman's and
// skopeo's back. Podman runs with a store and configuration of the test's
// own (vfs: it mounts nothing), never the host's.

// imagePodman is Podman over a private store, for image commands only.
type imagePodman struct {
	dir  string
	env  []string
	args []string
}

func newImagePodman(t *testing.T) *imagePodman {
	t.Helper()
	testenv.RequiresRoot(t)
	testenv.RequiresBinary(t, "podman")
	dir := t.TempDir()
	// Pulling and loading may write containers/image's blob-info cache
	// here (a fixed path for root): removed if the test made it.
	created := absentPaths("/var/lib/containers/cache/blob-info-cache-v1.boltdb", "/var/lib/containers/cache", "/var/lib/containers")
	files := map[string]string{
		"containers.conf": "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"" + dir + "/events.log\"\n",
		"registries.conf": "unqualified-search-registries = []\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := &imagePodman{dir: dir,
		env: []string{
			"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
			"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf"),
			"TMPDIR=" + filepath.Join(dir, "tmp"),
		},
		args: []string{
			"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--tmpdir", filepath.Join(dir, "libpod"), "--storage-driver", "vfs",
			"--cgroup-manager", "cgroupfs", "--events-backend", "file",
		},
	}
	t.Cleanup(func() {
		p.run(t, "rmi", "-af")
		unmountBelow(t, dir)
		removeCreated(created)
	})
	return p
}

func (p *imagePodman) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCommand(t, p.env, "podman", append(append([]string{}, p.args...), args...)...)
}

func (p *imagePodman) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := p.run(t, args...)
	if code != 0 {
		t.Fatalf("podman %s: exit %d: %s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// TestImageInteropPodman: Podman loads what berth saves, in both formats,
// as the same image; berth loads what Podman saves, and unpacks the same
// tree.
func TestImageInteropPodman(t *testing.T) {
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	b := newBerth(t)
	b.must("pull", busybox.ref)
	p := newImagePodman(t)
	dir := t.TempDir()

	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run("berth save "+format, func(t *testing.T) {
			b := b.with(t)
			archive := filepath.Join(dir, "berth-"+format+".tar")
			b.must("save", "--format", format, "-o", archive, busybox.ref)
			out := p.must(t, "load", "-i", archive)
			if !strings.Contains(out, busybox.ref) {
				t.Errorf("podman load of berth's %s: %q, want it to name %s", format, out, busybox.ref)
			}
			if id := strings.TrimSpace(p.must(t, "image", "inspect", "--format", "{{.Id}}", busybox.ref)); id != busybox.img.Config.Digest.Encoded() {
				t.Errorf("podman sees %s as %s, berth as %s", busybox.ref, id, busybox.id())
			}
			if d := strings.TrimSpace(p.must(t, "image", "inspect", "--format", "{{.Digest}}", busybox.ref)); d == "" {
				t.Errorf("podman image inspect: no digest")
			}
			p.must(t, "rmi", busybox.ref)
		})
	}

	p.must(t, "load", "-i", filepath.Join(dir, "berth-docker-archive.tar"))
	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run("podman save "+format, func(t *testing.T) {
			archive := filepath.Join(dir, "podman-"+format+".tar")
			p.must(t, "save", "--format", format, "-o", archive, busybox.ref)
			fresh := newBerth(t)
			out := fresh.must("load", "-i", archive)
			if !strings.HasPrefix(out, "Loaded image") {
				t.Errorf("berth load of podman's %s: %q", format, out)
			}
			rows := listImages(t, fresh, "--no-trunc")
			if len(rows) != 1 || rows[0].ID != busybox.id() {
				t.Fatalf("berth load of podman's %s: images %+v, want one of ID %s", format, rows, busybox.id())
			}
			name := rows[0].Repository + ":" + rows[0].Tag
			if format == "docker-archive" && name != busybox.ref {
				t.Errorf("berth load of podman's docker-archive: named %s, want %s", name, busybox.ref)
			}
			checkImageMount(t, fresh, busybox.id(), busybox.img)
		})
	}
}

// TestImageInteropSkopeo: berth loads what skopeo copies from the
// registry: busybox into a docker-archive, and the big image into an
// oci-archive (skopeo 1.9 cannot put its zstd layers in a docker-archive).
func TestImageInteropSkopeo(t *testing.T) {
	skopeo := testenv.RequiresBinary(t, "skopeo")
	busybox := seedKit(t, kit.BusyboxImage(t, ""))
	big := seedKit(t, kit.BigImage(t, ""))
	dir := t.TempDir()
	b := newBerth(t)
	for _, tc := range []struct {
		s      seeded
		dest   string
		name   string // what berth must call it
		loaded string // what berth load must say
	}{
		{busybox, "docker-archive:" + dir + "/busybox.tar:itest-local/from-skopeo:1", "itest-local/from-skopeo:1", "Loaded image: itest-local/from-skopeo:1\n"},
		// An OCI layout names an image by tag alone, with no repository:
		// berth loads it unnamed.
		{big, "oci-archive:" + dir + "/big.tar:1", big.id(), "Loaded image ID: " + big.id() + "\n"},
	} {
		if out, errs, code := runCommand(t, nil, skopeo, "copy", "--quiet", "--src-tls-verify=false", "docker://"+tc.s.ref, tc.dest); code != 0 {
			t.Fatalf("skopeo copy to %s: exit %d: %s%s", tc.dest, code, out, errs)
		}
		file := strings.Split(tc.dest, ":")[1]
		if out := b.must("load", "-i", file); out != tc.loaded {
			t.Errorf("berth load of skopeo's %s: %q, want %q", tc.dest, out, tc.loaded)
		}
		if i := inspectOne(t, b, tc.name); i.ID != tc.s.id() {
			t.Errorf("loaded %s: Id %s, want %s", tc.name, i.ID, tc.s.id())
		}
		checkImageMount(t, b, tc.name, tc.s.img)
	}
}
