package containercopy

import (
	"path"
	"strings"
)

// containerPath is a path inside the container as docker reads it.
type containerPath struct {
	given string // as the caller gave it, for messages
	abs   string // cleaned and absolute ("/" for the root)
	// follow is set when the path ends in "/" or "/.": its last
	// component is resolved like the others, a symlink followed.
	follow bool
	// contents is set when the path ends in "/." (or is "/"): what is
	// copied is the contents of the directory, not the directory.
	contents bool
}

func parseContainerPath(p string) containerPath {
	c := containerPath{given: p, abs: path.Clean("/" + p)}
	c.contents = c.abs == "/" || endsInDot(p)
	c.follow = c.contents || strings.HasSuffix(p, "/")
	return c
}

// name is the name docker gives the path: its last component, "." for
// the contents of a directory ("/" for the root).
func (c containerPath) name() string {
	if c.abs != "/" && c.contents {
		return "."
	}
	return path.Base(c.abs)
}

// tarName is the name of the path's top entry in a tar of it: its last
// component, or "." for the contents of a directory (the root's too).
func (c containerPath) tarName() string {
	if c.contents {
		return "."
	}
	return path.Base(c.abs)
}

// endsInDot reports whether p ends in "/." (or is "."): it means the
// contents of a directory.
func endsInDot(p string) bool {
	return p == "." || strings.HasSuffix(p, "/.")
}

// assertsDir reports whether p, as a destination, can only be a directory
// (it ends in "/" or "/.").
func assertsDir(p string) bool {
	return strings.HasSuffix(p, "/") || endsInDot(p)
}

// splitDirEntry splits p into its directory and its last component, as
// docker's SplitPathDirEntry: "/a/b/" gives "/a" and "b", "/a/b/." gives
// "/a/b" and ".".
func splitDirEntry(p string) (dir, base string) {
	clean := path.Clean(p)
	if endsInDot(p) {
		clean += "/."
	}
	return path.Dir(clean), path.Base(clean)
}
