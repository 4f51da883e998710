package pathrs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzOpen resolves random paths over the evil tree: the result, when there
// is one, is always inside the root.
func FuzzOpen(f *testing.F) {
	root := evilTree(f, f.TempDir())
	r := openTestRoot(f, root)
	for _, seed := range []string{
		"etc/passwd", "a/a/a", "x/etc", "dir/up/../..", "/../../..", "in/up/inabs/up",
		"dangling/x", "loop1/x", "hostdev/null", "./a/./dir//up/", "..", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		g, err := r.Open(p, unix.O_PATH)
		if err != nil {
			return
		}
		defer g.Close()
		assertInside(t, root, g, "Open("+p+")")
	})
}
