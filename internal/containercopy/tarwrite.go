package containercopy

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/pathrs"
)

// capabilityXattr is the one extended attribute a copy carries, as docker's
// does: file capabilities.
const capabilityXattr = "security.capability"

// fileID names an inode, to find the hard links of a file.
type fileID struct{ dev, ino uint64 }

// tarWriter writes a tree to a tar stream without ever following a symlink
// and without opening anything but regular files and directories (a
// device node opened by mistake can act: a watchdog, a tape).
type tarWriter struct {
	ctx   context.Context
	tw    *tar.Writer
	links map[fileID]string // first name written of each multiply-linked file
	buf   []byte
}

func newTarWriter(ctx context.Context, w io.Writer) *tarWriter {
	return &tarWriter{ctx: ctx, tw: tar.NewWriter(w), links: map[fileID]string{}, buf: make([]byte, 128<<10)}
}

// close writes the end of the archive.
func (t *tarWriter) close() error { return t.tw.Close() }

// add writes the file that the O_PATH handle f refers to under name, and
// when it is a directory everything below it. Sockets are skipped, as
// docker skips them.
func (t *tarWriter) add(f *os.File, name string) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, 0),
		Format:  tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		return t.addChildren(f, name)
	case unix.S_IFREG:
		return t.addFile(f, hdr, st)
	case unix.S_IFLNK:
		target, err := readlink(f)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	default: // sockets
		return nil
	}
	return t.tw.WriteHeader(hdr)
}

// addChildren writes the entries of the directory f (O_PATH), in name
// order, each opened in f without following it.
func (t *tarWriter) addChildren(f *os.File, name string) error {
	fd, err := unix.Openat(int(f.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", f.Name(), err)
	}
	d := os.NewFile(uintptr(fd), f.Name())
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", f.Name(), err)
	}
	sort.Strings(names)
	for _, n := range names {
		c, err := openNoFollow(d, n)
		if errors.Is(err, unix.ENOENT) {
			continue // removed since the listing
		}
		if err != nil {
			return fmt.Errorf("open %s: %w", path.Join(f.Name(), n), err)
		}
		err = t.add(c, name+"/"+n) // "./x" under ".", as tar -C dir . names it
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// addFile writes a regular file, or a hard link to one already written.
// The file is reopened for reading through its O_PATH handle, which checks
// that it is still the inode stat'ed.
func (t *tarWriter) addFile(f *os.File, hdr *tar.Header, st unix.Stat_t) error {
	id := fileID{dev: st.Dev, ino: st.Ino}
	if st.Nlink > 1 {
		if first, ok := t.links[id]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return t.tw.WriteHeader(hdr)
		}
		t.links[id] = hdr.Name
	}
	r, err := pathrs.Reopen(f, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer r.Close()
	hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	if capa, ok := getxattr(r, capabilityXattr); ok {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr." + capabilityXattr: capa}
	}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	// The header holds the size stat'ed: a file that grows since is cut
	// there, one that shrinks is padded with zeros (as GNU tar does).
	n, err := io.CopyBuffer(t.tw, io.LimitReader(r, hdr.Size), t.buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if n < hdr.Size {
		if _, err := io.CopyBuffer(t.tw, io.LimitReader(zeros{}, hdr.Size-n), t.buf); err != nil {
			return err
		}
	}
	return nil
}

// getxattr reads the extended attribute name of f, if it has it.
func getxattr(f *os.File, name string) (string, bool) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Fgetxattr(int(f.Fd()), name, buf)
		if errors.Is(err, unix.ERANGE) && len(buf) < 64<<10 {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err != nil {
			return "", false
		}
		return string(buf[:n]), true
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
