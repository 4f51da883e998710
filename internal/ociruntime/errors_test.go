package ociruntime

import (
	"errors"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`container "x" does not exist: not found`, errdefs.ErrNotFound},
		{`container does not exist`, errdefs.ErrNotFound},
		{`runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH`, errdefs.ErrNotFound},
		{`open /b/config.json: no such file or directory`, errdefs.ErrNotFound},
		{`container "x" already exists`, errdefs.ErrAlreadyExists},
		{`container with id exists: x`, errdefs.ErrAlreadyExists},
		{`cannot start container "x": it is stopped: failed precondition`, errdefs.ErrFailedPrecondition},
		{`cannot start a container that has stopped`, errdefs.ErrFailedPrecondition},
		{`cannot delete container x that is not stopped: running`, errdefs.ErrFailedPrecondition},
		{`container not running`, errdefs.ErrFailedPrecondition},
		{`container id "a/b" is invalid: use letters`, errdefs.ErrInvalidArgument},
		{`permission denied`, nil},
	} {
		got := Classify(tc.msg)
		if got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.msg, got, tc.want)
		}
	}
}

func TestLogError(t *testing.T) {
	log := []byte(`{"level":"warning","msg":"w","time":"t"}
{"level":"error","msg":"first","time":"t"}
not json
{"level":"error","msg":"container \"x\" does not exist","time":"t"}
{"level":"info","msg":"later","time":"t"}
`)
	if got, want := logError(log), `container "x" does not exist`; got != want {
		t.Errorf("logError = %q, want %q", got, want)
	}
	if got := logError([]byte("plain text\n")); got != "" {
		t.Errorf("logError of text = %q, want empty", got)
	}
}

func TestErrorUnwrap(t *testing.T) {
	cause := errors.New("cause")
	err := error(&Error{Runtime: "runc", Op: "start", ID: "x", Message: "container does not exist", Class: errdefs.ErrNotFound, Err: cause})
	if !errors.Is(err, errdefs.ErrNotFound) || !errors.Is(err, cause) {
		t.Errorf("%v: class or cause lost", err)
	}
	if got, want := err.Error(), `runc start "x": container does not exist`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLastLines(t *testing.T) {
	if got, want := lastLines([]byte("a\n\nb\nc\nd\n")), "b; c; d"; got != want {
		t.Errorf("lastLines = %q, want %q", got, want)
	}
}
