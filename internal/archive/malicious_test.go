package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

// maliciousLayers returns layers that try to reach outside root (host is
// the absolute path of the sibling directory that must stay untouched).
// ok marks those that are harmless inside root, so not refused.
func maliciousLayers(t testing.TB, host string) []struct {
	name string
	tar  []byte
	ok   bool
	opts ApplyOptions
} {
	big := strings.Repeat("x", 1<<20)
	xattr := file("x", "")
	xattr.pax = map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/etc"}
	dev := ent{name: "null", typ: tar.TypeChar, major: 1, minor: 3}
	return []struct {
		name string
		tar  []byte
		ok   bool
		opts ApplyOptions
	}{
		{name: "dotdot", tar: layer(t, file("../host/x", "pwned"))},
		{name: "dotdot inside", tar: layer(t, dir("a"), file("a/../../host/x", "pwned"))},
		{name: "absolute", tar: layer(t, file("/etc/passwd", "pwned"))},
		{name: "absolute host", tar: layer(t, file(host+"/x", "pwned"))},
		{name: "symlink to slash", tar: layer(t, symlink("evil", "/"), file("evil/file", "pwned"))},
		{name: "symlink to host", tar: layer(t, symlink("evil", host), file("evil/secret", "pwned"))},
		{name: "symlink dotdot", tar: layer(t, symlink("a", "../../"), file("a/x", "pwned"))},
		{name: "symlink dotdot host", tar: layer(t, symlink("a", "../host"), file("a/secret", "pwned"))},
		{name: "symlink dir entry", tar: layer(t, symlink("a", "../host"), dir("a/d"))},
		{name: "hardlink etc shadow", tar: layer(t, hardlink("l", "/etc/shadow"))},
		{name: "hardlink dotdot", tar: layer(t, hardlink("l", "../host/secret"))},
		{name: "hardlink to escaping symlink", tar: layer(t, symlink("s", host+"/secret"), hardlink("l", "s"))},
		{name: "hardlink through symlink", tar: layer(t, symlink("s", host), hardlink("l", "s/secret"))},
		{name: "symlinked parent", tar: layer(t, dir("d"), symlink("d/sub", host), file("d/sub/secret", "pwned"))},
		{name: "whiteout dotdot", tar: layer(t, file("../.wh.host", ""))},
		{name: "whiteout through symlink", tar: layer(t, symlink("w", host), file("w/.wh.secret", ""))},
		{name: "opaque through symlink", tar: layer(t, symlink("w", host), file("w/.wh..wh..opq", ""))},
		{name: "overlay whiteout through symlink", tar: layer(t, symlink("w", host), file("w/.wh.secret", "")),
			opts: ApplyOptions{OverlayWhiteouts: true}},
		{name: "device refused", tar: layer(t, dev)},
		{name: "overlay xattr", tar: layer(t, xattr)},
		{name: "bomb", tar: layer(t, file("big", big)), opts: ApplyOptions{MaxBytes: 64 << 10}},
		{name: "opaque root", tar: layer(t, file(".wh..wh..opq", ""), file("a", "")), ok: true},
		{name: "replace symlink by file", tar: layer(t, symlink("f", host+"/secret"), file("f", "pwned")), ok: true},
		{name: "replace symlink by dir", tar: layer(t, symlink("f", host), dir("f"), file("f/secret", "x")), ok: true},
		{name: "dangling symlink then fifo", tar: layer(t, symlink("f", host+"/new"), ent{name: "f", typ: tar.TypeFifo}), ok: true},
	}
}

func TestApplyMalicious(t *testing.T) {
	testenv.RequiresRoot(t)
	etcPasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range maliciousLayers(t, "") {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			layers := maliciousLayers(t, s.host) // with the real host path
			var data []byte
			for _, l := range layers {
				if l.name == tc.name {
					data = l.tar
				}
			}
			// A lower layer that opaque and whiteouts may remove.
			if err := os.WriteFile(filepath.Join(s.root, "lower"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Apply(context.Background(), s.root, bytes.NewReader(data), tc.opts)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Apply: %v", err)
			case !tc.ok && err == nil:
				t.Fatal("Apply succeeded, want refusal")
			case !tc.ok && !errdefs.IsInvalidArgument(err):
				t.Fatalf("Apply: %v, want an invalid argument", err)
			case !tc.ok && !strings.Contains(err.Error(), "entry \""):
				t.Fatalf("Apply: %v, does not name the entry", err)
			}
			t.Logf("Apply: %v", err)
			s.checkHost(t)
			if b, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(b, etcPasswd) {
				t.Fatal("/etc/passwd changed")
			}
		})
	}
}
