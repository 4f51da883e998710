// Package ns maps OCI namespace types to the kernel's clone flags and
// /proc/<pid>/ns names, and joins namespaces from a locked OS thread.
//
// Go cannot switch the namespaces of a whole process: setns(2) acts on one
// thread. JoinAndRun locks a thread, joins the namespaces there, runs a
// function (typically one that forks, so the child inherits the thread's
// namespaces) and never unlocks the thread, so the runtime throws the tainted
// thread away when the goroutine ends.
package ns

import (
	"fmt"
	"os"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

// Kind describes one namespace type.
type Kind struct {
	Type     specs.LinuxNamespaceType
	Flag     uintptr // CLONE_NEW*
	ProcName string  // name under /proc/<pid>/ns
}

// Kinds lists the namespace types Berth supports, in the order they must be
// joined: user first (it gives the rights to join the others), mount last.
var Kinds = []Kind{
	{specs.UserNamespace, unix.CLONE_NEWUSER, "user"},
	{specs.IPCNamespace, unix.CLONE_NEWIPC, "ipc"},
	{specs.UTSNamespace, unix.CLONE_NEWUTS, "uts"},
	{specs.NetworkNamespace, unix.CLONE_NEWNET, "net"},
	{specs.PIDNamespace, unix.CLONE_NEWPID, "pid"},
	{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, "cgroup"},
	{specs.TimeNamespace, unix.CLONE_NEWTIME, "time"},
	{specs.MountNamespace, unix.CLONE_NEWNS, "mnt"},
}

// Lookup returns the Kind of an OCI namespace type.
func Lookup(t specs.LinuxNamespaceType) (Kind, error) {
	for _, k := range Kinds {
		if k.Type == t {
			return k, nil
		}
	}
	return Kind{}, fmt.Errorf("unsupported namespace type %q: %w", t, errdefs.ErrInvalidArgument)
}

// Validate checks a spec's namespace list: known types, no duplicates, and
// join paths that exist and are namespaces of the stated type.
func Validate(list []specs.LinuxNamespace) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, n := range list {
		k, err := Lookup(n.Type)
		if err != nil {
			return err
		}
		if seen[n.Type] {
			return fmt.Errorf("namespace %q listed twice: %w", n.Type, errdefs.ErrInvalidArgument)
		}
		seen[n.Type] = true
		if n.Path == "" {
			continue
		}
		f, err := os.Open(n.Path)
		if err != nil {
			return fmt.Errorf("namespace %s path %s: %w", n.Type, n.Path, errdefs.ErrInvalidArgument)
		}
		t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
		f.Close()
		if err != nil {
			return fmt.Errorf("namespace %s path %s is not a namespace: %w", n.Type, n.Path, errdefs.ErrInvalidArgument)
		}
		if uintptr(t) != k.Flag {
			return fmt.Errorf("namespace %s path %s is a namespace of another type: %w", n.Type, n.Path, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// Join is one namespace to enter by path.
type Join struct {
	Kind Kind
	Path string
}

// JoinAndRun runs fn on a fresh locked OS thread that first enters each
// namespace of joins, in the order given (for a pid namespace this affects
// the thread's future children only). The thread is never returned to the
// scheduler.
func JoinAndRun(joins []Join, fn func() error) error {
	return onThrowawayThread(func() error {
		for _, j := range joins {
			if j.Kind.Flag == unix.CLONE_NEWNS {
				if err := unix.Unshare(unix.CLONE_FS); err != nil {
					return fmt.Errorf("unshare fs before joining %s: %w", j.Path, err)
				}
			}
			f, err := os.Open(j.Path)
			if err != nil {
				return fmt.Errorf("open namespace %s: %w", j.Path, err)
			}
			err = unix.Setns(int(f.Fd()), int(j.Kind.Flag))
			f.Close()
			if err != nil {
				return fmt.Errorf("join %s namespace %s: %w", j.Kind.ProcName, j.Path, err)
			}
		}
		return fn()
	})
}

// UnshareAndRun runs fn on a fresh locked OS thread that first unshares
// flags (CLONE_NEWNS, CLONE_FS, …); the thread, and with it the new
// namespaces, is thrown away afterwards.
func UnshareAndRun(flags int, fn func() error) error {
	return onThrowawayThread(func() error {
		if err := unix.Unshare(flags); err != nil {
			return fmt.Errorf("unshare %#x: %w", flags, err)
		}
		return fn()
	})
}

// onThrowawayThread runs fn on a locked OS thread that is never unlocked,
// so the runtime ends the thread, whatever fn did to it, with the
// goroutine — and never on the main thread, which speaks for the process
// in /proc/self and which the runtime cannot end.
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// While we hold the main thread, the retry runs on another one.
			err := onThrowawayThread(fn)
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}
