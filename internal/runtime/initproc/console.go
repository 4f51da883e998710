package initproc

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/pathrs"
	"github.com/berth-project/berth/internal/linux/pty"
)

// setupConsole opens a pty in the container's devpts, sends its master to
// the runtime's console channel and makes the slave the process's
// controlling terminal and stdio. For a container's init the slave is also
// bind-mounted on /dev/console.
func setupConsole(channel *os.File, p *specs.Process, devConsole bool) error {
	defer channel.Close()
	master, slavePath, err := pty.Open("/dev/ptmx")
	if err != nil {
		return err
	}
	defer master.Close()
	if p.ConsoleSize != nil {
		ws := &unix.Winsize{Row: uint16(p.ConsoleSize.Height), Col: uint16(p.ConsoleSize.Width)}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("set console size: %w", err)
		}
	}
	if devConsole {
		if err := bindConsole(slavePath); err != nil {
			return err
		}
	}
	if err := pty.SendFd(channel, master); err != nil {
		return err
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open console %s: %w", slavePath, err)
	}
	defer slave.Close()
	return pty.SetControlling(slave)
}

// bindConsole bind-mounts the pty slave on /dev/console through a handle:
// a /dev/console that the image (or a racing container) made a symlink
// would otherwise get the pty mounted wherever it points (CVE-2025-52565).
func bindConsole(slavePath string) error {
	const dst = "/dev/console"
	root, err := pathrs.OpenRoot("/")
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := os.Lstat(dst); os.IsNotExist(err) {
		f, err := root.MkFile(dst, 0o666)
		if err != nil {
			return fmt.Errorf("create %s: %w", dst, err)
		}
		f.Close()
	}
	f, err := root.Open(dst, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("open %s: %w", dst, err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat %s: %w", dst, err)
	}
	if typ := st.Mode & unix.S_IFMT; typ != unix.S_IFREG && typ != unix.S_IFCHR {
		return fmt.Errorf("%s is not a regular file or a device (mode %#o): refusing to mount the console there", dst, st.Mode)
	}
	if err := unix.Mount(slavePath, pathrs.FdPath(f), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", slavePath, dst, err)
	}
	return nil
}
