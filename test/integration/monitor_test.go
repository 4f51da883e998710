package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/internal/ociruntime"
	"github.com/berth-project/berth/internal/testenv"
	"github.com/berth-project/berth/test/kit"
)

// waitLimit bounds every wait of these tests; it is a deadlock guard, not
// an assertion on timing.
const waitLimit = 90 * time.Second

// monitorEnv is berth-monitor built from this tree and one OCI runtime
// with a root of the test's own.
type monitorEnv struct {
	t   *testing.T
	bin string
	rt  *ociruntime.Runtime
}

// buildMonitor builds cmd/berth-monitor as `make build` would (static,
// stripped) into the test's temporary directory, so that the test runs
// this tree's monitor.
func buildMonitor(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "berth-monitor")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/berth-monitor")
	cmd.Dir = testenv.RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if data, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build berth-monitor: %v\n%s", err, data)
	}
	return out
}

// runtimeNames are the runtimes the monitor is tested with.
var runtimeNames = []string{"berth-runtime", "runc"}

func newMonitorEnv(t *testing.T, runtime string) *monitorEnv {
	t.Helper()
	testenv.RequiresRoot(t)
	var path string
	if runtime == "runc" {
		path = testenv.RequiresBinary(t, "runc")
	} else {
		path = testenv.Binary(t, "berth-runtime")
	}
	e := &monitorEnv{t: t, bin: buildMonitor(t), rt: &ociruntime.Runtime{Path: path, Root: t.TempDir(), TempDir: t.TempDir()}}
	t.Cleanup(func() {
		for _, dir := range []string{e.rt.Root, e.rt.TempDir} {
			entries, _ := os.ReadDir(dir)
			for _, ent := range entries {
				t.Errorf("%s left in %s", ent.Name(), dir)
				if dir == e.rt.Root {
					_ = e.rt.Delete(context.Background(), ent.Name(), true)
				}
			}
		}
	})
	return e
}

// config returns a monitor config for bundle b (saved first) with a run
// directory of its own.
func (e *monitorEnv) config(b *kit.Bundle) *monitor.Config {
	e.t.Helper()
	if err := b.Save(); err != nil {
		e.t.Fatal(err)
	}
	return &monitor.Config{
		ID:      "mon-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		Bundle:  b.Path(),
		RunDir:  e.t.TempDir(),
		Runtime: monitor.RuntimeConfig{Path: e.rt.Path, Root: e.rt.Root},
	}
}

// launch starts a monitor for cfg. At the end of the test the container
// is deleted, the monitor waited for (killed first if it still runs), and
// checked to leave no socket behind after a normal exit and nothing
// under the bundle.
func (e *monitorEnv) launch(cfg *monitor.Config, b *kit.Bundle) *monitor.Launched {
	e.t.Helper()
	l, err := monitor.Launch(context.Background(), e.bin, cfg)
	if err != nil {
		e.t.Fatalf("launch monitor: %v\n%s", err, readFile(filepath.Join(cfg.RunDir, monitor.DiagFile)))
	}
	e.t.Cleanup(func() {
		_ = e.rt.Delete(context.Background(), cfg.ID, true)
		done := make(chan *os.ProcessState, 1)
		go func() { st, _ := l.Process.Wait(); done <- st }()
		var st *os.ProcessState
		select {
		case st = <-done:
		case <-time.After(waitLimit):
			e.t.Errorf("monitor %d still runs at the end of the test", l.Process.Pid)
			_ = l.Process.Kill()
			st = <-done
		}
		if st != nil && st.Success() {
			for _, name := range []string{monitor.AttachSocket, monitor.ControlSocket, monitor.PidFile, monitor.ContainerPid} {
				if _, err := os.Stat(filepath.Join(cfg.SocketDir, name)); err == nil {
					e.t.Errorf("%s left in %s after the monitor exited", name, cfg.SocketDir)
				}
			}
		}
		assertNoLeaks(e.t, &runtimeCLI{t: e.t, root: e.rt.Root}, cfg.ID, b)
	})
	return l
}

// waitExit waits for the exit file of cfg's container.
func waitExit(t *testing.T, cfg *monitor.Config) *monitor.Exit {
	t.Helper()
	var ex *monitor.Exit
	waitFor(t, "the exit file", func() bool {
		var err error
		ex, err = monitor.ReadExit(cfg.ExitFile)
		return err == nil
	}, cfg)
	return ex
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool, cfg *monitor.Config) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; monitor log:\n%s", what, readFile(filepath.Join(cfg.RunDir, monitor.DiagFile)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMonitor waits for the monitor to exit and returns its exit code.
func waitMonitor(t *testing.T, l *monitor.Launched) int {
	t.Helper()
	st, err := l.Process.Wait()
	if err != nil {
		t.Fatalf("wait for the monitor: %v", err)
	}
	return st.ExitCode()
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// logRecord is one parsed record of a container log, either driver.
type logRecord struct {
	stream  string
	partial bool
	text    string // without the record's own newline
}

// parseLog parses the log file at path, in driver's format.
func parseLog(t *testing.T, path, driver string) []logRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []logRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if driver == monitor.DriverJSONFile {
			var j struct{ Log, Stream, Time string }
			if err := json.Unmarshal([]byte(line), &j); err != nil {
				t.Fatalf("%s: bad json-file record %q: %v", path, line, err)
			}
			if _, err := time.Parse(time.RFC3339Nano, j.Time); err != nil {
				t.Fatalf("%s: bad time in %q", path, line)
			}
			full := strings.HasSuffix(j.Log, "\n")
			recs = append(recs, logRecord{stream: j.Stream, partial: !full, text: strings.TrimSuffix(j.Log, "\n")})
			continue
		}
		parts := strings.SplitN(line, " ", 4)
		if len(parts) != 4 || (parts[2] != "F" && parts[2] != "P") {
			t.Fatalf("%s: bad k8s-file record %q", path, line)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000000000Z07:00", parts[0]); err != nil {
			t.Fatalf("%s: bad time in %q: %v", path, line, err)
		}
		recs = append(recs, logRecord{stream: parts[1], partial: parts[2] == "P", text: parts[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// joinStream rebuilds what stream wrote from its records.
func joinStream(recs []logRecord, stream string) string {
	var b strings.Builder
	for _, r := range recs {
		if r.stream != stream {
			continue
		}
		b.WriteString(r.text)
		if !r.partial {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func shellBundle(t *testing.T, script string) *kit.Bundle {
	b := kit.NewBundle(t)
	b.Spec.Process.Args = []string{"/bin/sh", "-c", script}
	return b
}

func TestMonitorRunExit(t *testing.T) {
	for _, name := range runtimeNames {
		t.Run(name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := shellBundle(t, "echo out; echo err >&2; exit 3")
			cfg := e.config(b)
			l := e.launch(cfg, b)
			if l.Pid <= 0 || l.Status != monitor.StatusRunning {
				t.Errorf("launched: pid %d status %q", l.Pid, l.Status)
			}
			ex := waitExit(t, cfg)
			if ex.ExitCode != 3 || ex.RestartCount != 0 || ex.ExitedAt.IsZero() || ex.Error != "" {
				t.Errorf("exit file %+v, want code 3", ex)
			}
			if code := waitMonitor(t, l); code != 0 {
				t.Errorf("monitor exit code %d", code)
			}
			st, err := monitor.ReadState(cfg.RunDir)
			if err != nil || st.Status != monitor.StatusExited || st.ExitCode != 3 || st.StartedAt.IsZero() {
				t.Errorf("state %+v, %v", st, err)
			}
			recs := parseLog(t, cfg.Log.Path, monitor.DriverK8sFile)
			if got := joinStream(recs, "stdout"); got != "out\n" {
				t.Errorf("stdout in the log %q", got)
			}
			if got := joinStream(recs, "stderr"); got != "err\n" {
				t.Errorf("stderr in the log %q", got)
			}
			// The monitor leaves the stopped container to the engine.
			rst, err := e.rt.State(context.Background(), cfg.ID)
			if err != nil || rst.Status != "stopped" {
				t.Errorf("runtime state %+v, %v; want stopped", rst, err)
			}
			if err := e.rt.Delete(context.Background(), cfg.ID, false); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestMonitorLogFormats(t *testing.T) {
	// A line longer than a read (8 KiB), lines, and an unterminated tail.
	long := strings.Repeat("0123456789", 2000)
	script := `i=0; while [ $i -lt 2000 ]; do printf 0123456789; i=$((i+1)); done; echo
echo 'quote " backslash \ tab	end'
printf 'err line\nerr partial' >&2
printf 'last partial'`
	wantOut := long + "\n" + "quote \" backslash \\ tab\tend\n" + "last partial"
	wantErr := "err line\nerr partial"
	for _, driver := range []string{monitor.DriverK8sFile, monitor.DriverJSONFile} {
		t.Run(driver, func(t *testing.T) {
			e := newMonitorEnv(t, "berth-runtime")
			b := shellBundle(t, script)
			cfg := e.config(b)
			cfg.Log.Driver = driver
			l := e.launch(cfg, b)
			if ex := waitExit(t, cfg); ex.ExitCode != 0 {
				t.Fatalf("exit %+v", ex)
			}
			waitMonitor(t, l)
			recs := parseLog(t, cfg.Log.Path, driver)
			if got := joinStream(recs, "stdout"); got != wantOut {
				t.Errorf("stdout rebuilt from the log differs:\n got %.200q…\nwant %.200q…", got, wantOut)
			}
			if got := joinStream(recs, "stderr"); got != wantErr {
				t.Errorf("stderr rebuilt %q, want %q", got, wantErr)
			}
			var last logRecord
			partials := 0
			for _, r := range recs {
				if r.stream == "stdout" {
					last = r
					if r.partial {
						partials++
					}
				}
				if len(r.text) > 8192 {
					t.Errorf("a record of %d bytes: records are at most one read", len(r.text))
				}
			}
			if !last.partial || last.text != "last partial" {
				t.Errorf("last stdout record %+v, want the partial %q", last, "last partial")
			}
			if partials < 3 { // the 20000-byte line takes three reads at least
				t.Errorf("%d partial stdout records, want the long line split", partials)
			}
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

func TestMonitorLogRotation(t *testing.T) {
	const lines = 20000
	for _, tc := range []struct {
		driver   string
		maxFiles int
	}{{monitor.DriverK8sFile, 3}, {monitor.DriverJSONFile, 1000}} {
		t.Run(fmt.Sprintf("%s-max-file-%d", tc.driver, tc.maxFiles), func(t *testing.T) {
			e := newMonitorEnv(t, "berth-runtime")
			b := shellBundle(t, "seq 1 "+strconv.Itoa(lines))
			cfg := e.config(b)
			cfg.Log.Driver, cfg.Log.MaxSize, cfg.Log.MaxFiles = tc.driver, 4096, tc.maxFiles
			l := e.launch(cfg, b)
			waitExit(t, cfg)
			waitMonitor(t, l)
			// Oldest first: path.N-1 … path.1, path.
			var files []string
			for i := tc.maxFiles - 1; i >= 1; i-- {
				p := cfg.Log.Path + "." + strconv.Itoa(i)
				if _, err := os.Stat(p); err == nil {
					files = append(files, p)
				}
			}
			files = append(files, cfg.Log.Path)
			if _, err := os.Stat(cfg.Log.Path + "." + strconv.Itoa(tc.maxFiles)); err == nil {
				t.Errorf("%s.%d exists: max-file %d not respected", cfg.Log.Path, tc.maxFiles, tc.maxFiles)
			}
			if len(files) < 2 {
				t.Fatalf("no rotation: %v", files)
			}
			var out strings.Builder
			for _, p := range files {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > cfg.Log.MaxSize {
					t.Errorf("%s is %d bytes, more than max-size %d", p, st.Size(), cfg.Log.MaxSize)
				}
				out.WriteString(joinStream(parseLog(t, p, tc.driver), "stdout"))
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			first, err := strconv.Atoi(got[0])
			if err != nil {
				t.Fatalf("first kept line %q is cut", got[0])
			}
			for i, s := range got {
				if s != strconv.Itoa(first+i) {
					t.Fatalf("line %d of the kept log is %q, want %d: lost or split (then %q)", i, s, first+i, got[i:min(len(got), i+5)])
				}
			}
			if last := first + len(got) - 1; last != lines {
				t.Errorf("kept lines %d..%d, want up to %d; monitor log:\n%s", first, last, lines, readFile(filepath.Join(cfg.RunDir, monitor.DiagFile)))
			}
			if tc.maxFiles > 100 && first != 1 {
				t.Errorf("with room for every file the log starts at line %d", first)
			}
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

func TestMonitorAttach(t *testing.T) {
	for _, name := range runtimeNames {
		t.Run(name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := shellBundle(t, "echo ready; exec cat")
			cfg := e.config(b)
			cfg.Stdin, cfg.WaitStart = true, true
			l := e.launch(cfg, b)
			if l.Status != monitor.StatusCreated {
				t.Fatalf("status %q, want created", l.Status)
			}
			a, err := monitor.Attach(cfg.SocketDir)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			_ = a.SetDeadline(time.Now().Add(waitLimit))
			pid, err := monitor.Start(context.Background(), cfg.SocketDir)
			if err != nil || pid != l.Pid {
				t.Fatalf("start = %d, %v; want %d", pid, err, l.Pid)
			}
			// Attached before the start: the first line is seen.
			expect(t, a, monitor.KindStdout, "ready\n")
			if _, err := a.Write([]byte("hello\n")); err != nil {
				t.Fatal(err)
			}
			expect(t, a, monitor.KindStdout, "hello\n")
			if err := a.CloseStdin(); err != nil {
				t.Fatal(err)
			}
			kind, data, err := a.Recv()
			if err != nil || kind != monitor.KindExit || string(data) != "0" {
				t.Errorf("after closing stdin: kind %d %q %v, want exit 0", kind, data, err)
			}
			if _, _, err := a.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("after the exit packet: %v, want EOF", err)
			}
			if ex := waitExit(t, cfg); ex.ExitCode != 0 {
				t.Errorf("exit %+v", ex)
			}
			recs := parseLog(t, cfg.Log.Path, monitor.DriverK8sFile)
			if got := joinStream(recs, "stdout"); got != "ready\nhello\n" {
				t.Errorf("log %q", got)
			}
			waitMonitor(t, l)
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

// expect reads packets until want has arrived on kind, in one or more
// packets.
func expect(t *testing.T, a *monitor.AttachConn, kind byte, want string) {
	t.Helper()
	var got string
	for len(got) < len(want) {
		k, data, err := a.Recv()
		if err != nil {
			t.Fatalf("waiting for %q (got %q): %v", want, got, err)
		}
		if k != kind {
			t.Fatalf("packet of kind %d %q, want kind %d", k, data, kind)
		}
		got += string(data)
	}
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMonitorTerminal(t *testing.T) {
	for _, name := range runtimeNames {
		t.Run(name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := shellBundle(t, "tty; read x; echo got $x")
			b.Spec.Process.Terminal = true
			cfg := e.config(b)
			cfg.Stdin, cfg.WaitStart = true, true
			l := e.launch(cfg, b)
			a, err := monitor.Attach(cfg.SocketDir)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			_ = a.SetDeadline(time.Now().Add(waitLimit))
			if err := a.Resize(40, 120); err != nil {
				t.Fatal(err)
			}
			if _, err := monitor.Start(context.Background(), cfg.SocketDir); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for !bytes.Contains(out.Bytes(), []byte("\n")) {
				k, data, err := a.Recv()
				if err != nil || k != monitor.KindStdout {
					t.Fatalf("recv %d %q %v (so far %q)", k, data, err, out.String())
				}
				out.Write(data)
			}
			if !strings.HasPrefix(out.String(), "/dev/pts/") || !strings.Contains(out.String(), "\r\n") {
				t.Errorf("tty printed %q, want /dev/pts/N and a terminal's CRLF", out.String())
			}
			if _, err := a.Write([]byte("abc\n")); err != nil {
				t.Fatal(err)
			}
			code, err := a.Copy(&out, &out)
			if err != nil || code != 0 {
				t.Errorf("copy until exit: %d, %v", code, err)
			}
			if !strings.Contains(out.String(), "got abc") {
				t.Errorf("output %q lacks the echo of the input", out.String())
			}
			if !strings.Contains(readFile(cfg.Log.Path), "stdout F got abc\r") {
				t.Errorf("log lacks the line:\n%s", readFile(cfg.Log.Path))
			}
			waitExit(t, cfg)
			waitMonitor(t, l)
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

func TestMonitorRestartOnFailure(t *testing.T) {
	for _, name := range runtimeNames {
		t.Run(name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := shellBundle(t, "echo run; exit 5")
			cfg := e.config(b)
			cfg.Restart = monitor.RestartPolicy{Name: "on-failure", MaximumRetryCount: 2}
			l := e.launch(cfg, b)
			ex := waitExit(t, cfg)
			if ex.ExitCode != 5 || ex.RestartCount != 2 {
				t.Errorf("exit %+v, want code 5 after 2 restarts", ex)
			}
			waitMonitor(t, l)
			if got := joinStream(parseLog(t, cfg.Log.Path, monitor.DriverK8sFile), "stdout"); got != "run\nrun\nrun\n" {
				t.Errorf("log %q, want three runs", got)
			}
			st, _ := monitor.ReadState(cfg.RunDir)
			if st.RestartCount != 2 || st.Status != monitor.StatusExited {
				t.Errorf("state %+v", st)
			}
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

func TestMonitorRestartAlwaysStop(t *testing.T) {
	for _, script := range []string{"exit 0", "exec sleep 1000"} {
		t.Run(strings.Fields(script)[1], func(t *testing.T) {
			e := newMonitorEnv(t, "berth-runtime")
			b := shellBundle(t, script)
			cfg := e.config(b)
			cfg.Restart = monitor.RestartPolicy{Name: "always"}
			l := e.launch(cfg, b)
			if script == "exit 0" {
				waitFor(t, "two restarts", func() bool {
					st, err := monitor.ReadState(cfg.RunDir)
					return err == nil && st.RestartCount >= 2
				}, cfg)
			}
			rep, err := monitor.Stop(context.Background(), cfg.SocketDir)
			if err != nil {
				t.Fatalf("stop: %v", err)
			}
			if rep.Status == monitor.StatusRunning || rep.Status == monitor.StatusCreated {
				// The engine's stop: the runtime's kill.
				if err := e.rt.Kill(context.Background(), cfg.ID, syscall.SIGKILL, false); err != nil && !errdefs.IsNotFound(err) {
					t.Logf("kill: %v", err) // it may have exited meanwhile
				}
			} else if rep.Status != monitor.StatusRestarting && rep.Status != monitor.StatusExited {
				t.Errorf("stop reply %+v", rep)
			}
			ex := waitExit(t, cfg)
			waitMonitor(t, l)
			st, _ := monitor.ReadState(cfg.RunDir)
			if st.Status != monitor.StatusExited || st.RestartCount != ex.RestartCount {
				t.Errorf("state %+v, exit %+v", st, ex)
			}
			if script != "exit 0" && (ex.RestartCount != 0 || ex.ExitCode != 137) {
				t.Errorf("exit %+v, want 137 without restarts", ex)
			}
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

func TestMonitorHealth(t *testing.T) {
	for _, name := range runtimeNames {
		t.Run(name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := kit.NewBundle(t)
			b.Spec.Process.Args = []string{"/probe", "sleep", "1000"}
			cfg := e.config(b)
			cfg.Health = &monitor.HealthConfig{
				Test:     []string{"CMD-SHELL", "test -e /dev/shm/healthy && echo fine"},
				Interval: 50 * time.Millisecond, Retries: 2, Timeout: 20 * time.Second,
			}
			l := e.launch(cfg, b)
			var h *monitor.Health
			health := func(status string) func() bool {
				return func() bool {
					var err error
					h, err = monitor.ReadHealth(cfg.RunDir)
					return err == nil && h.Status == status
				}
			}
			waitFor(t, "unhealthy", health(monitor.HealthUnhealthy), cfg)
			if h.FailingStreak < 2 || len(h.Log) < 2 || h.Log[len(h.Log)-1].ExitCode != 1 {
				t.Errorf("unhealthy: %+v", h)
			}
			p := *b.Spec.Process
			p.Args = []string{"/bin/touch", "/dev/shm/healthy"}
			if code, err := e.rt.Exec(context.Background(), cfg.ID, &p, ociruntime.ExecOpts{}); err != nil || code != 0 {
				t.Fatalf("touch: %d, %v", code, err)
			}
			waitFor(t, "healthy", health(monitor.HealthHealthy), cfg)
			last := h.Log[len(h.Log)-1]
			if h.FailingStreak != 0 || last.ExitCode != 0 || last.Output != "fine\n" || last.End.Before(last.Start) {
				t.Errorf("healthy: %+v", h)
			}
			if len(h.Log) > 5 {
				t.Errorf("%d probes kept, want 5 at most", len(h.Log))
			}
			if err := e.rt.Kill(context.Background(), cfg.ID, syscall.SIGKILL, false); err != nil {
				t.Fatal(err)
			}
			waitExit(t, cfg)
			waitMonitor(t, l)
			_ = e.rt.Delete(context.Background(), cfg.ID, true)
		})
	}
}

func TestMonitorHealthTimeout(t *testing.T) {
	e := newMonitorEnv(t, "berth-runtime")
	b := kit.NewBundle(t)
	b.Spec.Process.Args = []string{"/probe", "sleep", "1000"}
	cfg := e.config(b)
	cfg.Health = &monitor.HealthConfig{Test: []string{"CMD", "/probe", "sleep", "1000"}, Interval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, Retries: 1}
	l := e.launch(cfg, b)
	var h *monitor.Health
	waitFor(t, "unhealthy", func() bool {
		var err error
		h, err = monitor.ReadHealth(cfg.RunDir)
		return err == nil && h.Status == monitor.HealthUnhealthy
	}, cfg)
	if p := h.Log[0]; p.ExitCode != -1 || !strings.Contains(p.Output, "exceeded timeout") {
		t.Errorf("probe %+v, want a timeout", p)
	}
	// The timed-out probes were killed: only the container's process is left.
	pids, err := e.rt.Ps(context.Background(), cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) > 2 { // the container's, and at most the probe under way
		t.Errorf("processes in the container: %v", pids)
	}
	_ = e.rt.Kill(context.Background(), cfg.ID, syscall.SIGKILL, true)
	waitExit(t, cfg)
	waitMonitor(t, l)
	_ = e.rt.Delete(context.Background(), cfg.ID, true)
}

func TestMonitorKilled(t *testing.T) {
	for _, name := range runtimeNames {
		t.Run(name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := kit.NewBundle(t)
			b.Spec.Process.Args = []string{"/probe", "sleep", "1000"}
			cfg := e.config(b)
			l := e.launch(cfg, b)
			if err := l.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if code := waitMonitor(t, l); code != -1 {
				t.Errorf("monitor exit %d, want killed", code)
			}
			// The container runs on; the runtime tells the truth.
			st, err := e.rt.State(context.Background(), cfg.ID)
			if err != nil || st.Status != "running" || st.Pid != l.Pid {
				t.Fatalf("state after the monitor's death: %+v, %v; want running pid %d", st, err, l.Pid)
			}
			if _, err := monitor.ReadExit(cfg.ExitFile); !errdefs.IsNotFound(err) {
				t.Errorf("exit file after the monitor's death: %v", err)
			}
			if rep, err := monitor.Stop(context.Background(), cfg.SocketDir); err != nil || rep.Status != monitor.StatusExited {
				t.Errorf("stop with no monitor: %+v, %v", rep, err)
			}
			if err := e.rt.Delete(context.Background(), cfg.ID, true); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the container's process to go", func() bool {
				return syscall.Kill(l.Pid, 0) != nil || isZombie(l.Pid)
			}, cfg)
		})
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'Z'
}

func TestMonitorExitCommand(t *testing.T) {
	e := newMonitorEnv(t, "berth-runtime")
	b := shellBundle(t, "exit 7")
	cfg := e.config(b)
	if err := cfg.Validate(); err != nil { // fills in ExitFile
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "cleanup")
	cfg.ExitCommand = []string{"/bin/sh", "-c", `echo "$1 $BERTH_CONTAINER_ID $BERTH_EXIT_CODE" > ` + out + `; test -e "$2"`, "sh", "cleanup", cfg.ExitFile}
	l := e.launch(cfg, b)
	waitMonitor(t, l) // the monitor waits for its exit command
	if got, want := strings.TrimSpace(readFile(out)), "cleanup "+cfg.ID+" 7"; got != want {
		t.Errorf("exit command wrote %q, want %q", got, want)
	}
	if strings.Contains(readFile(filepath.Join(cfg.RunDir, monitor.DiagFile)), "exit command") {
		t.Errorf("the exit command failed (the exit file was not there before it):\n%s", readFile(filepath.Join(cfg.RunDir, monitor.DiagFile)))
	}
	_ = e.rt.Delete(context.Background(), cfg.ID, true)
}

func TestMonitorBadInput(t *testing.T) {
	t.Run("missing bundle", func(t *testing.T) {
		e := newMonitorEnv(t, "berth-runtime")
		cfg := &monitor.Config{ID: "mon-missing", Bundle: filepath.Join(t.TempDir(), "nope"), RunDir: t.TempDir(),
			Runtime: monitor.RuntimeConfig{Path: e.rt.Path, Root: e.rt.Root}}
		_, err := monitor.Launch(context.Background(), e.bin, cfg)
		if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "nope") {
			t.Errorf("launch with a missing bundle: %v, want NotFound naming it", err)
		}
	})
	t.Run("runtime fails create", func(t *testing.T) {
		e := newMonitorEnv(t, "berth-runtime")
		fake := filepath.Join(t.TempDir(), "fake-runtime")
		script := "#!/bin/sh\necho \"fake: $*\" >> " + filepath.Join(t.TempDir(), "calls") + "\necho 'boom: the fake runtime refuses' >&2\nexit 1\n"
		if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		b := kit.NewBundle(t)
		cfg := e.config(b)
		cfg.Runtime.Path = fake
		_, err := monitor.Launch(context.Background(), e.bin, cfg)
		if err == nil || !strings.Contains(err.Error(), "boom: the fake runtime refuses") {
			t.Errorf("launch with a failing runtime: %v, want its message", err)
		}
		if st, _ := monitor.ReadState(cfg.RunDir); st.Status != monitor.StatusExited || st.Error == "" {
			t.Errorf("state %+v", st)
		}
		for _, name := range []string{monitor.AttachSocket, monitor.ControlSocket, monitor.PidFile} {
			if _, err := os.Stat(filepath.Join(cfg.RunDir, name)); err == nil {
				t.Errorf("%s left behind", name)
			}
		}
	})
	for _, name := range runtimeNames {
		t.Run("missing program/"+name, func(t *testing.T) {
			e := newMonitorEnv(t, name)
			b := kit.NewBundle(t)
			b.Spec.Process.Args = []string{"/no-such-program"}
			cfg := e.config(b)
			_, err := monitor.Launch(context.Background(), e.bin, cfg)
			if err == nil || !strings.Contains(err.Error(), "no-such-program") {
				t.Fatalf("launch of a missing program: %v, want the runtime's message naming it", err)
			}
			if entries, _ := os.ReadDir(e.rt.Root); len(entries) != 0 {
				t.Errorf("runtime state left: %v", entries)
			}
			assertNoLeaks(t, &runtimeCLI{t: t, root: e.rt.Root}, cfg.ID, b)
		})
	}
	t.Run("bad config", func(t *testing.T) {
		e := newMonitorEnv(t, "berth-runtime")
		b := kit.NewBundle(t)
		cfg := e.config(b)
		cfg.Restart = monitor.RestartPolicy{Name: "sometimes"}
		if _, err := monitor.Launch(context.Background(), e.bin, cfg); !errdefs.IsInvalidArgument(err) {
			t.Errorf("launch with a bad restart policy: %v, want InvalidArgument", err)
		}
	})
}
