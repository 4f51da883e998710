package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/containercopy"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/linux/pathrs"
)

// CopyOptions are `berth cp`'s flags.
type CopyOptions struct {
	// Archive keeps the owners a copy into a container carries (-a);
	// otherwise what is copied in belongs to the container's user.
	Archive bool
	// FollowLink copies what a symlink source points to (-L).
	FollowLink bool
}

// CopyFrom writes to w a tar of the path src in the container the user's
// word s names (`berth cp CTR:SRC -`) and returns the bytes written. The
// container may run or not; its volumes and binds are seen as it sees
// them (see containerFS).
func (e *Engine) CopyFrom(ctx context.Context, s, src string, o CopyOptions, w io.Writer) (int64, error) {
	var n int64
	err := e.withContainerFS(ctx, s, false, func(c Container, rootfs string) error {
		cw := &countWriter{w: w}
		err := containercopy.Out(ctx, rootfs, src, containercopy.OutOptions{FollowLink: o.FollowLink}, cw)
		n = cw.n
		return e.containerEvent(copyError(c, err), c, "archive-path")
	})
	return n, err
}

// CopyOut copies the path src of the container to the host path dst
// (`berth cp CTR:SRC DST`) by docker's rules (containercopy.ExtractTo) and
// returns the bytes of the tar that went through.
func (e *Engine) CopyOut(ctx context.Context, s, src, dst string, o CopyOptions) (int64, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := containercopy.ExtractTo(ctx, dst, pr)
		pr.CloseWithError(err)
		done <- err
	}()
	n, err := e.CopyFrom(ctx, s, src, o, pw)
	pw.CloseWithError(err)
	if xerr := <-done; err == nil && xerr != nil {
		err = fmt.Errorf("copy to %s: %w", dst, xerr)
	}
	return n, err
}

// CopyIn copies the host path src into the container at dst (`berth cp
// SRC CTR:DST`) by docker's rules (containercopy.StatDest, TarPath, In)
// and returns the bytes of the tar that went through.
func (e *Engine) CopyIn(ctx context.Context, s, src, dst string, o CopyOptions) (int64, error) {
	var n int64
	err := e.withContainerFS(ctx, s, true, func(c Container, rootfs string) error {
		dest, err := containercopy.StatDest(rootfs, dst)
		if err != nil {
			return copyError(c, err)
		}
		rc, dir, err := containercopy.TarPath(ctx, src, containercopy.TarOptions{FollowLink: o.FollowLink, Dest: dest})
		if err != nil {
			return err
		}
		defer rc.Close()
		n, err = e.extract(ctx, c, rootfs, dir, rc, o)
		return err
	})
	return n, err
}

// CopyTarIn extracts the tar read from r into the directory dst of the
// container (`berth cp - CTR:DST`), which must exist.
func (e *Engine) CopyTarIn(ctx context.Context, s, dst string, r io.Reader, o CopyOptions) (int64, error) {
	var n int64
	err := e.withContainerFS(ctx, s, true, func(c Container, rootfs string) (err error) {
		n, err = e.extract(ctx, c, rootfs, dst, r, o)
		return err
	})
	return n, err
}

// extract extracts r into dir of c, owned by c's user unless o.Archive.
func (e *Engine) extract(ctx context.Context, c Container, rootfs, dir string, r io.Reader, o CopyOptions) (int64, error) {
	in := containercopy.InOptions{Archive: o.Archive}
	if !o.Archive {
		p, err := readProcess(e.containerDir(c.ID))
		if err != nil {
			return 0, err
		}
		in.UID, in.GID = int(p.User.UID), int(p.User.GID)
	}
	cr := &countReader{r: r}
	err := containercopy.In(ctx, rootfs, dir, cr, in)
	return cr.n, e.containerEvent(copyError(c, err), c, "extract-to-dir")
}

// withContainerFS runs fn on the file system of the container s names,
// with the container locked (no start, stop's cleanup or rm meanwhile).
// forWrite makes a --read-only container's rootfs read-only in it too.
func (e *Engine) withContainerFS(ctx context.Context, s string, forWrite bool, fn func(c Container, rootfs string) error) error {
	c, err := e.container(s)
	if err != nil {
		return err
	}
	unlock, err := e.lockContainer(ctx, c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	sp, err := readSpec(e.containerDir(c.ID))
	if err != nil {
		return err
	}
	readOnly := forWrite && sp.Root != nil && sp.Root.Readonly
	tree, err := e.containerFS(ctx, c, sp, readOnly)
	if err != nil {
		return err
	}
	defer tree.Close()
	return fn(c, pathrs.FdPath(tree))
}

// copyError names the container in containercopy's errors as docker does
// ("Could not find the file /x in container web") and classes a write to
// something read-only.
func copyError(c Container, err error) error {
	var nf *containercopy.FileNotFoundError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nf):
		return fmt.Errorf("%w %s", err, c.Name)
	case errors.Is(err, unix.EROFS):
		return fmt.Errorf("container %s: the destination is on its read-only root filesystem or a read-only volume: %v: %w", c.Name, err, errdefs.ErrFailedPrecondition)
	}
	return err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
