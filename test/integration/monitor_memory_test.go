package integration

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/monitor"
	"github.com/berth-project/berth/test/kit"
)

// memoryContainers is how many containers each side runs at once: enough
// for the shared text of one binary to weigh little in each one's PSS.
const memoryContainers = 10

// memUsage is what /proc/<pid>/smaps_rollup says of a process, in KiB.
type memUsage struct {
	RSS, PSS, PrivateClean, PrivateDirty int
}

func (u memUsage) uss() int { return u.PrivateClean + u.PrivateDirty }

func smapsRollup(t *testing.T, pid int) memUsage {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var u memUsage
	fields := map[string]*int{"Rss:": &u.RSS, "Pss:": &u.PSS, "Private_Clean:": &u.PrivateClean, "Private_Dirty:": &u.PrivateDirty}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) == 3 {
			if p, ok := fields[parts[0]]; ok {
				*p, _ = strconv.Atoi(parts[1])
			}
		}
	}
	return u
}

func meanUsage(t *testing.T, pids []int) memUsage {
	t.Helper()
	var sum memUsage
	for _, pid := range pids {
		u := smapsRollup(t, pid)
		sum.RSS += u.RSS
		sum.PSS += u.PSS
		sum.PrivateClean += u.PrivateClean
		sum.PrivateDirty += u.PrivateDirty
	}
	n := len(pids)
	return memUsage{sum.RSS / n, sum.PSS / n, sum.PrivateClean / n, sum.PrivateDirty / n}
}

// launchMany starts memoryContainers monitors of bundles made by mk and
// returns their pids.
func launchMany(t *testing.T, e *monitorEnv, mk func(cfg *monitor.Config, b *kit.Bundle)) ([]int, []*monitor.Config) {
	var pids []int
	var cfgs []*monitor.Config
	for range memoryContainers {
		b := kit.NewBundle(t)
		b.Spec.Process.Args = []string{"/probe", "sleep", "1000"}
		cfg := e.config(b)
		mk(cfg, b)
		if err := b.Save(); err != nil {
			t.Fatal(err)
		}
		l := e.launch(cfg, b)
		t.Cleanup(func() { _ = e.rt.Kill(context.Background(), cfg.ID, syscall.SIGKILL, false) })
		pids = append(pids, l.Process.Pid)
		cfgs = append(cfgs, cfg)
	}
	return pids, cfgs
}

// TestMonitorMemory measures the memory of berth-monitor and of Podman's
// conmon, each the monitor of memoryContainers containers at once
// (berth-runtime, `/probe sleep`), and logs the means; docs/performance.md
// keeps the numbers of a run:
//
//	BERTH_BIN_DIR=$PWD/bin go test -count=1 -v -run TestMonitorMemory ./test/integration
//
// "busy" monitors have logged 20000 lines and run a health check every
// 100 ms, 20 times at least, before they are measured.
func TestMonitorMemory(t *testing.T) {
	e := newMonitorEnv(t, "berth-runtime")
	idle, _ := launchMany(t, e, func(*monitor.Config, *kit.Bundle) {})
	busy, busyCfgs := launchMany(t, e, func(cfg *monitor.Config, b *kit.Bundle) {
		b.Spec.Process.Args = []string{"/bin/sh", "-c", "seq 1 20000; exec /probe sleep 1000"}
		cfg.Log.MaxSize, cfg.Log.MaxFiles = 64<<10, 2
		cfg.Health = &monitor.HealthConfig{Test: []string{"CMD", "/bin/true"}, Interval: 100 * time.Millisecond}
	})
	for _, cfg := range busyCfgs {
		waitFor(t, "20 health checks and a rotated log", func() bool {
			h, err1 := monitor.ReadHealth(cfg.RunDir)
			st, err2 := monitor.ReadState(cfg.RunDir)
			if err1 != nil || err2 != nil || len(h.Log) < 5 {
				return false
			}
			_, err := os.Stat(cfg.Log.Path + ".1")
			return err == nil && h.Log[len(h.Log)-1].Start.Sub(st.StartedAt) >= 20*cfg.Health.Interval
		}, cfg)
	}
	berthIdle, berthBusy := meanUsage(t, idle), meanUsage(t, busy)

	p := startPodman(t)
	var names []string
	for range memoryContainers {
		name := "mem-" + randomSuffix()
		p.must(t, append(append([]string{"run", "-d", "--name", name}, p.runFlags(t, e.rt.Path)...), podmanImage, "/probe", "sleep", "1000")...)
		names = append(names, name)
	}
	defer func() {
		for _, n := range names {
			p.run(t, "rm", "-f", "-t", "0", n)
		}
	}()
	var conmons []int
	for _, pid := range pidsWithArg(p.dir) {
		if procComm(pid) == "conmon" {
			conmons = append(conmons, pid)
		}
	}
	if len(conmons) != memoryContainers {
		t.Fatalf("%d conmon processes, want %d", len(conmons), memoryContainers)
	}
	conmon := meanUsage(t, conmons)

	t.Logf("mean per monitor of %d containers, KiB:", memoryContainers)
	t.Logf("| monitor | RSS | PSS | USS (private) | private dirty |")
	t.Logf("|---|---|---|---|---|")
	for _, row := range []struct {
		name string
		u    memUsage
	}{{"berth-monitor, idle", berthIdle}, {"berth-monitor, busy", berthBusy}, {"conmon (Podman), idle", conmon}} {
		t.Logf("| %s | %d | %d | %d | %d |", row.name, row.u.RSS, row.u.PSS, row.u.uss(), row.u.PrivateDirty)
	}
	t.Logf("PSS berth-monitor/conmon: idle %.2f, busy %.2f", float64(berthIdle.PSS)/float64(conmon.PSS), float64(berthBusy.PSS)/float64(conmon.PSS))
	// A guard against regressions, far above what it measures (~1.1 MiB).
	if berthIdle.PSS > 3<<10 {
		t.Errorf("an idle berth-monitor's PSS is %d KiB", berthIdle.PSS)
	}
}
