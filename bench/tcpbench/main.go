// Command tcpbench measures TCP throughput for bench/net.sh, with the same
// program on both ends so that berth and Podman are timed alike:
//
//	tcpbench sink :80                 # in the container: accept, read and discard, for ever
//	tcpbench send 127.0.0.1:8080 3s   # on the host: write for 3 s, print bytes and Gbit/s as JSON
//	tcpbench wait 127.0.0.1:8080 10s  # until a connection is accepted (a container is reachable)
//
// send writes 128 KiB buffers on one connection and counts what the
// kernel accepted; the sink's reads keep pace, so the count is what went
// through. It is built static (CGO_ENABLED=0) and bound into the
// container read-only.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: tcpbench sink ADDR | send ADDR [DURATION] | wait ADDR [TIMEOUT]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sink":
		err = sink(os.Args[2])
	case "wait":
		d := 10 * time.Second
		if len(os.Args) > 3 {
			if d, err = time.ParseDuration(os.Args[3]); err != nil {
				break
			}
		}
		err = wait(os.Args[2], d)
	case "send":
		d := 3 * time.Second
		if len(os.Args) > 3 {
			if d, err = time.ParseDuration(os.Args[3]); err != nil {
				break
			}
		}
		err = send(os.Args[2], d)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcpbench:", err)
		os.Exit(1)
	}
}

// sink accepts connections on addr and discards what they send.
func sink(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 256<<10)
			io.CopyBuffer(io.Discard, c, buf)
		}()
	}
}

// send writes to addr for d and prints what went through.
func send(addr string, d time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 128<<10)
	var n int64
	start := time.Now()
	end := start.Add(d)
	c.SetWriteDeadline(end)
	for {
		k, err := c.Write(buf)
		n += int64(k)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				break
			}
			return err
		}
	}
	secs := time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"addr": addr, "bytes": n, "seconds": secs, "gbit_per_s": float64(n) * 8 / secs / 1e9,
	})
}

// wait dials addr every millisecond until a connection is made, for at
// most timeout. Through a published port a connection is refused (or
// reset) until the container's server listens.
func wait(addr string, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: not reachable after %s: %w", addr, timeout, err)
		}
		time.Sleep(time.Millisecond)
	}
}
