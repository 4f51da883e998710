package reference

import (
	"errors"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func mustParse(t *testing.T, s string) Reference {
	t.Helper()
	r, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFields(t *testing.T) {
	r := mustParse(t, "localhost:5000/a/b:v1@"+dgst)
	want := Reference{Domain: "localhost:5000", Path: "a/b", Tag: "v1", Digest: dgst}
	if r != want {
		t.Fatalf("got %#v, want %#v", r, want)
	}
	if got := r.Repository(); got != "localhost:5000/a/b" {
		t.Errorf("Repository() = %q", got)
	}
	if !r.IsDigested() {
		t.Error("IsDigested() = false")
	}
}

func TestFetchRef(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                 "docker.io/library/busybox:latest",
		"busybox:1.36":            "docker.io/library/busybox:1.36",
		"busybox@" + dgst:         "docker.io/library/busybox@" + dgst,
		"busybox:1.36@" + dgst:    "docker.io/library/busybox@" + dgst,
		"[::1]:5000/x:t@" + dgst:  "[::1]:5000/x@" + dgst,
		"quay.io/coreos/etcd:v3":  "quay.io/coreos/etcd:v3",
		"index.docker.io/alice/a": "docker.io/alice/a:latest",
	} {
		r := mustParse(t, in)
		if got := r.FetchRef(); got != want {
			t.Errorf("Parse(%q).FetchRef() = %q, want %q", in, got, want)
		}
		if r.IsDigested() != (r.Digest != "") {
			t.Errorf("Parse(%q).IsDigested() = %v", in, r.IsDigested())
		}
	}
}

func TestWithTag(t *testing.T) {
	r := mustParse(t, "busybox")
	r2, err := r.WithTag("1.36")
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.String(); got != "docker.io/library/busybox:1.36" {
		t.Errorf("WithTag: %q", got)
	}
	if r.Tag != "latest" {
		t.Errorf("WithTag changed its receiver: %q", r.Tag)
	}

	d := mustParse(t, "busybox@"+dgst)
	d2, err := d.WithTag("v2")
	if err != nil {
		t.Fatal(err)
	}
	if got := d2.String(); got != "docker.io/library/busybox:v2@"+dgst {
		t.Errorf("WithTag on a digested reference: %q", got)
	}

	for _, bad := range []string{"", "-x", ".x", "a b", "a/b", "a:b"} {
		_, err := r.WithTag(bad)
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("WithTag(%q): err = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var r Reference
	if r.String() != "" || r.Familiar() != "" || r.IsDigested() {
		t.Errorf("zero Reference: String %q, Familiar %q, IsDigested %v", r.String(), r.Familiar(), r.IsDigested())
	}
}
