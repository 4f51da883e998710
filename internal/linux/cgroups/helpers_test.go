package cgroups

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testCgroupPath returns a fresh absolute cgroupsPath under /berth.
func testCgroupPath(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "/berth/test-" + hex.EncodeToString(b)
}

// child is a process of the test's own, placed in a cgroup by the test. It
// runs a shell that, for each line written to it, tries to open the named
// device for reading and answers "ok" or "denied".
type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startChild(t *testing.T) *child {
	t.Helper()
	cmd := exec.Command("sh", "-c", `while read dev; do if true < "$dev"; then echo ok; else echo denied; fi; done 2>/dev/null`)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	return &child{cmd: cmd, in: in, out: bufio.NewReader(out)}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// open asks the child to open dev and returns its answer.
func (c *child) open(t *testing.T, dev string) string {
	t.Helper()
	if _, err := io.WriteString(c.in, dev+"\n"); err != nil {
		t.Fatalf("write to child: %v", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("read from child: %v", err)
	}
	return strings.TrimSpace(line)
}

// stop kills the child (by its pid) and reaps it.
func (c *child) stop() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// newApplied creates a Manager at a fresh path and moves a new child into
// it. Cleanup kills the child, destroys the cgroup and checks that no dir is
// left in any controller.
func newApplied(t *testing.T) (*Manager, *child) {
	t.Helper()
	m, err := New(testCgroupPath(t), "unused", false)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c := startChild(t)
	t.Cleanup(func() {
		c.stop()
		paths := m.Paths()
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		assertGone(t, paths)
	})
	if err := m.Apply(c.pid()); err != nil {
		t.Fatalf("Apply(%d): %v", c.pid(), err)
	}
	return m, c
}

// assertGone fails unless every dir of paths is absent.
func assertGone(t *testing.T, paths map[string]string) {
	t.Helper()
	for ctrl, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("controller %q: %s still exists (stat: %v)", ctrl, p, err)
		}
	}
}

// assertNoDir fails if the cgroup path exists under any mounted hierarchy.
func assertNoDir(t *testing.T, cgPath string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(root, "*"))
	dirs = append(dirs, root)
	for _, d := range dirs {
		p := filepath.Join(d, cgPath)
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.TrimSpace(string(b))
}

func ptr[T any](v T) *T { return &v }
