package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/test/kit"
)

// TestRuntimeBinaryNotWritable is the CVE-2019-5736 regression test: a
// container process (given CAP_SYS_PTRACE, the worst case) grabs
// /proc/<pid>/exe of the runtime while it joins the container for `exec`,
// and once that process is gone tries to reopen it for writing. The runtime
// re-executes itself through a read-only mount of its binary, so the reopen
// must fail (EROFS); on a vulnerable runtime it succeeds. Nothing is ever
// written: the probe only opens and closes.
func TestRuntimeBinaryNotWritable(t *testing.T) {
	r := newRuntime(t)
	// A private copy of the binary: no other runtime process (another
	// test's, or a build) executes it, so once ours are gone a reopen can
	// only fail for the seal (EROFS), not because it runs (ETXTBSY).
	data, err := os.ReadFile(r.bin)
	if err != nil {
		t.Fatal(err)
	}
	r.bin = filepath.Join(t.TempDir(), "berth-runtime")
	if err := os.WriteFile(r.bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	b := kit.NewBundle(t)
	var st unix.Stat_t
	if err := unix.Stat(r.bin, &st); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/out", Type: "bind", Source: out, Options: []string{"rbind", "rw"}})
	c := b.Spec.Process.Capabilities
	for _, set := range []*[]string{&c.Bounding, &c.Effective, &c.Permitted} {
		*set = append(*set, "CAP_SYS_PTRACE")
	}
	b.Spec.Process.Args = []string{"/bin/sh", "-c", "/probe exe-attack 120 " + strconv.FormatUint(st.Ino, 10) + " /out/stop > /out/result.json"}
	id := "exe-protect"
	if errs, code := r.create(b, id); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	t.Cleanup(func() { r.exec(nil, "delete", "-f", id) })
	r.must("start", id)
	for i := 0; i < 10; i++ {
		r.must("exec", id, "/bin/true")
		time.Sleep(50 * time.Millisecond)
	}
	// Every exec is over: let the probe try its handles.
	if err := os.WriteFile(filepath.Join(out, "stop"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.state(id)["status"] != "stopped" {
		if time.Now().After(deadline) {
			t.Fatal("the attacking container did not stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
	data, err = os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Captured, Writable, Errors []string }
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatalf("parse %s: %v", data, err)
	}
	if len(res.Captured) == 0 {
		t.Fatalf("the probe never caught the runtime in the container (result %s): the test proves nothing", data)
	}
	if len(res.Writable) > 0 {
		t.Errorf("the runtime binary could be reopened for writing from the container: %v", res.Writable)
	}
	if !slices.Contains(res.Errors, "EROFS") {
		t.Errorf("reopen errors %v, want EROFS (the read-only seal), not luck", res.Errors)
	}
	r.must("delete", id)
	assertNoLeaks(t, r, id, b)
}
