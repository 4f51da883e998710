package rootless

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/ns"
)

// EnvUID is set, to the user's host uid, in a berth that runs as root of
// the rootless namespaces, and inherited by what it starts.
const EnvUID = "_BERTH_ROOTLESS_UID"

// HostUID returns the user's host uid when this process runs in berth's
// rootless namespaces (EnvUID set, in a user namespace).
func HostUID() (int, bool) {
	s, ok := os.LookupEnv(EnvUID)
	if !ok {
		return 0, false
	}
	uid, err := strconv.Atoi(s)
	if err != nil || !ns.InUserNamespace() {
		return 0, false
	}
	return uid, true
}

// DataDir is the rootless storage root: $XDG_DATA_HOME/berth, or
// ~/.local/share/berth.
func DataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "berth")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "berth")
}

// ConfigDir is where a rootless berth looks for berth.toml and
// registries.toml: $XDG_CONFIG_HOME/berth, or ~/.config/berth.
func ConfigDir() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "berth")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".config", "berth")
}

// RunDir is the rootless runtime root of the user uid:
// $XDG_RUNTIME_DIR/berth, or /tmp/berth-<uid> without XDG_RUNTIME_DIR.
func RunDir(uid int) string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "berth")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("berth-%d", uid))
}

// ensurePrivateDir makes dir (mode 0700) if missing, and checks that it is a
// directory of this process's uid that nobody else may enter: a shared /tmp
// lets anyone make /tmp/berth-<uid> first.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("rootless runtime dir %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("rootless runtime dir %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("rootless runtime dir %s: %w", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Getuid() || st.Mode&0o077 != 0 {
		return fmt.Errorf("rootless runtime dir %s: not a private directory of uid %d (mode %o, owner %d): %w",
			dir, os.Getuid(), st.Mode, st.Uid, errdefs.ErrFailedPrecondition)
	}
	return nil
}
