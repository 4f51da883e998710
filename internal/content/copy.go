package content

import (
	"errors"
	"fmt"
	"io"

	"github.com/berth-project/berth/internal/errdefs"
	digest "github.com/opencontainers/go-digest"
)

// Fetch opens the source of a blob from offset onwards (a registry GET with a
// Range header, say). offset is 0 unless an earlier ingest is being resumed.
type Fetch func(offset int64) (io.ReadCloser, error)

// Ingest makes sure the blob expected (of size bytes) is in the store,
// reading it through fetch only if it is not. It is what a pull calls per
// blob: when several goroutines or processes ingest the same blob under the
// same ref, one downloads and the others wait, then find it committed and
// return nil without fetching. An interrupted ingest is resumed at its offset.
func (s *Store) Ingest(ref string, expected digest.Digest, size int64, fetch Fetch) error {
	if expected == "" {
		return fmt.Errorf("ingest %q: no expected digest: %w", ref, errdefs.ErrInvalidArgument)
	}
	if _, err := s.Info(expected); err == nil {
		return nil
	}
	w, err := s.Writer(ref, expected, size)
	if errdefs.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return err
	}
	rc, err := fetch(w.Offset())
	if err != nil {
		return errors.Join(fmt.Errorf("fetch %s at %d: %w", expected, w.Offset(), err), w.Close())
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		// Keep what arrived (unless Write discarded it) so a retry resumes.
		return errors.Join(fmt.Errorf("fetch %s: %w", expected, err), w.Close())
	}
	if err := w.Commit(); err != nil && !errdefs.IsAlreadyExists(err) {
		return err
	}
	return nil
}
