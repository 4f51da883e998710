package cgroups

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/testenv"
)

// The tests in this file run on v1/hybrid hosts (TestV1…) and on v2 hosts
// (TestV2…, in the test/vm cgroup v2 machine); both run the same body and
// read back the files of their host's layout.

// A host has one layout, so the other layout's tests skip even when strict:
// CI proves v1/hybrid on the host (make test-root) and v2 in the test/vm
// machine (make test-cgroup2).

func requireV1(t *testing.T) {
	t.Helper()
	testenv.RequiresRoot(t)
	if HostMode() == Unified {
		t.Skip("skipping: cgroup v1 test on a cgroup v2 host")
	}
	testenv.RequiresCgroup1(t)
}

func requireV2(t *testing.T) {
	t.Helper()
	testenv.RequiresRoot(t)
	if HostMode() != Unified {
		t.Skipf("skipping: cgroup v2 test on a %s host (make test-cgroup2 runs it)", HostMode())
	}
	testenv.RequiresCgroup2(t)
}

func TestV1Lifecycle(t *testing.T) { requireV1(t); testLifecycle(t) }
func TestV2Lifecycle(t *testing.T) { requireV2(t); testLifecycle(t) }

func TestV1BadInput(t *testing.T) { requireV1(t); testBadInput(t) }
func TestV2BadInput(t *testing.T) { requireV2(t); testBadInput(t) }

func TestV1LoadAndDestroyIdempotent(t *testing.T) { requireV1(t); testLoad(t) }
func TestV2LoadAndDestroyIdempotent(t *testing.T) { requireV2(t); testLoad(t) }

// lifecycleResources is what testLifecycle sets.
func lifecycleResources() *specs.LinuxResources {
	return &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		Memory: &specs.LinuxMemory{
			Limit:       ptr(int64(64 << 20)),
			Reservation: ptr(int64(32 << 20)),
		},
		CPU: &specs.LinuxCPU{
			Shares: ptr(uint64(512)),
			Quota:  ptr(int64(50000)),
			Period: ptr(uint64(100000)),
			Cpus:   "0",
			Mems:   "0",
		},
		Pids: &specs.LinuxPids{Limit: ptr(int64(10))},
	}
}

func testLifecycle(t *testing.T) {
	m, c := newApplied(t)
	if err := m.Set(lifecycleResources()); err != nil {
		t.Fatalf("Set: %v", err)
	}

	// The limits are in the kernel's files.
	type check struct{ ctrl, file, want string }
	var checks []check
	if m.mode == Unified {
		checks = []check{
			{"", "memory.max", strconv.Itoa(64 << 20)},
			{"", "memory.low", strconv.Itoa(32 << 20)},
			{"", "cpu.max", "50000 100000"},
			{"", "cpu.weight", "59"}, // shares 512, by the library's quadratic fit (1024 → 100)
			{"", "cpuset.cpus", "0"},
			{"", "cpuset.mems", "0"},
			{"", "pids.max", "10"},
		}
	} else {
		checks = []check{
			{"memory", "memory.limit_in_bytes", strconv.Itoa(64 << 20)},
			{"memory", "memory.soft_limit_in_bytes", strconv.Itoa(32 << 20)},
			{"cpu", "cpu.shares", "512"},
			{"cpu", "cpu.cfs_quota_us", "50000"},
			{"cpu", "cpu.cfs_period_us", "100000"},
			{"cpuset", "cpuset.cpus", "0"},
			{"cpuset", "cpuset.mems", "0"},
			{"pids", "pids.max", "10"},
		}
	}
	for _, ck := range checks {
		if got := readFile(t, m.Path(ck.ctrl), ck.file); got != ck.want {
			t.Errorf("%s = %q, want %q", filepath.Join(m.Path(ck.ctrl), ck.file), got, ck.want)
		}
	}
	if m.mode != Unified {
		list := strings.Split(readFile(t, m.Path("devices"), "devices.list"), "\n")
		for _, want := range []string{"c 1:3 rwm", "c 136:* rwm", "c *:* m", "b *:* m"} {
			if !slices.Contains(list, want) {
				t.Errorf("devices.list %q lacks %q", list, want)
			}
		}
		if slices.Contains(list, "a *:* rwm") {
			t.Errorf("devices.list %q still allows everything", list)
		}
	}

	// The child sits in every cgroup of the container.
	for ctrl, dir := range m.Paths() {
		procs := strings.Fields(readFile(t, dir, "cgroup.procs"))
		if !slices.Contains(procs, strconv.Itoa(c.pid())) {
			t.Errorf("controller %q: pid %d not in %s/cgroup.procs %v", ctrl, c.pid(), dir, procs)
		}
	}
	if m.mode == Hybrid {
		if want := filepath.Join(root, "unified", strings.TrimPrefix(m.Path("memory"), root+"/memory")); m.Path("") != want {
			t.Errorf("hybrid cgroup2 path = %q, want %q", m.Path(""), want)
		}
	}
	pids, err := m.Pids()
	if err != nil || !slices.Equal(pids, []int{c.pid()}) {
		t.Errorf("Pids() = %v, %v; want [%d]", pids, err, c.pid())
	}

	// The device allow-list is enforced: defaults yes, the rest no, and a
	// second Set replaces the rules.
	if got := c.open(t, "/dev/null"); got != "ok" {
		t.Errorf("open /dev/null in the container cgroup: %s, want ok", got)
	}
	if got := c.open(t, "/dev/kmsg"); got != "denied" {
		t.Errorf("open /dev/kmsg in the container cgroup: %s, want denied", got)
	}
	r := lifecycleResources()
	r.Devices = append(r.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(11)), Access: "r"})
	if err := m.Set(r); err != nil {
		t.Fatalf("Set with /dev/kmsg allowed: %v", err)
	}
	if got := c.open(t, "/dev/kmsg"); got != "ok" {
		t.Errorf("open /dev/kmsg after allowing c 1:11 r: %s, want ok", got)
	}

	// Freeze and thaw.
	if err := m.Freeze(); err != nil {
		t.Fatalf("Freeze: %v", err)
	}
	assertFrozen(t, m, true)
	if s, err := m.FreezerState(); err != nil || s != "FROZEN" {
		t.Errorf("FreezerState() = %q, %v; want FROZEN", s, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatalf("Thaw: %v", err)
	}
	assertFrozen(t, m, false)
	if s, err := m.FreezerState(); err != nil || s != "THAWED" {
		t.Errorf("FreezerState() = %q, %v; want THAWED", s, err)
	}
	if got := c.open(t, "/dev/null"); got != "ok" { // it runs again
		t.Errorf("open /dev/null after thaw: %s", got)
	}

	// Stats.
	st, err := m.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Pids.Current != 1 || st.Pids.Limit != 10 {
		t.Errorf("Stats().Pids = %+v, want current 1 limit 10", st.Pids)
	}
	if st.Memory.Usage.Limit != 64<<20 {
		t.Errorf("Stats().Memory.Usage = %+v, want limit %d", st.Memory.Usage, 64<<20)
	}
	if st.CPU.Usage.Total == 0 {
		t.Errorf("Stats().CPU.Usage.Total = 0, want > 0")
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("marshal stats: %v", err)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Errorf("OOMKillCount() = %d, %v; want 0", n, err)
	}
}

// assertFrozen reads the kernel's freezer file of the container.
func assertFrozen(t *testing.T, m *Manager, frozen bool) {
	t.Helper()
	if m.mode == Unified {
		want := map[bool]string{true: "frozen 1", false: "frozen 0"}[frozen]
		if ev := strings.Split(readFile(t, m.Path(""), "cgroup.events"), "\n"); !slices.Contains(ev, want) {
			t.Errorf("cgroup.events %q lacks %q", ev, want)
		}
		return
	}
	want := map[bool]string{true: "FROZEN", false: "THAWED"}[frozen]
	if got := readFile(t, m.Path("freezer"), "freezer.state"); got != want {
		t.Errorf("freezer.state = %q, want %q", got, want)
	}
}

func testBadInput(t *testing.T) {
	if _, err := New("../../etc", "x", false); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "../../etc") {
		t.Errorf(`New("../../etc") error = %v, want InvalidArgument naming the path`, err)
	}
	assertNoDir(t, "/etc")
	assertNoDir(t, "/berth/etc")

	bad := []struct {
		name    string
		r       *specs.LinuxResources
		class   error
		mention string
	}{
		{"unknown device type", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x", Access: "rwm"}}},
			errdefs.ErrInvalidArgument, `device type "x"`},
		{"invalid cpuset", &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "abc"}},
			errdefs.ErrInvalidArgument, `linux.resources.cpu.cpus "abc"`},
	}
	if HostMode() != Unified {
		bad = append(bad, struct {
			name    string
			r       *specs.LinuxResources
			class   error
			mention string
		}{"unified on v1", &specs.LinuxResources{Unified: map[string]string{"memory.max": "1000000"}},
			errdefs.ErrFailedPrecondition, "linux.resources.unified"})
		if _, err := os.Stat(filepath.Join(root, "hugetlb")); err != nil {
			bad = append(bad, struct {
				name    string
				r       *specs.LinuxResources
				class   error
				mention string
			}{"hugetlb without v1 controller", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}},
				errdefs.ErrFailedPrecondition, "linux.resources.hugepageLimits"})
		}
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := testCgroupPath(t)
			m, err := New(p, "x", false)
			if err != nil {
				t.Fatal(err)
			}
			// Set fails before writing; Destroy (the caller's rollback)
			// leaves nothing.
			if err := m.Apply(-1); err != nil {
				t.Fatal(err)
			}
			before := readAll(t, m.Paths())
			err = m.Set(tc.r)
			if !errors.Is(err, tc.class) || !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("Set error = %v, want %v mentioning %q", err, tc.class, tc.mention)
			}
			if after := readAll(t, m.Paths()); !equalMaps(before, after) {
				t.Errorf("Set changed cgroup files despite failing")
			}
			paths := m.Paths()
			if err := m.Destroy(); err != nil {
				t.Fatal(err)
			}
			assertGone(t, paths)
			assertNoDir(t, p)
		})
	}
}

// readAll reads the writable limit files of the container's cgroups.
func readAll(t *testing.T, paths map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range paths {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			info, err := e.Info()
			if err != nil || info.Mode()&0o200 == 0 || !info.Mode().IsRegular() || strings.HasPrefix(e.Name(), "cgroup.") {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				out[filepath.Join(dir, e.Name())] = string(b)
			}
		}
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testLoad(t *testing.T) {
	m, c := newApplied(t)
	saved, err := json.Marshal(m.Paths())
	if err != nil {
		t.Fatal(err)
	}
	var paths map[string]string
	if err := json.Unmarshal(saved, &paths); err != nil {
		t.Fatal(err)
	}
	l, err := Load(paths, false)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	if pids, err := l.Pids(); err != nil || !slices.Equal(pids, []int{c.pid()}) {
		t.Errorf("loaded Pids() = %v, %v; want [%d]", pids, err, c.pid())
	}
	if err := l.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(7))}}); err != nil {
		t.Fatalf("loaded Set: %v", err)
	}
	if got := readFile(t, l.Path("pids"), "pids.max"); got != "7" {
		t.Errorf("pids.max = %q after Set through the loaded manager, want 7", got)
	}
	c.stop()
	if err := l.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	assertGone(t, paths)
	if err := l.Destroy(); err != nil { // already gone: no error
		t.Errorf("second Destroy: %v", err)
	}

	if _, err := Load(map[string]string{"memory": "/etc/passwd"}, false); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Load of a path outside %s: error = %v, want InvalidArgument", root, err)
	}
	if _, err := Load(map[string]string{"memory": root + "/memory/../../../etc"}, false); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Load of an unclean path: error = %v, want InvalidArgument", err)
	}
}
