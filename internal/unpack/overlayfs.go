package unpack

import (
	"strings"

	"github.com/berth-project/berth/internal/linux/mount"
)

// fsconfigMax is the longest option value fsconfig(2) takes (the kernel
// copies at most 256 bytes, with the NUL); mount.Detached passes each option
// through fsconfig.
const fsconfigMax = 255

// detachable rewrites an overlay mount whose "lowerdir=" is too long for
// fsconfig into one "lowerdir+=" option per layer (Linux 6.8 and later), in
// the same order (nearest layer first). A short lowerdir is kept as it is,
// so older kernels still mount shallow chains. A snapshotter's lowerdir
// holds about 5 layers under /var/lib/berth before it is too long.
func detachable(m mount.Mount) mount.Mount {
	if m.Type != "overlay" {
		return m
	}
	var opts []string
	for _, o := range m.Options {
		v, ok := strings.CutPrefix(o, "lowerdir=")
		if !ok || len(v) <= fsconfigMax {
			opts = append(opts, o)
			continue
		}
		for _, d := range splitLowerdir(v) {
			opts = append(opts, "lowerdir+="+d)
		}
	}
	m.Options = opts
	return m
}

// splitLowerdir splits overlay's "a:b:c" at the colons that are not escaped
// ("\:"), unescaping them.
func splitLowerdir(v string) []string {
	var dirs []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case v[i] == ':':
			dirs = append(dirs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	return append(dirs, cur.String())
}
