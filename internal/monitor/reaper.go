package monitor

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/ociruntime"
)

// reaper is the one place where the monitor waits for children. As a
// subreaper it inherits the container's init and every orphan below it,
// and reaps them all with wait4(-1); so it must also wait for the children
// it starts itself (the runtime, the exit command), which it does as an
// ociruntime.Runner. A status nobody asked for yet is kept a while, for a
// process whose pid is learnt only after it may have exited (a detached
// exec's pid file).
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan syscall.WaitStatus
	unasked map[int]exitRecord
}

type exitRecord struct {
	ws syscall.WaitStatus
	at time.Time
}

// unaskedTTL is how long an unclaimed exit status is kept.
const unaskedTTL = time.Minute

func newReaper() *reaper {
	r := &reaper{waiting: map[int]chan syscall.WaitStatus{}, unasked: map[int]exitRecord{}}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGCHLD)
	go func() {
		for range sig {
			r.reap()
		}
	}()
	return r
}

// reap collects every exited child.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			break
		}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- ws
			continue
		}
		r.unasked[pid] = exitRecord{ws: ws, at: time.Now()}
	}
	for pid, e := range r.unasked {
		if time.Since(e.at) > unaskedTTL {
			delete(r.unasked, pid)
		}
	}
}

// watch returns a channel that receives pid's wait status once. pid must
// be a child of the monitor (or become one).
func (r *reaper) watch(pid int) <-chan syscall.WaitStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.watchLocked(pid)
}

func (r *reaper) watchLocked(pid int) chan syscall.WaitStatus {
	ch := make(chan syscall.WaitStatus, 1)
	if e, ok := r.unasked[pid]; ok {
		delete(r.unasked, pid)
		ch <- e.ws
		return ch
	}
	r.waiting[pid] = ch
	return ch
}

// forget drops a watch whose status is no longer wanted.
func (r *reaper) forget(pid int) {
	r.mu.Lock()
	delete(r.waiting, pid)
	r.mu.Unlock()
}

// Run implements ociruntime.Runner: cmd is started with the reaper locked,
// so that its status cannot be reaped before it is watched.
func (r *reaper) Run(ctx context.Context, cmd *exec.Cmd) (int, error) {
	r.mu.Lock()
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		return -1, err
	}
	pid := cmd.Process.Pid
	ch := r.watchLocked(pid)
	r.mu.Unlock()
	defer cmd.Process.Release() // its status is ours; this frees its pidfd
	select {
	case ws := <-ch:
		return ociruntime.ExitCode(ws), nil
	case <-ctx.Done():
		// Not reaped yet, so pid still names our child.
		_ = unix.Kill(pid, unix.SIGKILL)
		<-ch
		return 128 + int(unix.SIGKILL), ctx.Err()
	}
}
