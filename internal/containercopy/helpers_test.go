package containercopy

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fixture is a container rootfs beside a host directory that nothing may
// touch, in one temporary directory.
type fixture struct {
	rootfs string // the container's "/"
	host   string // outside the rootfs: must stay as it is
	tmp    string
}

// newFixture makes a rootfs with files, directories, symlinks pointing out
// of it in every way, hard links and special files.
func newFixture(t *testing.T) fixture {
	t.Helper()
	tmp := t.TempDir()
	f := fixture{rootfs: filepath.Join(tmp, "rootfs"), host: filepath.Join(tmp, "host"), tmp: tmp}
	mkdirs(t, f.host, f.rootfs+"/etc", f.rootfs+"/data/dir/sub", f.rootfs+"/host")
	write(t, f.host+"/secret", "host secret")
	write(t, f.rootfs+"/etc/passwd", "container passwd")
	write(t, f.rootfs+"/host/secret", "container's own host/secret")
	write(t, f.rootfs+"/data/file", "file")
	write(t, f.rootfs+"/data/dir/a", "a")
	write(t, f.rootfs+"/data/dir/sub/b", "b")
	write(t, f.rootfs+"/data/h1", "linked")
	must(t, os.Link(f.rootfs+"/data/h1", f.rootfs+"/data/h2"))
	must(t, unix.Mkfifo(f.rootfs+"/data/fifo", 0o600))
	for link, target := range map[string]string{
		"/evil":         "/etc",        // the host's /etc, if followed on the host
		"/up":           "../../..",    // the host's /, if followed on the host
		"/esc":          "../host",     // the fixture's host dir, if followed on the host
		"/data/link":    "/data/file",  // absolute, inside
		"/data/dirlink": "dir",         // relative, to a directory
		"/dangling":     "/nowhere/x",  // to nothing
		"/data/updir":   "../../../..", // climbs
	} {
		must(t, os.Symlink(target, f.rootfs+link))
	}
	return f
}

// checkHost fails if anything outside the rootfs changed.
func (f fixture) checkHost(t *testing.T) {
	t.Helper()
	ents, err := os.ReadDir(f.host)
	must(t, err)
	if len(ents) != 1 || ents[0].Name() != "secret" {
		t.Errorf("host dir changed: %v", ents)
	}
	if b, _ := os.ReadFile(f.host + "/secret"); string(b) != "host secret" {
		t.Errorf("host secret changed: %q", b)
	}
	ents, err = os.ReadDir(f.tmp)
	must(t, err)
	for _, e := range ents {
		switch e.Name() {
		case "rootfs", "host", "out":
		default:
			t.Errorf("stray file beside the rootfs: %s", e.Name())
		}
	}
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		must(t, os.MkdirAll(d, 0o755))
	}
}

func write(t *testing.T, p, body string) {
	t.Helper()
	must(t, os.WriteFile(p, []byte(body), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Lstat(p, &st))
	return st
}

// entry is one tar entry, to write or as read.
type entry struct {
	name, link, body string
	typ              byte
	uid, gid         int
	mode             int64
	major, minor     int64
}

func reg(name, body string) entry { return entry{name: name, body: body, typ: tar.TypeReg} }
func dirEnt(name string) entry    { return entry{name: name, typ: tar.TypeDir} }

// tarOf writes entries as a tar.
func tarOf(t *testing.T, ents ...entry) []byte {
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
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode, Uid: e.uid, Gid: e.gid,
			Size: int64(len(e.body)), ModTime: time.Unix(1600000000, 0), Devmajor: e.major, Devminor: e.minor}
		must(t, tw.WriteHeader(hdr))
		_, err := tw.Write([]byte(e.body))
		must(t, err)
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// listTar reads a tar back.
func listTar(t *testing.T, data []byte) []entry {
	t.Helper()
	var out []entry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		must(t, err)
		body, err := io.ReadAll(tr)
		must(t, err)
		out = append(out, entry{name: hdr.Name, link: hdr.Linkname, body: string(body), typ: hdr.Typeflag,
			uid: hdr.Uid, gid: hdr.Gid, mode: hdr.Mode, major: hdr.Devmajor, minor: hdr.Devminor})
	}
}

func names(ents []entry) []string {
	var n []string
	for _, e := range ents {
		n = append(n, e.name)
	}
	return n
}

// out runs Out into a buffer.
func out(t *testing.T, rootfs, p string, opts OutOptions) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	err := Out(context.Background(), rootfs, p, opts, &buf)
	return buf.Bytes(), err
}

func find(ents []entry, name string) (entry, bool) {
	for _, e := range ents {
		if e.name == name {
			return e, true
		}
	}
	return entry{}, false
}
