package reference

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that what it accepts round-trips
// through String and Familiar, and that what it rejects it rejects with the
// input named.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"busybox", "busybox:1.36", "library/busybox", "alice/app", "docker.io/busybox",
		"index.docker.io/busybox", "docker.io/example.com/x", "docker.io/localhost/x",
		"localhost:5000/x", "localhost/x", "[::1]:5000/x", "[2001:db8::1]/x:t",
		"127.0.0.1:5000/a/b:c", "quay.io/coreos/etcd:v3.5", "Example.COM/x",
		"busybox@" + dgst, "busybox:1.36@" + dgst, "BusyBox", "busybox:", "busybox@",
		"a//b", "busybox@sha256:abc", "a...b", hex64, "x:" + strings.Repeat("t", 129),
		"", "@", ":", "/", "[::1]", "localhost:5000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("Parse(%q): error %q does not name the input", s, err)
			}
			return
		}
		if r.Domain == "" || r.Path == "" || (r.Tag == "" && r.Digest == "") {
			t.Fatalf("Parse(%q) = %#v: incomplete", s, r)
		}
		for _, form := range []string{r.String(), r.Familiar()} {
			again, err := Parse(form)
			if err != nil {
				t.Fatalf("Parse(%q) = %#v; Parse(%q): %v", s, r, form, err)
			}
			if again != r {
				t.Fatalf("Parse(%q) = %#v; Parse(%q) = %#v", s, r, form, again)
			}
		}
	})
}
