package reference

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

const (
	hex64  = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa"
	dgst   = "sha256:" + hex64
	long64 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 64 chars
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in       string
		want     string // String(), when valid
		familiar string // Familiar(), when valid and checked
		err      string // error substring, when invalid
	}{
		// Docker Hub normalisation.
		{in: "busybox", want: "docker.io/library/busybox:latest", familiar: "busybox:latest"},
		{in: "busybox:1.36", want: "docker.io/library/busybox:1.36", familiar: "busybox:1.36"},
		{in: "library/busybox", want: "docker.io/library/busybox:latest", familiar: "busybox:latest"},
		{in: "docker.io/busybox", want: "docker.io/library/busybox:latest", familiar: "busybox:latest"},
		{in: "docker.io/library/busybox:latest", want: "docker.io/library/busybox:latest"},
		{in: "index.docker.io/busybox", want: "docker.io/library/busybox:latest"},
		{in: "index.docker.io/alice/app:v2", want: "docker.io/alice/app:v2", familiar: "alice/app:v2"},
		{in: "alice/app", want: "docker.io/alice/app:latest", familiar: "alice/app:latest"},
		{in: "alice/team/app", want: "docker.io/alice/team/app:latest", familiar: "alice/team/app:latest"},
		{in: "library/a/b", want: "docker.io/library/a/b:latest", familiar: "library/a/b:latest"},
		{in: "docker.io/example.com/app", want: "docker.io/example.com/app:latest", familiar: "docker.io/example.com/app:latest"},
		{in: "docker.io/localhost/app", want: "docker.io/localhost/app:latest", familiar: "docker.io/localhost/app:latest"},
		{in: "my_app-1.x", want: "docker.io/library/my_app-1.x:latest", familiar: "my_app-1.x:latest"},
		{in: "a__b", want: "docker.io/library/a__b:latest"},
		{in: "a--b", want: "docker.io/library/a--b:latest"},
		{in: "busybox:V1_Upper.tag-x", want: "docker.io/library/busybox:V1_Upper.tag-x"},
		{in: "busybox:_x", want: "docker.io/library/busybox:_x"},
		{in: "localhost", want: "docker.io/library/localhost:latest"},
		{in: "localhost:5000", want: "docker.io/library/localhost:5000"},
		// Digests: the digest is kept, a tag beside it too.
		{in: "busybox@" + dgst, want: "docker.io/library/busybox@" + dgst, familiar: "busybox@" + dgst},
		{in: "busybox:1.36@" + dgst, want: "docker.io/library/busybox:1.36@" + dgst, familiar: "busybox:1.36@" + dgst},
		// Other registries.
		{in: "localhost/x", want: "localhost/x:latest", familiar: "localhost/x:latest"},
		{in: "localhost:5000/x", want: "localhost:5000/x:latest", familiar: "localhost:5000/x:latest"},
		{in: "localhost:5000/x:t@" + dgst, want: "localhost:5000/x:t@" + dgst},
		{in: "127.0.0.1:5000/a/b", want: "127.0.0.1:5000/a/b:latest"},
		{in: "registry:5000/x", want: "registry:5000/x:latest"},
		{in: "quay.io/coreos/etcd:v3.5", want: "quay.io/coreos/etcd:v3.5", familiar: "quay.io/coreos/etcd:v3.5"},
		{in: "ghcr.io/org/repo/img@" + dgst, want: "ghcr.io/org/repo/img@" + dgst},
		{in: "Example.COM/x", want: "Example.COM/x:latest"},
		{in: "[::1]:5000/x", want: "[::1]:5000/x:latest", familiar: "[::1]:5000/x:latest"},
		{in: "[2001:db8::1]/x:t", want: "[2001:db8::1]/x:t"},
		{in: strings.Repeat("a", 247), want: "docker.io/library/" + strings.Repeat("a", 247) + ":latest"},
		{in: "x/" + strings.Repeat("a", 253), want: "docker.io/x/" + strings.Repeat("a", 253) + ":latest"},
		{in: "x:" + strings.Repeat("t", 128), want: "docker.io/library/x:" + strings.Repeat("t", 128)},

		// Invalid.
		{in: "", err: "empty reference"},
		{in: " busybox", err: "white space"},
		{in: "busy box", err: "white space"},
		{in: "BusyBox", err: `repository name "BusyBox" must be lowercase`},
		{in: "alice/App", err: "must be lowercase"},
		{in: "quay.io/Org/app", err: `"Org/app" must be lowercase`},
		{in: "busybox:", err: `tag "": a tag is 1-128`},
		{in: "busybox:-x", err: `tag "-x"`},
		{in: "busybox:.x", err: `tag ".x"`},
		{in: "busybox:a+b", err: `tag "a+b"`},
		{in: "x:" + strings.Repeat("t", 129), err: "1-128 characters"},
		{in: "busybox@", err: `digest ""`},
		{in: "busybox@sha256:abc", err: "invalid checksum digest length"},
		{in: "busybox@sha256:" + strings.ToUpper(hex64), err: "invalid checksum digest format"},
		{in: "busybox@md5:" + hex64, err: `only sha256 is supported, not "md5"`},
		{in: "busybox@sha512:" + hex64 + hex64, err: "only sha256 is supported"},
		{in: "busybox@" + hex64, err: "invalid checksum digest format"},
		{in: "busybox@" + dgst + "@" + dgst, err: "more than one '@'"},
		{in: ":latest", err: "empty repository name"},
		{in: "@" + dgst, err: "empty repository name"},
		{in: "/busybox", err: "invalid reference format"},
		{in: "busybox/", err: "invalid reference format"},
		{in: "a//b", err: "invalid reference format"},
		{in: "-busybox", err: "invalid reference format"},
		{in: "a...b", err: "invalid reference format"},
		{in: "a___b", err: "invalid reference format"},
		{in: "localhost:5000/", err: "invalid reference format"},
		{in: "[::1/x", err: "invalid reference format"},
		{in: "busy%box", err: "invalid reference format"},
		{in: long64, err: "64-byte hexadecimal"},
		{in: "x/" + strings.Repeat("a", 254), err: "more than 255 characters"},
		{in: strings.Repeat("a", 248), err: "more than 255 characters"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want error containing %q", tc.in, got, tc.err)
				continue
			}
			if !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("Parse(%q): error %q, want it to name the input and contain %q", tc.in, err, tc.err)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("Parse(%q): error %q is not ErrInvalidArgument", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		if tc.familiar != "" && got.Familiar() != tc.familiar {
			t.Errorf("Parse(%q).Familiar() = %q, want %q", tc.in, got.Familiar(), tc.familiar)
		}
	}
}
