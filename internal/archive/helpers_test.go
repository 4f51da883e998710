package archive

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ent is a tar entry for tests; a zero Mode gets 0644 (0755 for dirs).
type ent struct {
	name, link, body string
	typ              byte
	mode             int64
	uid, gid         int
	mtime            time.Time
	pax              map[string]string
	major, minor     int64
}

func file(name, body string) ent  { return ent{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) ent         { return ent{name: name, typ: tar.TypeDir} }
func symlink(name, to string) ent { return ent{name: name, link: to, typ: tar.TypeSymlink} }
func hardlink(name, to string) ent {
	return ent{name: name, link: to, typ: tar.TypeLink}
}

// layer builds an uncompressed layer tar from entries.
func layer(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		mtime := e.mtime
		if mtime.IsZero() {
			mtime = time.Unix(1600000000, 0)
		}
		hdr := &tar.Header{
			Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode,
			Uid: e.uid, Gid: e.gid, ModTime: mtime, PAXRecords: e.pax,
			Devmajor: e.major, Devminor: e.minor, Format: tar.FormatPAX,
		}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("tar body %q: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sandbox is a root to apply layers to, beside a "host" directory that
// must never change.
type sandbox struct {
	base, root, host string
}

const secret = "do not touch"

func newSandbox(t testing.TB) sandbox {
	t.Helper()
	base := t.TempDir()
	s := sandbox{base: base, root: filepath.Join(base, "root"), host: filepath.Join(base, "host")}
	for _, d := range []string{s.root, s.host} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.host, "secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkHost fails the test if anything was written beside the root.
func (s sandbox) checkHost(t testing.TB) {
	t.Helper()
	names, err := os.ReadDir(s.base)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Fatalf("host changed: %s holds %v", s.base, names)
	}
	hnames, err := os.ReadDir(s.host)
	if err != nil {
		t.Fatalf("host changed: %v", err)
	}
	if len(hnames) != 1 {
		t.Fatalf("host changed: %s holds %v", s.host, hnames)
	}
	st, err := os.Lstat(filepath.Join(s.host, "secret"))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 || st.Sys() == nil {
		t.Fatalf("host secret changed: %v %v", st, err)
	}
	b, err := os.ReadFile(filepath.Join(s.host, "secret"))
	if err != nil || string(b) != secret {
		t.Fatalf("host secret changed: %q %v", b, err)
	}
}
