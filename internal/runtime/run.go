package runtime

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// RunOptions are the flags of `run`.
type RunOptions struct {
	CreateOptions
	Detach bool // -d: start and return
	Keep   bool // --keep: do not delete the container when it exits
}

// Run creates and starts a container. In the foreground it waits for the
// container's process, forwarding signals and the terminal, deletes the
// container (unless Keep) and returns the process's exit code.
func (r *Runtime) Run(o RunOptions) (int, error) {
	o.Foreground = !o.Detach
	var sigs chan os.Signal
	if o.Foreground {
		// Orphans of the container (no pid namespace) are ours to reap.
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		// Before the process runs (start): signals are for it from then on.
		sigs = catchSignals()
		defer signal.Stop(sigs)
	}
	cr, err := r.create(o.CreateOptions)
	if err != nil {
		return 0, err
	}
	if err := r.start(cr.c); err != nil {
		cr.c.killAndWait()
		_ = r.destroy(cr.c)
		cr.unlock()
		return 0, err
	}
	cr.unlock()
	if o.Detach {
		cr.sp.release()
		return 0, nil
	}
	code := forward(cr.sp, cr.console, sigs)
	if !o.Keep {
		if err := r.Delete(o.ID, true); err != nil {
			return code, err
		}
	}
	return code, nil
}
