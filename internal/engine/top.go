package engine

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// TopResult is `berth top`'s table: ps's column titles and, per process of
// the container, its fields.
type TopResult struct {
	Titles    []string   `json:"Titles"`
	Processes [][]string `json:"Processes"`
}

// Top lists the processes of the running container the user's word s
// names as docker does: it runs the host's ps with psArgs (default -ef)
// and keeps the lines whose PID is one of the container's (its OCI
// runtime's `ps`), so that the pids and users are the host's.
func (e *Engine) Top(ctx context.Context, s string, psArgs []string) (TopResult, error) {
	c, err := e.container(s)
	if err != nil {
		return TopResult{}, err
	}
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	if err := checkPSArgs(psArgs); err != nil {
		return TopResult{}, err
	}
	st := e.State(ctx, c)
	if !st.Running {
		return TopResult{}, fmt.Errorf("container %s is not running: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	if st.Restarting {
		return TopResult{}, fmt.Errorf("container %s is restarting, wait until the container is running: %w", c.Name, errdefs.ErrFailedPrecondition)
	}
	pids, err := e.runtimeFor(c).Ps(ctx, c.ID)
	if err != nil {
		return TopResult{}, fmt.Errorf("processes of %s: %w", c.Name, err)
	}
	// ps -q selects the pids at once; some options (f) refuse it, so the
	// whole list is read then.
	q := make([]string, len(pids))
	for i, p := range pids {
		q[i] = strconv.Itoa(p)
	}
	out, err := exec.CommandContext(ctx, "ps", append(append([]string{}, psArgs...), "-q", strings.Join(q, ","))...).Output()
	if err != nil {
		out, err = exec.CommandContext(ctx, "ps", psArgs...).Output()
	}
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return TopResult{}, fmt.Errorf("ps %s: %s: %w", strings.Join(psArgs, " "), msg, errdefs.ErrInvalidArgument)
	}
	return parsePS(string(out), pids)
}

// psPIDFormat finds ps -o formats that rename a column to PID ("-o
// user=PID"), which would make the PID column lie.
var psPIDFormat = regexp.MustCompile(`\s+([^\s]*)=\s*(PID[^\s]*)`)

// checkPSArgs refuses what docker refuses: a column other than pid
// titled PID.
func checkPSArgs(args []string) error {
	for _, m := range psPIDFormat.FindAllStringSubmatch(" "+strings.Join(args, " "), -1) {
		if m[1] != "pid" {
			return fmt.Errorf("ps options %q: specifying \"%s=%s\" is not allowed: %w", strings.Join(args, " "), m[1], m[2], errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// parsePS keeps the lines of ps's output whose PID column is one of pids.
// The last column (the command) keeps its spaces.
func parsePS(out string, pids []int) (TopResult, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	res := TopResult{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	col := slices.Index(res.Titles, "PID")
	if col < 0 {
		return res, fmt.Errorf("couldn't find PID field in ps output (add -o pid): %w", errdefs.ErrInvalidArgument)
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil {
			return res, fmt.Errorf("unexpected pid %q in ps output: %w", f[col], errdefs.ErrInvalidArgument)
		}
		if !slices.Contains(pids, pid) {
			continue
		}
		if n := len(res.Titles); len(f) > n {
			f = append(f[:n-1], strings.Join(f[n-1:], " "))
		}
		res.Processes = append(res.Processes, f)
	}
	return res, nil
}
