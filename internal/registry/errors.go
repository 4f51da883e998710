package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// statusClass maps an HTTP status to an errdefs class.
func statusClass(code int) error {
	switch {
	case code == http.StatusNotFound:
		return errdefs.ErrNotFound
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return errdefs.ErrFailedPrecondition
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return errdefs.ErrUnavailable
	default:
		return errdefs.ErrInvalidArgument
	}
}

// statusError describes a response that is not one of ok; it reads (a
// bounded part of) the body for the registry's error message.
func statusError(what string, resp *http.Response, ok ...int) error {
	err := transport.CheckError(resp, ok...)
	if err == nil {
		return nil
	}
	return classify(what, err)
}

// classify wraps err, from the transport or an HTTP round trip, with what
// (the reference or digest concerned) and an errdefs class.
func classify(what string, err error) error {
	var terr *transport.Error
	switch {
	case errors.As(err, &terr):
		hint := ""
		switch {
		case terr.StatusCode == http.StatusUnauthorized:
			hint = " (401 unauthorized: check the credentials for this registry)"
		case errors.Is(statusClass(terr.StatusCode), errdefs.ErrUnavailable):
			// The registry's own message may hide that it failed.
			hint = fmt.Sprintf(" (registry answered %d %s)", terr.StatusCode, http.StatusText(terr.StatusCode))
		}
		return fmt.Errorf("%s%s: %w: %w", what, hint, statusClass(terr.StatusCode), err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	default:
		return fmt.Errorf("%s: %w: %w", what, errdefs.ErrUnavailable, err)
	}
}
