package containercopy

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// FileNotFoundError is returned when a container path does not exist. Its
// message is docker's ("Could not find the file /x in container"), so that
// the engine can add the container's name as docker does; it is of the
// errdefs.ErrNotFound class.
type FileNotFoundError struct {
	Path string // as the caller gave it
}

func (e *FileNotFoundError) Error() string {
	return "Could not find the file " + e.Path + " in container"
}

// Is makes a FileNotFoundError an errdefs.ErrNotFound.
func (e *FileNotFoundError) Is(target error) bool { return target == errdefs.ErrNotFound }

// lookupError classes an error met while resolving the container path c.
func lookupError(c containerPath, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return &FileNotFoundError{Path: c.given}
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%s in container: a component is not a directory: %w", c.given, errdefs.ErrInvalidArgument)
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s in container: too many levels of symlinks: %w", c.given, errdefs.ErrInvalidArgument)
	}
	return fmt.Errorf("%s in container: %w", c.given, err)
}
