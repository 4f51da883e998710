package kit

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/testenv"
)

// HostBusybox is the statically linked busybox copied into every rootfs
// (Debian's busybox-static package).
const HostBusybox = "/bin/busybox"

// Applets are the busybox applets linked in /bin of every rootfs.
var Applets = []string{
	"sh", "ls", "cat", "echo", "sleep", "true", "false", "id", "hostname", "ps",
	"mount", "grep", "env", "pwd", "touch", "mkdir", "rm", "head", "wc", "stat",
	"readlink", "kill", "printf", "test", "[", "nc", "httpd", "wget", "top",
	"uname", "date", "seq", "yes",
}

// Passwd and Group are the rootfs's /etc/passwd and /etc/group. User berth
// (1000:1000) is also a member of group extra (2000).
const (
	Passwd = "root:x:0:0:root:/root:/bin/sh\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n" +
		"berth:x:1000:1000:berth:/home/berth:/bin/sh\n"
	Group = "root:x:0:\n" +
		"tty:x:5:\n" +
		"nogroup:x:65534:\n" +
		"berth:x:1000:\n" +
		"extra:x:2000:berth\n"
)

// rootfsDirs are created with these modes (not subject to the umask; Go
// spells the sticky bit os.ModeSticky, not 0o1000).
var rootfsDirs = []struct {
	path string
	mode os.FileMode
}{
	{"bin", 0o755}, {"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755},
	{"tmp", os.ModeSticky | 0o777}, {"etc", 0o755}, {"root", 0o700}, {"home", 0o755},
	{"home/berth", 0o755}, {"var", 0o755}, {"run", 0o755},
}

// Rootfs builds a minimal rootfs at dir (created if missing): /bin/busybox
// with the Applets linked to it, the built probe at /probe, /etc/passwd and
// /etc/group, and the empty directories /proc /sys /dev /tmp /etc /root /home
// /var /run. /home/berth belongs to 1000:1000 when the test runs as root. It
// needs "make build" (for bin/probe) and the host's busybox.
func Rootfs(t testing.TB, dir string) {
	t.Helper()
	probe := testenv.Binary(t, "probe")
	if err := buildRootfs(dir, probe); err != nil {
		t.Fatalf("kit: build rootfs at %s: %v", dir, err)
	}
}

func buildRootfs(dir, probe string) error {
	if _, err := os.Stat(HostBusybox); err != nil {
		return fmt.Errorf("%s is missing; install Debian's busybox-static (apt-get install busybox-static): %w", HostBusybox, err)
	}
	for _, d := range append([]struct {
		path string
		mode os.FileMode
	}{{".", 0o755}}, rootfsDirs...) {
		p := filepath.Join(dir, d.path)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", p, err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	if os.Geteuid() == 0 {
		if err := os.Lchown(filepath.Join(dir, "home/berth"), 1000, 1000); err != nil {
			return fmt.Errorf("chown home/berth: %w", err)
		}
	}
	if err := copyFile(HostBusybox, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range Applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return fmt.Errorf("link applet %s: %w", a, err)
		}
	}
	if err := copyFile(probe, filepath.Join(dir, "probe"), 0o755); err != nil {
		return err
	}
	for name, text := range map[string]string{"etc/passwd": Passwd, "etc/group": Group} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// busyboxLayer is the rootfs that Rootfs builds, as a gzip layer: the same
// directories, files and links, with owners 0:0 but for /home/berth
// (1000:1000), whoever builds it.
func busyboxLayer(probe string) *layerDef {
	l := &layerDef{comment: "busybox rootfs with /probe", mediaType: v1.MediaTypeImageLayerGzip}
	add := func(e entry) { l.entries = append(l.entries, e) }
	for _, d := range rootfsDirs {
		e := dirEntry(d.path, d.mode)
		if d.path == "home/berth" {
			e = e.by(1000, 1000)
		}
		add(e)
	}
	add(fileEntry("bin/busybox", 0o755, hostFile(HostBusybox)))
	for _, a := range Applets {
		add(symlinkEntry("bin/"+a, "busybox"))
	}
	add(fileEntry("etc/group", 0o644, literal(Group)))
	add(fileEntry("etc/passwd", 0o644, literal(Passwd)))
	add(fileEntry("probe", 0o755, hostFile(probe)))
	return l
}

// copyFile copies the regular file src to a new file dst with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dst, err)
	}
	return nil
}
