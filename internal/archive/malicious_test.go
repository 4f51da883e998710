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

// maliciousCase is a layer that tries to reach outside root. A refused case
// must fail with an invalid argument naming the entry; an ok case is
// harmless once its symlinks are resolved inside root, and lands (a path
// inside root, when set) must exist afterwards, gone must not.
type maliciousCase struct {
	name        string
	tar         []byte
	ok          bool
	lands, gone string
	opts        ApplyOptions
}

// maliciousLayers returns the cases; host is the absolute path of the
// sibling directory that must stay untouched (symlinks to it resolve to the
// same path below root).
func maliciousLayers(t testing.TB, host string) []maliciousCase {
	big := strings.Repeat("x", 1<<20)
	xattr := file("x", "")
	xattr.pax = map[string]string{"SCHILY.xattr.trusted.overlay.redirect": "/etc"}
	userXattr := file("x", "")
	userXattr.pax = map[string]string{"SCHILY.xattr.user.overlay.opaque": "y"}
	dev := ent{name: "null", typ: tar.TypeChar, major: 1, minor: 3}
	inRoot := strings.TrimPrefix(host, "/") // where host lands below root
	return []maliciousCase{
		{name: "dotdot", tar: layer(t, file("../host/x", "pwned"))},
		{name: "dotdot inside", tar: layer(t, dir("a"), file("a/../../host/x", "pwned"))},
		{name: "absolute", tar: layer(t, file("/etc/passwd", "pwned"))},
		{name: "absolute host", tar: layer(t, file(host+"/x", "pwned"))},
		{name: "hardlink etc shadow", tar: layer(t, hardlink("l", "/etc/shadow"))},
		{name: "hardlink dotdot", tar: layer(t, hardlink("l", "../host/secret"))},
		{name: "hardlink to escaping symlink", tar: layer(t, symlink("s", host+"/secret"), hardlink("l", "s"))},
		{name: "hardlink through symlink", tar: layer(t, symlink("s", host), hardlink("l", "s/secret"))},
		{name: "hardlink to itself through symlink", tar: layer(t, dir("d"), file("d/f", "x"), symlink("s", "d"), hardlink("d/f", "s/f"))},
		{name: "whiteout dotdot", tar: layer(t, file("../.wh.host", ""))},
		{name: "device refused", tar: layer(t, dev)},
		{name: "overlay xattr", tar: layer(t, xattr)},
		{name: "overlay user xattr", tar: layer(t, userXattr)},
		{name: "bomb", tar: layer(t, file("big", big)), opts: ApplyOptions{MaxBytes: 64 << 10}},
		{name: "symlink loop", tar: layer(t, symlink("a", "b"), symlink("b", "a"), file("a/x", "pwned"))},
		{name: "symlink to a file as parent", tar: layer(t, file("f", ""), symlink("s", "f"), file("s/x", "pwned"))},

		// Symlinks along the way resolve inside root, as if it were "/".
		{name: "symlink to slash", tar: layer(t, symlink("evil", "/"), file("evil/file", "pwned")), ok: true, lands: "file"},
		{name: "symlink to host", tar: layer(t, symlink("evil", host), file("evil/secret", "pwned")), ok: true, lands: inRoot + "/secret"},
		{name: "symlink dotdot", tar: layer(t, symlink("a", "../../"), file("a/x", "pwned")), ok: true, lands: "x"},
		{name: "symlink dotdot host", tar: layer(t, symlink("a", "../host"), file("a/secret", "pwned")), ok: true, lands: "host/secret"},
		{name: "symlink dir entry", tar: layer(t, symlink("a", "../host"), dir("a/d")), ok: true, lands: "host/d"},
		{name: "symlinked parent", tar: layer(t, dir("d"), symlink("d/sub", host), file("d/sub/secret", "pwned")), ok: true, lands: inRoot + "/secret"},
		{name: "symlink chain dotdot", tar: layer(t, dir("b"), symlink("a", "b/../../.."), symlink("c", "a"), file("c/x", "pwned")), ok: true, lands: "x"},
		{name: "symlink to proc root", tar: layer(t, symlink("p", "/proc/self/root"), file("p/x", "pwned")), ok: true, lands: "proc/self/root/x"},
		{name: "lib to usr/lib", tar: layer(t, dir("usr"), dir("usr/lib"), symlink("lib", "usr/lib"), file("lib/x", "y")), ok: true, lands: "usr/lib/x"},
		{name: "absolute dangling lib", tar: layer(t, symlink("lib", "/usr/lib"), file("lib/x", "y")), ok: true, lands: "usr/lib/x"},
		{name: "hardlink through symlinked dir", tar: layer(t, dir("usr"), file("usr/f", "y"), symlink("u", "/usr"), hardlink("l", "u/f")), ok: true, lands: "l"},
		{name: "whiteout through symlink", tar: layer(t, symlink("w", host), file("w/.wh.secret", "")), ok: true},
		{name: "whiteout through symlink to slash", tar: layer(t, symlink("w", "/"), file("w/.wh.lower", "")), ok: true, gone: "lower"},
		{name: "opaque through symlink", tar: layer(t, symlink("w", host), file("w/.wh..wh..opq", "")), ok: true},
		{name: "opaque through symlink to slash", tar: layer(t, symlink("w", "/"), file("w/.wh..wh..opq", "")), ok: true, lands: "w", gone: "lower"},
		{name: "overlay whiteout through symlink", tar: layer(t, symlink("w", host), file("w/.wh.secret", "")),
			opts: ApplyOptions{OverlayWhiteouts: true}, ok: true, lands: inRoot + "/secret"},

		// The last component is replaced, never followed.
		{name: "opaque root", tar: layer(t, file(".wh..wh..opq", ""), file("a", "")), ok: true, lands: "a", gone: "lower"},
		{name: "replace symlink by file", tar: layer(t, symlink("f", host+"/secret"), file("f", "pwned")), ok: true, lands: "f"},
		{name: "replace symlink by dir", tar: layer(t, symlink("f", host), dir("f"), file("f/secret", "x")), ok: true, lands: "f/secret"},
		{name: "dangling symlink then fifo", tar: layer(t, symlink("f", host+"/new"), ent{name: "f", typ: tar.TypeFifo}), ok: true, lands: "f"},
	}
}

func TestApplyMalicious(t *testing.T) {
	testenv.RequiresRoot(t)
	etcPasswd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for _, named := range maliciousLayers(t, "") {
		t.Run(named.name, func(t *testing.T) {
			s := newSandbox(t)
			var tc maliciousCase
			for _, l := range maliciousLayers(t, s.host) { // with the real host path
				if l.name == named.name {
					tc = l
				}
			}
			data := tc.tar
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
			if tc.lands != "" {
				if _, err := os.Lstat(filepath.Join(s.root, tc.lands)); err != nil {
					t.Errorf("did not land inside root: %v", err)
				}
			}
			if tc.gone != "" {
				if _, err := os.Lstat(filepath.Join(s.root, tc.gone)); !os.IsNotExist(err) {
					t.Errorf("%s still there: %v", tc.gone, err)
				}
			}
			s.checkHost(t)
			if b, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(b, etcPasswd) {
				t.Fatal("/etc/passwd changed")
			}
		})
	}
}
