// Command report summarizes runtime-tools validation runs written by
// test/compat/runtime-tools/run.sh, compares a subject runtime (berth-runtime) with a reference
// (runc) assertion by assertion, and renders the comparison as markdown.
//
//	report -known known-failures.txt -out .cache/compat -subject berth-runtime -reference runc \
//	       [-update-doc docs/conformance.md] runc=.cache/compat/runc berth-runtime=.cache/compat/berth-runtime
//
// It writes <out>/<runtime>.tsv (program, pass, fail, skip, status) and
// <out>/<runtime>.assertions.tsv (program, result, description, detail), prints the table, the
// line "conformance: N passed, N failed" for the subject, and a verdict. It exits 1 when the
// subject fails an assertion the reference passes, unless known-failures.txt lists it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Run is every program's outcome for one runtime.
type Run struct {
	Runtime  string
	Missing  bool // the runtime binary does not exist: it fails everything
	Programs map[string]*Program
}

func main() {
	known := flag.String("known", "", "known-failures file: program<TAB>assertion<TAB>reason")
	out := flag.String("out", "", "directory for the <runtime>.tsv summaries")
	subject := flag.String("subject", "berth-runtime", "runtime under test")
	reference := flag.String("reference", "runc", "runtime to compare against")
	doc := flag.String("update-doc", "", "markdown file whose marked section receives the table")
	flag.Parse()
	if err := run(*known, *out, *subject, *reference, *doc, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
}

func run(knownPath, out, subject, reference, doc string, args []string) error {
	known, err := loadKnown(knownPath)
	if err != nil {
		return err
	}
	var runs []*Run
	for _, arg := range args {
		name, dir, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("argument %q: want runtime=dir", arg)
		}
		r, err := loadRun(name, dir)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	ref, subj := find(runs, reference), find(runs, subject)
	if subj != nil && subj.Missing {
		failEverything(subj, ref)
	}
	for _, r := range runs {
		if out != "" {
			if err := writeTSV(r, out); err != nil {
				return err
			}
		}
	}

	md := render(runs, known)
	fmt.Print(md)
	if doc != "" {
		if err := updateDoc(doc, md); err != nil {
			return err
		}
	}

	if subj == nil {
		return nil
	}
	p, f := totals(subj)
	fmt.Printf("conformance: %d passed, %d failed\n", p, f)
	if ref == nil {
		return nil
	}
	regressions := compare(subj, ref, known)
	if len(regressions) == 0 {
		fmt.Printf("verdict: %s passes every assertion %s passes (%s: %d failed, %s: %d failed)\n",
			subject, reference, subject, f, reference, second(totals(ref)))
		return nil
	}
	fmt.Printf("verdict: %s fails %d assertion(s) that %s passes:\n", subject, len(regressions), reference)
	shown := map[string]int{} // at most 5 lines per program; a crashed program loses hundreds
	for _, a := range regressions {
		if shown[a.Program]++; shown[a.Program] <= 5 {
			fmt.Printf("  %s: %s\n", a.Program, a.Description)
		}
	}
	for prog, n := range shown {
		if n > 5 {
			fmt.Printf("  %s: … and %d more\n", prog, n-5)
		}
	}
	os.Exit(1)
	return nil
}

func second(_, b int) int { return b }

func find(runs []*Run, name string) *Run {
	for _, r := range runs {
		if r.Runtime == name {
			return r
		}
	}
	return nil
}

func loadRun(name, dir string) (*Run, error) {
	r := &Run{Runtime: name, Programs: map[string]*Program{}}
	if _, err := os.Stat(filepath.Join(dir, ".missing")); err == nil {
		r.Missing = true
		return r, nil
	}
	rcs, err := filepath.Glob(filepath.Join(dir, "*.rc"))
	if err != nil {
		return nil, err
	}
	for _, rc := range rcs {
		p, err := parseProgram(dir, strings.TrimSuffix(filepath.Base(rc), ".rc"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r.Programs[p.Name] = p
	}
	return r, nil
}

// failEverything gives a missing runtime every assertion of the reference (or one per program), failed.
func failEverything(subj, ref *Run) {
	if ref == nil {
		return
	}
	for name, rp := range ref.Programs {
		p := &Program{Name: name, Status: "no runtime"}
		for _, a := range rp.Assertions {
			p.Assertions = append(p.Assertions, Assertion{Program: name, Description: a.Description, Result: Fail, Detail: "runtime binary missing"})
		}
		if len(p.Assertions) == 0 {
			p.Assertions = []Assertion{{Program: name, Description: "program runs", Result: Fail, Detail: "runtime binary missing"}}
		}
		subj.Programs[name] = p
	}
}

func totals(r *Run) (pass, fail int) {
	for _, p := range r.Programs {
		pass += p.Count(Pass)
		fail += p.Count(Fail)
	}
	return pass, fail
}

// compare returns the assertions the subject fails and the reference passes. Descriptions repeat
// within a program (one per hugepage size, per mount…), so they are compared as multisets: the
// subject regresses when it passes a description fewer times than the reference does, in a program
// where it does not pass everything it ran.
func compare(subj, ref *Run, known map[string]string) []Assertion {
	var out []Assertion
	for _, name := range sortedPrograms(ref) {
		passes := map[string]int{}
		for _, a := range ref.Programs[name].Assertions {
			if a.Result == Pass {
				passes[a.Description]++
			}
		}
		sp := subj.Programs[name]
		if sp != nil && sp.Status == "ok" {
			// Every assertion the subject ran passed and its TAP was complete. The reference may
			// have run more (process_capabilities_fail: runc ignores the bad capability and runs
			// runtimetest; the subject rejects the config, as the spec wants), which is no regression.
			continue
		}
		if sp != nil {
			for _, a := range sp.Assertions {
				if a.Result == Pass {
					passes[a.Description]--
				}
			}
		}
		descs := make([]string, 0, len(passes))
		for d, n := range passes {
			if n > 0 && known[name+"\t"+d] == "" {
				descs = append(descs, d)
			}
		}
		sort.Strings(descs)
		for _, d := range descs {
			out = append(out, Assertion{Program: name, Description: d, Result: Fail})
		}
	}
	return out
}

func sortedPrograms(runs ...*Run) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range runs {
		for n := range r.Programs {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names
}

func writeTSV(r *Run, out string) error {
	var sum, all strings.Builder
	sum.WriteString("program\tpass\tfail\tskip\tstatus\n")
	all.WriteString("program\tresult\tdescription\tdetail\n")
	for _, name := range sortedPrograms(r) {
		p := r.Programs[name]
		fmt.Fprintf(&sum, "%s\t%d\t%d\t%d\t%s\n", name, p.Count(Pass), p.Count(Fail), p.Count(Skip), p.Status)
		for _, a := range p.Assertions {
			fmt.Fprintf(&all, "%s\t%s\t%s\t%s\n", name, a.Result, oneLine(a.Description), oneLine(a.Detail))
		}
	}
	if err := os.WriteFile(filepath.Join(out, r.Runtime+".tsv"), []byte(sum.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, r.Runtime+".assertions.tsv"), []byte(all.String()), 0o644)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// loadKnown reads "program<TAB>assertion description<TAB>reason" lines; # starts a comment line.
func loadKnown(path string) (map[string]string, error) {
	known := map[string]string{}
	if path == "" {
		return known, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || f[2] == "" {
			return nil, fmt.Errorf("%s:%d: want program<TAB>assertion<TAB>reason", path, i+1)
		}
		known[f[0]+"\t"+f[1]] = f[2]
	}
	return known, nil
}
