package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// signals prints "ready", then the name of every signal it receives ("SIGUSR1"),
// one per line; after SIGTERM it exits 0.
//
// The Go runtime preempts goroutines with SIGURG, which Notify would pass on
// as if someone had sent it. So the probe first re-executes itself (same pid)
// with GODEBUG=asyncpreemptoff=1, after which every SIGURG seen is a real one.
func signals() {
	if !strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") {
		godebug := "asyncpreemptoff=1"
		if old := os.Getenv("GODEBUG"); old != "" {
			godebug = old + "," + godebug
		}
		env := append(os.Environ(), "GODEBUG="+godebug)
		err := unix.Exec("/proc/self/exe", os.Args, env)
		// Without /proc the probe carries on; a stray SIGURG is then possible.
		fmt.Fprintf(os.Stderr, "probe: re-exec with asyncpreemptoff: %v\n", err)
	}
	c := make(chan os.Signal, 64)
	signal.Notify(c)
	fmt.Println("ready")
	for s := range c {
		sig, ok := s.(syscall.Signal)
		if !ok {
			continue
		}
		name := unix.SignalName(sig)
		if name == "" {
			name = fmt.Sprintf("SIG%d", int(sig))
		}
		fmt.Println(name)
		if sig == syscall.SIGTERM {
			os.Exit(0)
		}
	}
}
