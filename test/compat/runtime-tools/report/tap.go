package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// noFailure describes the one assertion counted for a program that has no TAP assertions of its own.
const noFailure = "program reports no failure"

// Result is the outcome of one assertion.
type Result string

const (
	Pass Result = "pass"
	Fail Result = "fail"
	Skip Result = "skip" // "# SKIP" and "# TODO"
)

// Assertion is one TAP test line of a validation program. Description is what runs are compared
// by (test numbers differ between runs; descriptions do not). Detail carries, for a failure, the
// failing lines of the runtimetest TAP that the suite nests in a YAML block, or the error text.
type Assertion struct {
	Program     string
	Description string
	Result      Result
	Detail      string
}

// Program is the parsed outcome of one validation program for one runtime.
type Program struct {
	Name       string
	Status     string // ok, fail, exit N, timeout, no plan, plan mismatch, no runtime
	Assertions []Assertion
}

// Count returns how many assertions have result r.
func (p *Program) Count(r Result) int {
	n := 0
	for _, a := range p.Assertions {
		if a.Result == r {
			n++
		}
	}
	return n
}

var (
	testLine  = regexp.MustCompile(`^(not )?ok\b\s*\d*\s*(.*)$`)
	planLine  = regexp.MustCompile(`^1\.\.(\d+)`)
	directive = regexp.MustCompile(`(?i)^(.*?)\s*#\s*(skip|todo)\b\s*(.*)$`)
)

// parseProgram reads <dir>/<name>.tap and .rc as written by run.sh.
//
// The TAP of runtime-tools has three shapes: plain assertions; assertions whose YAML block holds
// the whole TAP of runtimetest (run inside the container) as a JSON "stdout" string, followed by
// one summary assertion; and (the hook programs) the plan `1..0` with, on failure, only a YAML
// block carrying an "error". Only column-0 lines are the program's own; nested TAP is indented
// or JSON-escaped. Anything short of a clean exit with a complete plan adds a failing assertion.
func parseProgram(dir, name string) (*Program, error) {
	p := &Program{Name: name, Status: "ok"}
	rcText, err := os.ReadFile(filepath.Join(dir, name+".rc"))
	if err != nil {
		return nil, err
	}
	rc, _ := strconv.Atoi(strings.TrimSpace(string(rcText)))
	f, err := os.Open(filepath.Join(dir, name+".tap"))
	if err != nil {
		return nil, err
	}
	defer f.Close()

	plan := -1
	var yaml []string // the last YAML block seen
	var inYAML bool
	var errors []string // "error" values of YAML blocks seen outside any assertion (1..0 programs)
	var lastYAML map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case inYAML && strings.TrimSpace(line) == "...":
			inYAML = false
			lastYAML = nil
			_ = json.Unmarshal([]byte(strings.Join(yaml, "\n")), &lastYAML)
			if e, ok := lastYAML["error"].(string); ok && e != "" {
				errors = append(errors, e)
			}
		case inYAML:
			yaml = append(yaml, line)
		case strings.TrimSpace(line) == "---" && strings.HasPrefix(line, " "):
			inYAML, yaml = true, nil
		case planLine.MatchString(line):
			// Some programs print several TAP streams (linux_cgroups_cpus prints a second, empty
			// one); the plan of the whole output is the sum of theirs.
			n, _ := strconv.Atoi(planLine.FindStringSubmatch(line)[1])
			plan = max(plan, 0) + n
		case testLine.MatchString(line):
			m := testLine.FindStringSubmatch(line)
			a := Assertion{Program: name, Result: Pass, Description: strings.TrimPrefix(m[2], "- ")}
			if m[1] != "" {
				a.Result = Fail
			}
			if d := directive.FindStringSubmatch(a.Description); d != nil {
				a.Result = Skip
				a.Description = strings.TrimPrefix(strings.TrimSpace(d[1]+" "+d[3]), "- ")
			}
			if a.Result == Fail {
				a.Detail = nestedFailures(lastYAML)
			}
			lastYAML = nil
			p.Assertions = append(p.Assertions, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}

	n := len(p.Assertions)
	synthetic := func(status, desc, detail string) {
		p.Status = status
		p.Assertions = append(p.Assertions, Assertion{Program: name, Description: desc, Result: Fail, Detail: detail})
	}
	switch {
	case rc == 124 || rc == 137:
		synthetic("timeout", "program finishes within the time limit", "killed by timeout")
	case rc != 0:
		synthetic(fmt.Sprintf("exit %d", rc), "program exits 0", lastLine(filepath.Join(dir, name+".err")))
	case plan <= 0 && n == 0 && len(errors) > 0:
		synthetic("fail", noFailure, strings.Join(errors, "; "))
	case plan <= 0 && n == 0:
		// The hook programs print `1..0` and process_rlimits_fail prints no TAP at all when the
		// runtime behaves; both report a failure only through YAML diagnostics or the exit status.
		p.Assertions = append(p.Assertions, Assertion{Program: name, Result: Pass, Description: noFailure})
	case plan < 0:
		synthetic("no plan", "program prints a TAP plan", "")
	case plan != n:
		synthetic("plan mismatch", "program runs every planned test", fmt.Sprintf("plan 1..%d, ran %d", plan, n))
	}
	if p.Status == "ok" && p.Count(Fail) > 0 {
		p.Status = "fail"
	}
	return p, nil
}

// nestedFailures returns the failing lines of the runtimetest TAP nested in a YAML block, or its error.
func nestedFailures(yaml map[string]any) string {
	if yaml == nil {
		return ""
	}
	var out []string
	if s, ok := yaml["stdout"].(string); ok {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "not ok") && !directive.MatchString(l) {
				out = append(out, strings.TrimSpace(testLine.FindStringSubmatch(l)[2]))
			}
		}
	}
	if len(out) == 0 {
		if e, ok := yaml["error"].(string); ok {
			out = append(out, e)
		}
	}
	return strings.Join(out, "; ")
}

// lastLine returns the last non-empty line of a file (the reason a program exited non-zero).
func lastLine(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
