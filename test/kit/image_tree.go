package kit

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// A Tree is what an unpacked image's rootfs must hold: every path below the
// root (slash-separated, relative: "bin/sh"), and what it is.
type Tree map[string]Node

// A Node is one path of a Tree.
type Node struct {
	Mode     fs.FileMode       // type, permission and setuid/setgid/sticky bits, as os.Lstat tells them
	UID, GID int               // owner
	Size     int64             // regular files
	Digest   digest.Digest     // regular files: the sha256 of the content
	Target   string            // symlinks: the link's text
	HardLink string            // regular files: another path of the tree that must be the same inode, or ""
	Xattrs   map[string]string // user.* extended attributes
}

// ExpectedTree is the rootfs that img's layers, applied in order, make. It
// is worked out from the kit's definitions of the layers, not from their
// blobs, applying OCI's rules: an entry replaces what was at its path (a
// directory over a directory only changes its metadata), ".wh.<name>"
// deletes <name> and all below it, ".wh..wh..opq" empties its directory of
// what the lower layers put there, and a hard link names the same inode as
// its target in the same layer.
func ExpectedTree(t testing.TB, img Image) Tree {
	t.Helper()
	if img.def == nil {
		t.Fatalf("kit: ExpectedTree: image %s:%s was not made by the kit", img.Layout, img.Ref)
	}
	tree, err := expectedTree(img.def)
	if err != nil {
		t.Fatalf("kit: ExpectedTree of %s: %v", img.Ref, err)
	}
	return tree
}

// treeNode is a Node while layers are applied: the inode tells hard links.
type treeNode struct {
	Node
	inode int
}

func expectedTree(def *imageDef) (Tree, error) {
	nodes := map[string]*treeNode{}
	inodes := 0
	remove := func(p string) {
		if n, ok := nodes[p]; ok && n.Mode.IsDir() {
			for q := range nodes {
				if strings.HasPrefix(q, p+"/") {
					delete(nodes, q)
				}
			}
		}
		delete(nodes, p)
	}
	for i, l := range def.layers {
		added := map[string]bool{}
		for _, e := range l.entries {
			dir, base := path.Dir(e.name), path.Base(e.name)
			// As in real layers, parents come first in the layer itself: a
			// dir an unpacker makes up would hide the lower one's metadata
			// in an overlay.
			if dir != "." {
				if p, ok := nodes[dir]; !ok || !p.Mode.IsDir() || !added[dir] {
					return nil, fmt.Errorf("layer %d: %s: parent %s is not a directory of this layer", i, e.name, dir)
				}
			}
			switch {
			case base == ".wh..wh..opq":
				for q := range nodes {
					if strings.HasPrefix(q, dir+"/") && !added[q] {
						delete(nodes, q)
					}
				}
				continue
			case strings.HasPrefix(base, ".wh."):
				remove(path.Join(dir, strings.TrimPrefix(base, ".wh.")))
				continue
			}
			n := &treeNode{Node: Node{UID: e.uid, GID: e.gid, Xattrs: e.xattrs}}
			switch e.typeflag {
			case tar.TypeDir:
				n.Mode = fs.ModeDir | e.mode
				if old, ok := nodes[e.name]; ok && old.Mode.IsDir() {
					old.Node = n.Node // metadata only: the children stay
					added[e.name] = true
					continue
				}
			case tar.TypeReg:
				d, size, err := e.content.digest()
				if err != nil {
					return nil, fmt.Errorf("layer %d: %s: %w", i, e.name, err)
				}
				inodes++
				n.Mode, n.Size, n.Digest, n.inode = e.mode, size, d, inodes
			case tar.TypeSymlink:
				n.Mode, n.Target = fs.ModeSymlink|0o777, e.target
			case tar.TypeFifo:
				n.Mode = fs.ModeNamedPipe | e.mode
			case tar.TypeLink:
				target, ok := nodes[e.target]
				if !ok || !added[e.target] || !target.Mode.IsRegular() {
					return nil, fmt.Errorf("layer %d: hard link %s to %s: no regular file of this layer there", i, e.name, e.target)
				}
				copied := *target
				n = &copied
			default:
				return nil, fmt.Errorf("layer %d: %s: type %q not supported by the kit", i, e.name, e.typeflag)
			}
			remove(e.name)
			nodes[e.name] = n
			added[e.name] = true
		}
	}

	tree := Tree{}
	first := map[int]string{} // inode → its first path, in lexical order
	for _, p := range slices.Sorted(maps.Keys(nodes)) {
		n := nodes[p]
		if n.inode != 0 {
			if f, ok := first[n.inode]; ok {
				n.HardLink = f
			} else {
				first[n.inode] = p
			}
		}
		tree[p] = n.Node
	}
	return tree, nil
}

// CheckTree fails t unless the directory root holds exactly the paths of
// want, each of the type, mode, size, content, link target, user.* xattrs
// and (when the test runs as root) owner want says, with hard links where
// want has them. Modification times are not checked. It reports up to 25
// differences.
func CheckTree(t testing.TB, root string, want Tree) {
	t.Helper()
	var diffs []string
	report := func(format string, args ...any) {
		diffs = append(diffs, fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		w, ok := want[rel]
		if !ok {
			report("%s: present, want nothing there", rel)
			return nil
		}
		for _, d := range checkNode(root, rel, w) {
			report("%s: %s", rel, d)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("kit: CheckTree: walk %s: %v", root, err)
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if !seen[p] {
			report("%s: missing (want %v)", p, want[p].Mode)
		}
	}
	if len(diffs) == 0 {
		return
	}
	slices.Sort(diffs)
	more := ""
	if len(diffs) > 25 {
		more = fmt.Sprintf("\n… and %d more", len(diffs)-25)
		diffs = diffs[:25]
	}
	t.Errorf("kit: the tree at %s differs from the image's:\n%s%s", root, strings.Join(diffs, "\n"), more)
}

// checkNode compares the path rel below root with w.
func checkNode(root, rel string, w Node) []string {
	p := filepath.Join(root, rel)
	st, err := os.Lstat(p)
	if err != nil {
		return []string{err.Error()}
	}
	var diffs []string
	if st.Mode() != w.Mode {
		return []string{fmt.Sprintf("mode %v, want %v", st.Mode(), w.Mode)}
	}
	sys := st.Sys().(*syscall.Stat_t)
	if os.Geteuid() == 0 && (int(sys.Uid) != w.UID || int(sys.Gid) != w.GID) {
		diffs = append(diffs, fmt.Sprintf("owner %d:%d, want %d:%d", sys.Uid, sys.Gid, w.UID, w.GID))
	}
	switch {
	case w.Mode.IsRegular():
		if st.Size() != w.Size {
			diffs = append(diffs, fmt.Sprintf("size %d, want %d", st.Size(), w.Size))
		} else if d, err := fileDigest(p); err != nil || d != w.Digest {
			diffs = append(diffs, fmt.Sprintf("content %s (%v), want %s", d, err, w.Digest))
		}
		if w.HardLink != "" {
			other, err := os.Lstat(filepath.Join(root, w.HardLink))
			if err != nil || !os.SameFile(st, other) {
				diffs = append(diffs, fmt.Sprintf("not a hard link of %s (%v)", w.HardLink, err))
			}
		}
	case w.Mode&fs.ModeSymlink != 0:
		if target, err := os.Readlink(p); err != nil || target != w.Target {
			diffs = append(diffs, fmt.Sprintf("link to %q (%v), want %q", target, err, w.Target))
		}
	}
	if w.Mode&fs.ModeSymlink == 0 {
		got, err := userXattrs(p)
		if err != nil {
			diffs = append(diffs, err.Error())
		} else if !maps.Equal(got, w.Xattrs) {
			diffs = append(diffs, fmt.Sprintf("xattrs %v, want %v", got, w.Xattrs))
		}
	}
	return diffs
}

func fileDigest(p string) (digest.Digest, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d := digest.SHA256.Digester()
	if _, err := io.Copy(d.Hash(), f); err != nil {
		return "", err
	}
	return d.Digest(), nil
}

// userXattrs returns the user.* extended attributes of p (not following a
// symlink), or nil when it has none.
func userXattrs(p string) (map[string]string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil, fmt.Errorf("list xattrs: %w", err)
	}
	var out map[string]string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if !strings.HasPrefix(name, "user.") {
			continue
		}
		val := make([]byte, 4096)
		m, err := unix.Lgetxattr(p, name, val)
		if err != nil {
			return nil, fmt.Errorf("get xattr %s: %w", name, err)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = string(val[:m])
	}
	return out, nil
}
