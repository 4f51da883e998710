package imagearchive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/testenv"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The interop tests hand archives to podman and skopeo and take theirs
// back. Podman runs with a private configuration and store under the test's
// temporary directory (vfs, cgroupfs, file events), never the host's.

type podman struct {
	t    *testing.T
	bin  string
	dir  string
	env  []string
	args []string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	testenv.RequiresRoot(t)
	bin := testenv.RequiresBinary(t, "podman")
	dir := t.TempDir()
	files := map[string]string{
		"containers.conf": "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \"" + dir + "/events.log\"\n",
		"storage.conf":    "[storage]\ndriver = \"vfs\"\nrunroot = \"" + dir + "/run\"\ngraphroot = \"" + dir + "/root\"\n",
		"registries.conf": "unqualified-search-registries = []\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &podman{t: t, bin: bin, dir: dir,
		env: append(os.Environ(),
			"CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"),
			"CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"),
			"CONTAINERS_REGISTRIES_CONF="+filepath.Join(dir, "registries.conf"),
			"TMPDIR="+dir),
		args: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--tmpdir", filepath.Join(dir, "tmp"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"},
	}
	t.Cleanup(func() {
		// vfs mounts nothing; make sure of it.
		mi, _ := os.ReadFile("/proc/self/mountinfo")
		if strings.Contains(string(mi), dir) {
			t.Errorf("podman left a mount under %s", dir)
		}
	})
	return p
}

func (p *podman) run(args ...string) []byte {
	p.t.Helper()
	return runTool(p.t, p.env, p.bin, append(append([]string{}, p.args...), args...)...)
}

func runTool(t *testing.T, env []string, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive.tar")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadFile(t *testing.T, cs *content.Store, path string) []Named {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	images, err := Load(context.Background(), f, cs)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return images
}

// untar extracts an archive that Save wrote (plain files and directories
// only) into a new directory.
func untar(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInteropPodman(t *testing.T) {
	p := newPodman(t)
	cs := newStore(t)
	img := makeImage(t, cs, "podman", hostPlatform())
	ar := writeFile(t, save(t, cs, DockerArchive, Named{Name: busybox, Target: img.manifest}, Named{Name: "localhost/app:2", Target: img.manifest}))

	// (1) podman loads our docker-archive: its image ID is our config digest.
	p.run("load", "-i", ar)
	for _, name := range []string{busybox, "localhost/app:2"} {
		id := strings.TrimSpace(string(p.run("image", "inspect", "--format", "{{.Id}}", name)))
		if id != img.config.Digest.Encoded() {
			t.Errorf("podman image %s has ID %s, want %s", name, id, img.config.Digest.Encoded())
		}
	}
	var inspect []struct {
		RootFS struct{ Layers []string }
		Config struct{ Env []string }
	}
	if err := json.Unmarshal(p.run("image", "inspect", busybox), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	if l := inspect[0].RootFS.Layers; len(l) != 2 || l[0] != img.diffIDs[0].String() || l[1] != img.diffIDs[1].String() {
		t.Errorf("podman sees layers %v, want %v", l, img.diffIDs)
	}

	// (4) podman saves it in both formats, and Load takes either back.
	for _, format := range []string{"docker-archive", "oci-archive"} {
		out := filepath.Join(t.TempDir(), format+".tar")
		p.run("save", "--format", format, "-o", out, busybox)
		dst := newStore(t)
		got := loadFile(t, dst, out)
		if len(got) != 1 || got[0].Name != busybox {
			t.Fatalf("podman %s: loaded %+v", format, got)
		}
		checkImage(t, dst, got[0].Target, img)
	}

	// An oci-archive of ours loads into podman too, under its full name
	// (podman reads io.containerd.image.name).
	oar := writeFile(t, save(t, cs, OCIArchive, Named{Name: "docker.io/library/ocitest:v3", Target: img.manifest}))
	p.run("load", "-i", oar)
	id := strings.TrimSpace(string(p.run("image", "inspect", "--format", "{{.Id}}", "docker.io/library/ocitest:v3")))
	if id != img.config.Digest.Encoded() {
		t.Errorf("podman image from our oci-archive has ID %s, want %s", id, img.config.Digest.Encoded())
	}
}

func TestInteropSkopeo(t *testing.T) {
	skopeo := testenv.RequiresBinary(t, "skopeo")
	cs := newStore(t)
	img := makeImage(t, cs, "skopeo", hostPlatform())
	env := os.Environ()

	// (2) skopeo reads our oci-archive: the same manifest digest.
	oci := save(t, cs, OCIArchive, Named{Name: busybox, Target: img.manifest})
	var inspect struct {
		Digest string
		Layers []string
	}
	if err := json.Unmarshal(runTool(t, env, skopeo, "inspect", "oci-archive:"+writeFile(t, oci)), &inspect); err != nil {
		t.Fatal(err)
	}
	if inspect.Digest != img.manifest.Digest.String() || len(inspect.Layers) != 2 {
		t.Errorf("skopeo inspect: %+v, want digest %s", inspect, img.manifest.Digest)
	}
	// skopeo reads our docker-archive: the same config.
	var dinspect struct{ Layers []string }
	dar := writeFile(t, save(t, cs, DockerArchive, Named{Name: busybox, Target: img.manifest}))
	if err := json.Unmarshal(runTool(t, env, skopeo, "inspect", "docker-archive:"+dar), &dinspect); err != nil {
		t.Fatal(err)
	}
	if len(dinspect.Layers) != 2 || dinspect.Layers[0] != img.diffIDs[0].String() {
		t.Errorf("skopeo inspect docker-archive: layers %v, want %v", dinspect.Layers, img.diffIDs)
	}
	raw := runTool(t, env, skopeo, "inspect", "--raw", "--config", "docker-archive:"+dar)
	if string(raw) != string(readBlob(t, cs, img.config)) {
		t.Errorf("skopeo's config of our docker-archive differs from ours")
	}

	// (3) skopeo copies an OCI layout into both archive formats; Load gives
	// the same config and layers.
	layout := untar(t, oci)
	for _, format := range []string{"docker-archive", "oci-archive"} {
		out := filepath.Join(t.TempDir(), format+".tar")
		runTool(t, env, skopeo, "copy", "--quiet", "oci:"+layout+":latest", format+":"+out+":example.com/team/app:v1")
		dst := newStore(t)
		got := loadFile(t, dst, out)
		if len(got) != 1 || got[0].Name != "example.com/team/app:v1" {
			t.Fatalf("skopeo %s: loaded %+v", format, got)
		}
		// skopeo compresses the plain layer on its way into an OCI
		// destination, so the manifest differs; config and diffIDs do not.
		checkImage(t, dst, got[0].Target, img)
	}
}

func readBlob(t *testing.T, cs *content.Store, desc ocispec.Descriptor) []byte {
	t.Helper()
	b, err := readDocument(cs, desc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
