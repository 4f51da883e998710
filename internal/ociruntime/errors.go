package ociruntime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

var (
	errNotFound = errdefs.ErrNotFound
	errInvalid  = errdefs.ErrInvalidArgument
)

// Error is a failed runtime call, in the runtime's own words.
type Error struct {
	Runtime string // the binary's base name: "berth-runtime", "runc"
	Op      string // the verb: "create", "start", …
	ID      string // the container, when the verb names one
	Message string // what the runtime said (its log's last error, or stderr)
	Class   error  // an errdefs class, or nil
	Err     error  // the cause when the runtime could not be run at all
}

func (e *Error) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s %s %q: %s", e.Runtime, e.Op, e.ID, e.Message)
	}
	return fmt.Sprintf("%s %s: %s", e.Runtime, e.Op, e.Message)
}

// Unwrap returns the class and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Class != nil {
		errs = append(errs, e.Class)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Classify returns the errdefs class a runtime's message names, or nil.
// The words are those of runc and berth-runtime (see the package doc).
func Classify(msg string) error {
	m := strings.ToLower(msg)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(m, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("does not exist", "not found", "no such", "not exist"):
		return errdefs.ErrNotFound
	case has("already exists", "container with id exists", "id already in use"):
		return errdefs.ErrAlreadyExists
	case has("not running", "not stopped", "not paused", "not created", "has stopped",
		"is stopped", "is paused", "is running", "is created", "is creating"):
		return errdefs.ErrFailedPrecondition
	case has("invalid"):
		return errdefs.ErrInvalidArgument
	}
	return nil
}

// logEntry is one line of a runtime's JSON log (logrus in runc, slog in
// berth-runtime).
type logEntry struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

// logError returns the message of the last error or fatal line of a JSON
// log, or "".
func logError(data []byte) string {
	var msg string
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var e logEntry
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		switch strings.ToLower(e.Level) {
		case "error", "fatal", "panic":
			if e.Msg != "" {
				msg = e.Msg
			}
		}
	}
	return msg
}

// lastLines returns the last few non-empty lines of a runtime's stderr,
// joined by "; " (at most 3 lines, 1 KiB).
func lastLines(data []byte) string {
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	s := strings.Join(lines, "; ")
	if len(s) > 1024 {
		s = s[len(s)-1024:]
	}
	return s
}
