package kit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// cgroupRoot is where the cgroup hierarchies are mounted: one directory per
// v1 controller and "unified" on a hybrid host, or the v2 hierarchy itself.
const cgroupRoot = "/sys/fs/cgroup"

// liveBundles counts this process's bundles whose cgroups are not yet removed;
// the /berth parent is removed when it drops to zero.
var liveBundles struct {
	sync.Mutex
	n int
}

// trackCgroup removes b's cgroup (as its spec names it when the test ends)
// from every hierarchy at the end of the test.
func trackCgroup(t testing.TB, b *Bundle) {
	liveBundles.Lock()
	liveBundles.n++
	liveBundles.Unlock()
	t.Cleanup(func() {
		if b.Spec != nil && b.Spec.Linux != nil {
			if p := b.Spec.Linux.CgroupsPath; strings.HasPrefix(p, CgroupParent+"/") {
				for _, err := range removeCgroup(p) {
					t.Errorf("kit: cgroup left behind: %v", err)
				}
			}
		}
		liveBundles.Lock()
		defer liveBundles.Unlock()
		liveBundles.n--
		if liveBundles.n == 0 {
			removeParent()
		}
	})
}

// removeCgroup removes the cgroup at path (and any cgroups below it) from
// every hierarchy, returning one error per directory that stays.
func removeCgroup(path string) []error {
	dirs := []string{filepath.Join(cgroupRoot, path)}
	matches, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", path))
	dirs = append(dirs, matches...)
	seen := map[string]bool{}
	var errs []error
	for _, d := range dirs {
		real, err := filepath.EvalSymlinks(d) // "cpu" links to "cpu,cpuacct"
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		if err := removeCgroupDir(real); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// removeCgroupDir removes a cgroup directory below-first; cgroup directories
// are removed with rmdir although they hold the controllers' files.
func removeCgroupDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupDir(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// removeParent removes the empty /berth parent from every hierarchy. It never
// touches cgroups below it: another test process may be using them.
func removeParent() {
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", CgroupParent))
	for _, d := range append(dirs, filepath.Join(cgroupRoot, CgroupParent)) {
		_ = syscall.Rmdir(d) // fails, harmlessly, while a cgroup is below it
	}
}
