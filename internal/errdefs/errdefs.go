// Package errdefs defines the classes of error that Berth's layers return.
//
// Code wraps one of the sentinel errors with context
// (fmt.Errorf("container %q: %w", id, errdefs.ErrNotFound)); the edges map a class
// once: to an exit code in the CLIs and to a gRPC code in the CRI server.
package errdefs

import "errors"

// The error classes. Test with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrUnavailable        = errors.New("unavailable")
	ErrNotImplemented     = errors.New("not implemented")
)

// IsNotFound reports whether err is of the NotFound class.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsAlreadyExists reports whether err is of the AlreadyExists class.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// IsInvalidArgument reports whether err is of the InvalidArgument class.
func IsInvalidArgument(err error) bool { return errors.Is(err, ErrInvalidArgument) }

// IsFailedPrecondition reports whether err is of the FailedPrecondition class.
func IsFailedPrecondition(err error) bool { return errors.Is(err, ErrFailedPrecondition) }
