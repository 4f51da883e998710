package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"testing"

	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// TestRegistryService checks the test registries that scripts/registry.sh
// runs: the open one takes the kit images with their digests intact (zstd
// and plain-tar layers too), the other refuses anonymous clients and lets
// berth:berth-test in.
func TestRegistryService(t *testing.T) {
	skopeo := testenv.RequiresBinary(t, "skopeo")
	open, auth := kit.Registry(t), kit.AuthRegistry(t)

	inspect := func(ref string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(skopeo, append(append([]string{"inspect", "--tls-verify=false"}, args...), "docker://"+ref)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return stderr.String(), err
		}
		var v struct{ Digest string }
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, out)
		}
		return v.Digest, nil
	}

	for _, img := range []kit.Image{kit.BusyboxImage(t, ""), kit.BigImage(t, "")} {
		ref := open + "/berth-test/" + img.Ref + ":1"
		kit.PushImage(t, img, ref)
		kit.PushImage(t, img, ref) // already there: nothing to do
		if d, err := inspect(ref); err != nil || d != img.Digest().String() {
			t.Errorf("%s: digest %s (%v), the layout has %s", ref, d, err, img.Digest())
		}
	}

	get := func(user, password string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+auth+"/v2/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", req.URL, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous GET /v2/ on %s: %d, want 401", auth, code)
	}
	if code := get(kit.RegistryUser, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("GET /v2/ with a wrong password on %s: %d, want 401", auth, code)
	}
	if code := get(kit.RegistryUser, kit.RegistryPassword); code != http.StatusOK {
		t.Errorf("GET /v2/ as %s on %s: %d, want 200", kit.RegistryUser, auth, code)
	}

	img := kit.BusyboxImage(t, "")
	ref := auth + "/berth-test/busybox:1"
	kit.PushImage(t, img, ref)
	if out, err := inspect(ref, "--no-creds"); err == nil {
		t.Errorf("anonymous skopeo inspect %s succeeded: %s", ref, out)
	}
	if d, err := inspect(ref, "--creds", kit.RegistryUser+":"+kit.RegistryPassword); err != nil || d != img.Digest().String() {
		t.Errorf("%s as %s: digest %s (%v), want %s", ref, kit.RegistryUser, d, err, img.Digest())
	}
}
