package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestV1Settings(t *testing.T) { requireV1(t); testSettings(t) }
func TestV2Settings(t *testing.T) { requireV2(t); testSettings(t) }

// blockDevice returns the major and minor of some block device of the host.
func blockDevice() (int64, int64, bool) {
	devs, _ := filepath.Glob("/sys/block/*/dev")
	for _, d := range devs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		var maj, min int64
		if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &maj, &min); err == nil {
			return maj, min, true
		}
	}
	return 0, 0, false
}

// testSettings checks the settings beyond the basic ones, with the outcome
// runc 1.1.5 gives on the same host.
func testSettings(t *testing.T) {
	m, _ := newApplied(t)
	maj, min, haveDev := blockDevice()
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			Limit:            ptr(int64(64 << 20)),
			Kernel:           ptr(int64(32 << 20)),
			Swappiness:       ptr(uint64(10)),
			DisableOOMKiller: ptr(true),
		},
	}
	if haveDev {
		r.BlockIO = &specs.LinuxBlockIO{
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 1 << 20}},
		}
	}
	if err := m.Set(r); err != nil {
		t.Fatalf("Set: %v", err)
	}
	dev := fmt.Sprintf("%d:%d", maj, min)
	if m.mode == Unified {
		if got := readFile(t, m.Path(""), "io.max"); haveDev && !strings.HasPrefix(got, dev+" rbps=1048576 ") {
			t.Errorf("io.max = %q, want %s rbps=1048576 …", got, dev)
		}
		// v1-only settings are skipped with a warning, as in runc.
		w := strings.Join(m.Warnings(), "\n")
		for _, s := range []string{"memory.swappiness", "memory.disableOOMKiller"} {
			if !strings.Contains(w, s) {
				t.Errorf("Warnings() = %q, want %s ignored on v2", w, s)
			}
		}
	} else {
		if got := readFile(t, m.Path("memory"), "memory.swappiness"); got != "10" {
			t.Errorf("memory.swappiness = %q, want 10", got)
		}
		if got := strings.Split(readFile(t, m.Path("memory"), "memory.oom_control"), "\n"); !slices.Contains(got, "oom_kill_disable 1") {
			t.Errorf("memory.oom_control = %q, want oom_kill_disable 1", got)
		}
		if got := readFile(t, m.Path("blkio"), "blkio.throttle.read_bps_device"); haveDev && got != dev+" 1048576" {
			t.Errorf("blkio.throttle.read_bps_device = %q, want %q", got, dev+" 1048576")
		}
	}
	// Kernel memory is ignored with a warning, as runc 1.1.5 does.
	if w := strings.Join(m.Warnings(), "\n"); !strings.Contains(w, "memory.kernel") {
		t.Errorf("Warnings() = %q, want the ignored kernel memory", w)
	}

	// A block I/O weight works when the kernel has a weight file (runc
	// falls back to blkio.bfq.weight / io.bfq.weight) and is an error
	// naming the file otherwise.
	err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500))}})
	if m.mode != Unified {
		dir := m.Path("blkio")
		file := ""
		for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
			if _, serr := os.Stat(filepath.Join(dir, f)); serr == nil {
				file = f
				break
			}
		}
		switch {
		case file == "" && (err == nil || !strings.Contains(err.Error(), "weight")):
			t.Errorf("blkio weight without a weight file: error %v, want one naming the file", err)
		case file != "" && err != nil:
			t.Errorf("blkio weight with %s: %v", file, err)
		case file != "":
			if got := readFile(t, dir, file); !strings.Contains(got, "500") {
				t.Errorf("%s = %q, want 500", file, got)
			}
		}
	}

	if m.mode == Unified {
		testV2Only(t, m)
	}

	// v1 settings whose controller is not mounted fail, naming the setting.
	if m.mode != Unified && m.Path("net_cls") == "" {
		err := m.Set(&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001))}})
		if !errors.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "linux.resources.network.classID") {
			t.Errorf("net_cls classID without net_cls: error %v", err)
		}
	}
}

// testV2Only checks what only a v2 host can do: the unified map and hugetlb
// limits (when the kernel has the controller).
func testV2Only(t *testing.T, m *Manager) {
	t.Helper()
	r := &specs.LinuxResources{Unified: map[string]string{"memory.high": "50000000"}}
	hugetlb := slices.Contains(strings.Fields(readFile(t, m.Path(""), "cgroup.controllers")), "hugetlb")
	if hugetlb {
		r.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}
	}
	if err := m.Set(r); err != nil {
		t.Fatalf("Set unified and hugetlb: %v", err)
	}
	if got := readFile(t, m.Path(""), "memory.high"); got != "49999872" && got != "50000000" { // rounded to pages
		t.Errorf("memory.high = %q, want about 50000000", got)
	}
	if hugetlb {
		if got := readFile(t, m.Path(""), "hugetlb.2MB.max"); got != "4194304" {
			t.Errorf("hugetlb.2MB.max = %q, want 4194304", got)
		}
	}
	err := m.Set(&specs.LinuxResources{Unified: map[string]string{"nosuch.file": "1"}})
	if err == nil || !strings.Contains(err.Error(), "nosuch.file") {
		t.Errorf("Set of an unknown unified key: error %v, want one naming it", err)
	}
}
