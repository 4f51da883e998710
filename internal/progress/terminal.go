package progress

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// terminalFD returns the file descriptor of w when w is an *os.File open
// on a terminal.
func terminalFD(w io.Writer) (int, bool) {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return -1, false
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return -1, false
	}
	return fd, true
}

// terminalWidth returns the columns of the terminal on fd, or 0.
func terminalWidth(fd int) int {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
