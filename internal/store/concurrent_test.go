package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	bolt "go.etcd.io/bbolt"
)

// helperCmd re-executes the test binary as a helper (see TestMain).
func helperCmd(t testing.TB, db *DB, mode, id string, extra ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "BERTH_STORE_HELPER="+mode, "BERTH_STORE_DB="+db.Path(), "BERTH_STORE_ID="+id)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// assertCounted checks that the counter matches the records, and returns it.
func assertCounted(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	view(t, db, func(tx *Tx) error {
		c, err := Get[counter](tx, Volumes, counterKey)
		if err != nil && !errdefs.IsNotFound(err) {
			return err
		}
		ks, err := Keys(tx, Containers)
		if c.N != len(ks) {
			t.Errorf("counter %d, %d records", c.N, len(ks))
		}
		n = len(ks)
		return err
	})
	return n
}

// assertConsistent runs bbolt's own consistency check over the file.
func assertConsistent(t *testing.T, db *DB) {
	t.Helper()
	bdb, err := bolt.Open(db.Path(), 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	bdb.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
}

func TestConcurrentGoroutines(t *testing.T) {
	db := newDB(t)
	const workers, each = 20, 10
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := db.Update(func(tx *Tx) error { return addCounted(tx, fmt.Sprintf("g%02d-%03d", w, i)) })
				if err != nil {
					errs[w] = err
					return
				}
				// A reader beside the writers always sees whole transactions.
				if err := db.View(func(tx *Tx) error {
					_, err := Get[record](tx, Containers, fmt.Sprintf("g%02d-%03d", w, i))
					return err
				}); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := assertCounted(t, db); n != workers*each {
		t.Errorf("%d records, want %d", n, workers*each)
	}
	assertConsistent(t, db)
}

func TestConcurrentProcesses(t *testing.T) {
	db := newDB(t)
	const procs, each = 8, 25
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := range procs {
		cmd := helperCmd(t, db, "add", fmt.Sprintf("p%02d", p), fmt.Sprintf("BERTH_STORE_N=%d", each))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	// This process writes too, at the same time.
	for i := range each {
		update(t, db, func(tx *Tx) error { return addCounted(tx, fmt.Sprintf("main-%03d", i)) })
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v: %s", i, err, outs[i])
		}
	}
	if n := assertCounted(t, db); n != (procs+1)*each {
		t.Errorf("%d records, want %d", n, (procs+1)*each)
	}
	assertConsistent(t, db)
}

// startHelper starts a helper and waits for it to print want.
func startHelper(t *testing.T, cmd *exec.Cmd, want string) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() }) // by its pid; a no-op once reaped
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != want {
		t.Fatalf("helper said %q (%v), want %q; stderr: %s", line, err, want, stderr)
	}
	go io.Copy(io.Discard, stdout)
}

// killHelper sends SIGKILL to the helper's pid and reaps it.
func killHelper(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
	}
}

// A process killed inside Update leaves the store as it was before that
// Update, and unlocked.
func TestKilledInsideUpdate(t *testing.T) {
	db := newDB(t)
	update(t, db, func(tx *Tx) error { return addCounted(tx, "before") })
	short, err := OpenOptions(db.Path(), Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	cmd := helperCmd(t, db, "hang", "killed")
	startHelper(t, cmd, "inside")
	// While it sits inside its transaction, the file is its alone.
	err = short.View(func(*Tx) error { return nil })
	wantErr(t, err, errdefs.ErrUnavailable, db.Path())
	killHelper(t, cmd)

	// The kernel dropped its lock with it: the next Open and Update go ahead.
	if _, err := Open(db.Path()); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *Tx) error { return addCounted(tx, "after") })
	view(t, db, func(tx *Tx) error {
		ks, err := Keys(tx, Containers)
		if strings.Join(ks, ",") != "after,before" {
			t.Errorf("records %v, want [after before]: the killed transaction's writes must be absent", ks)
		}
		if _, err := tx.Image("example.com/killed:latest"); !errdefs.IsNotFound(err) {
			t.Errorf("the killed transaction's image: %v", err)
		}
		return err
	})
	assertCounted(t, db)
	assertConsistent(t, db)
}

// A process killed at an arbitrary point of a stream of Updates (mid-commit,
// perhaps) leaves a consistent file holding whole transactions only.
func TestKilledWhileWriting(t *testing.T) {
	db := newDB(t)
	for round := range 3 {
		cmd := helperCmd(t, db, "loop", fmt.Sprintf("r%d", round))
		startHelper(t, cmd, "running")
		time.Sleep(time.Duration(round*7) * time.Millisecond) // vary where it dies
		killHelper(t, cmd)
		if n := assertCounted(t, db); n < 21*(round+1) {
			t.Errorf("round %d: only %d records", round, n)
		}
		assertConsistent(t, db)
		update(t, db, func(tx *Tx) error { return addCounted(tx, fmt.Sprintf("main-%d", round)) })
	}
}
