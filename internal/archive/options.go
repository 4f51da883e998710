package archive

// DefaultMaxBytes bounds a layer when ApplyOptions.MaxBytes is zero.
const DefaultMaxBytes int64 = 64 << 30

// ApplyOptions tunes Apply. The zero value applies a layer to a plain
// directory, refusing device nodes, with a DefaultMaxBytes bound.
type ApplyOptions struct {
	// MaxBytes bounds both the tar stream read and the file contents
	// written (sparse files can expand); beyond it Apply fails. Zero means
	// DefaultMaxBytes; a negative value means no bound.
	MaxBytes int64
	// AllowDevices lets the layer create character and block devices;
	// without it such an entry is an error (fifos are always allowed).
	AllowDevices bool
	// OverlayWhiteouts records whiteouts as overlayfs expects them in an
	// upper directory, instead of deleting from root.
	OverlayWhiteouts bool
	// NoWhiteouts takes every name literally: a ".wh.<name>" entry is an
	// ordinary file, not a deletion. For tars that are copies of files
	// (docker cp), not image layers.
	NoWhiteouts bool
	// NoOverwriteDirNonDir refuses an entry that would replace a directory
	// with a non-directory, or anything else (a symlink too) with a
	// directory, as docker cp does, with errdefs.ErrFailedPrecondition.
	// Without it a layer replaces whatever is in the way.
	NoOverwriteDirNonDir bool
}

func (o ApplyOptions) maxBytes() int64 {
	switch {
	case o.MaxBytes == 0:
		return DefaultMaxBytes
	case o.MaxBytes < 0:
		return -1
	}
	return o.MaxBytes
}
