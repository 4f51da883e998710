package kit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

func TestOCILayout(t *testing.T) {
	skopeo := testenv.RequiresBinary(t, "skopeo")
	umoci := testenv.RequiresBinary(t, "umoci")
	dir := filepath.Join(t.TempDir(), "layout")
	first := kit.OCILayout(t, dir, "first")
	dig := kit.OCILayout(t, dir, "latest")

	run := func(name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.Bytes())
		}
		return out
	}

	for ref, want := range map[string]string{"first": first, "latest": dig} {
		var inspect struct {
			Digest       string
			Architecture string
			Os           string
			Layers       []string
		}
		if err := json.Unmarshal(run(skopeo, "inspect", "oci:"+dir+":"+ref), &inspect); err != nil {
			t.Fatalf("skopeo inspect %s: %v", ref, err)
		}
		if inspect.Digest != want || inspect.Architecture != runtime.GOARCH || inspect.Os != "linux" || len(inspect.Layers) != 1 {
			t.Errorf("skopeo inspect %s: %+v, want digest %s", ref, inspect, want)
		}
	}
	var config struct {
		Config struct{ Cmd, Env []string }
	}
	if err := json.Unmarshal(run(skopeo, "inspect", "--config", "oci:"+dir+":latest"), &config); err != nil {
		t.Fatalf("skopeo inspect --config: %v", err)
	}
	if !slices.Equal(config.Config.Cmd, []string{"/bin/sh"}) || len(config.Config.Env) != 1 {
		t.Errorf("config %+v", config.Config)
	}

	// umoci checks every digest and diff ID while it unpacks.
	bundle := filepath.Join(t.TempDir(), "bundle")
	args := []string{"unpack", "--image", dir + ":latest"}
	if os.Geteuid() != 0 {
		args = append(args, "--rootless")
	}
	run(umoci, append(args, bundle)...)
	want, err := os.ReadFile(testenv.Binary(t, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(bundle, "rootfs/probe")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("unpacked rootfs/probe differs from the built probe (%v)", err)
	}
	if target, err := os.Readlink(filepath.Join(bundle, "rootfs/bin/sh")); err != nil || target != "busybox" {
		t.Errorf("unpacked rootfs/bin/sh: %q, %v", target, err)
	}
	if st, err := os.Stat(filepath.Join(bundle, "rootfs/tmp")); err != nil || st.Mode()&os.ModeSticky == 0 {
		t.Errorf("unpacked rootfs/tmp: %v, %v", st, err)
	}
}
