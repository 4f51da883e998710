package overlay

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/mount"
)

// Supported reports whether the filesystem under root can hold overlay
// upper directories, by making (and dropping) a detached overlay mount in a
// scratch directory there. An error wraps errdefs.ErrNotImplemented when
// overlay refused; the engine then falls back to the native snapshotter.
func Supported(root string) error {
	return SupportedWith(root, Options{})
}

// SupportedWith is Supported for a snapshotter with opts (UserXattr: the
// check mount asks for userxattr too).
func SupportedWith(root string, opts Options) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("overlay check in %s: %w", root, err)
	}
	dir, err := os.MkdirTemp(root, "overlay-check-")
	if err != nil {
		return fmt.Errorf("overlay check in %s: %w", root, err)
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"lower", "upper", "work"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return fmt.Errorf("overlay check in %s: %w", root, err)
		}
	}
	o := []string{
		"lowerdir=" + filepath.Join(dir, "lower"),
		"upperdir=" + filepath.Join(dir, "upper"),
		"workdir=" + filepath.Join(dir, "work"),
	}
	if opts.UserXattr {
		o = append(o, "userxattr")
	}
	f, err := mount.Detached(mount.Mount{Type: "overlay", Source: "overlay", Options: o})
	if err != nil {
		return fmt.Errorf("overlay on %s: %w: %w", root, errdefs.ErrNotImplemented, err)
	}
	f.Close()
	return nil
}
