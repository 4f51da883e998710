package cgroups

import (
	"errors"
	"testing"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestResolvePath(t *testing.T) {
	ok := []struct{ in, id, want string }{
		{"", "abc", "/berth/abc"},
		{"x", "id", "/berth/x"},
		{"a/b", "id", "/berth/a/b"},
		{"a/../b", "id", "/berth/b"},
		{"./a//b/", "id", "/berth/a/b"},
		{"/x/y", "id", "/x/y"},
		{"/x/../y", "id", "/y"},
		{"//x///y/.", "id", "/x/y"},
		{"/kubepods/pod1/c1", "id", "/kubepods/pod1/c1"},
	}
	for _, tc := range ok {
		got, err := resolvePath(tc.in, tc.id)
		if err != nil || got != tc.want {
			t.Errorf("resolvePath(%q, %q) = %q, %v; want %q", tc.in, tc.id, got, err, tc.want)
		}
	}
	bad := []struct {
		in, id string
		class  error
	}{
		{"../../etc", "id", errdefs.ErrInvalidArgument},
		{"..", "id", errdefs.ErrInvalidArgument},
		{"a/../../b", "id", errdefs.ErrInvalidArgument},
		{"/../etc", "id", errdefs.ErrInvalidArgument},
		{"/a/../../etc", "id", errdefs.ErrInvalidArgument},
		{"/", "id", errdefs.ErrInvalidArgument},
		{".", "id", errdefs.ErrInvalidArgument},
		{"a\x00b", "id", errdefs.ErrInvalidArgument},
		{"", "", errdefs.ErrInvalidArgument},
		{"", "a/b", errdefs.ErrInvalidArgument},
		{"", "..", errdefs.ErrInvalidArgument},
		{"system.slice:berth:abc", "id", errdefs.ErrNotImplemented},
	}
	for _, tc := range bad {
		got, err := resolvePath(tc.in, tc.id)
		if !errors.Is(err, tc.class) {
			t.Errorf("resolvePath(%q, %q) = %q, %v; want %v", tc.in, tc.id, got, err, tc.class)
		}
	}
}

func TestNewSystemdPath(t *testing.T) {
	_, err := New("system.slice:berth:abc", "abc", false)
	if !errors.Is(err, errdefs.ErrNotImplemented) || err.Error() != `cgroupsPath "system.slice:berth:abc": systemd cgroup driver is not supported: not implemented` {
		t.Errorf("New with a systemd path: %v", err)
	}
}

func TestModeString(t *testing.T) {
	for m, want := range map[Mode]string{Legacy: "legacy", Hybrid: "hybrid", Unified: "unified", Mode(9): "unknown"} {
		if m.String() != want {
			t.Errorf("Mode(%d).String() = %q, want %q", int(m), m.String(), want)
		}
	}
}
