package engine

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/linux/cgroups"
	"github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/store"
)

// SystemInfo is `berth system info`, in docker's info field names where
// docker has them.
type SystemInfo struct {
	ID                string      `json:"ID"`
	Containers        int         `json:"Containers"`
	ContainersRunning int         `json:"ContainersRunning"`
	ContainersPaused  int         `json:"ContainersPaused"`
	ContainersStopped int         `json:"ContainersStopped"`
	Images            int         `json:"Images"`
	Volumes           int         `json:"Volumes"`
	Driver            string      `json:"Driver"`
	DriverStatus      [][2]string `json:"DriverStatus"`
	DockerRootDir     string      `json:"DockerRootDir"`
	RunRoot           string      `json:"RunRoot"`
	LoggingDriver     string      `json:"LoggingDriver"`
	CgroupDriver      string      `json:"CgroupDriver"`
	CgroupVersion     string      `json:"CgroupVersion"`
	// Runtimes are the OCI runtimes found: the settings' [runtimes], and
	// berth-runtime, runc, crun, youki and runsc beside berth or in $PATH.
	Runtimes        map[string]RuntimeInfo `json:"Runtimes"`
	DefaultRuntime  string                 `json:"DefaultRuntime"`
	KernelVersion   string                 `json:"KernelVersion"`
	OperatingSystem string                 `json:"OperatingSystem"`
	OSType          string                 `json:"OSType"`
	Architecture    string                 `json:"Architecture"`
	NCPU            int                    `json:"NCPU"`
	MemTotal        int64                  `json:"MemTotal"`
	Name            string                 `json:"Name"`
	ServerVersion   string                 `json:"ServerVersion"`
	SecurityOptions []string               `json:"SecurityOptions"`
	RegistryConfig  RegistryInfo           `json:"RegistryConfig"`
	Warnings        []string               `json:"Warnings"`
}

// RuntimeInfo is one OCI runtime of SystemInfo.
type RuntimeInfo struct {
	Path string `json:"path"`
}

// RegistryInfo is the registries configuration, in docker's shape.
type RegistryInfo struct {
	ConfigFile            string                    `json:"ConfigFile"`
	InsecureRegistryCIDRs []string                  `json:"InsecureRegistryCIDRs"`
	IndexConfigs          map[string]IndexInfo      `json:"IndexConfigs"`
	Mirrors               []string                  `json:"Mirrors"`
	Registries            []registry.RegistryConfig `json:"Registries"`
}

// IndexInfo is one registry of RegistryInfo.
type IndexInfo struct {
	Name     string   `json:"Name"`
	Mirrors  []string `json:"Mirrors"`
	Secure   bool     `json:"Secure"`
	Official bool     `json:"Official"`
}

// Info describes the engine and its host.
func (e *Engine) Info(ctx context.Context) (SystemInfo, error) {
	info := SystemInfo{
		Driver: e.driver, DockerRootDir: e.cfg.Root, RunRoot: e.cfg.RunRoot,
		LoggingDriver: "k8s-file", CgroupDriver: "cgroupfs",
		OSType: runtime.GOOS, Architecture: hostArch(), NCPU: runtime.NumCPU(),
		ServerVersion: Version, SecurityOptions: []string{"name=seccomp,profile=builtin"},
		Runtimes: map[string]RuntimeInfo{}, Warnings: []string{},
	}
	info.DriverStatus = [][2]string{{"Backing Filesystem", backingFS(e.cfg.Root)}}
	if e.driver == "overlay" {
		info.DriverStatus = append(info.DriverStatus, [2]string{"Supports d_type", "true"})
	}
	switch cgroups.HostMode() {
	case cgroups.Unified:
		info.CgroupVersion = "2"
	default:
		info.CgroupVersion = "1"
	}
	if cgroups.HostMode() == cgroups.Hybrid {
		info.Warnings = append(info.Warnings, "cgroups: hybrid host (v1 controllers, v2 mounted for systemd); containers use v1")
	}
	var cs []Container
	var imgs []store.Image
	if err := e.db.View(func(tx *store.Tx) (err error) {
		if cs, err = store.List[Container](tx, store.Containers); err != nil {
			return err
		}
		imgs, err = tx.Images()
		return err
	}); err != nil {
		return info, err
	}
	info.Containers = len(cs)
	for _, c := range cs {
		switch st := e.State(ctx, c); {
		case st.Paused:
			info.ContainersPaused++
		case st.Running:
			info.ContainersRunning++
		default:
			info.ContainersStopped++
		}
	}
	ids := map[string]bool{}
	for _, img := range imgs {
		ids[img.Config.String()] = true
	}
	info.Images = len(ids)
	if vs, err := e.Volumes(nil); err == nil {
		info.Volumes = len(vs)
	}

	for _, name := range []string{"berth-runtime", "runc", "crun", "youki", "runsc"} {
		if p, err := findBinary(name); err == nil {
			info.Runtimes[name] = RuntimeInfo{Path: p}
		}
	}
	for name, p := range e.settings.Runtimes {
		info.Runtimes[name] = RuntimeInfo{Path: p}
	}
	info.DefaultRuntime = e.settings.Engine.Runtime
	if info.DefaultRuntime == "" {
		info.DefaultRuntime = "berth-runtime"
	}

	var u unix.Utsname
	if unix.Uname(&u) == nil {
		info.KernelVersion = unix.ByteSliceToString(u.Release[:])
	}
	info.OperatingSystem = osName()
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		info.MemTotal = int64(si.Totalram) * int64(si.Unit)
	}
	info.Name, _ = os.Hostname()
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		info.ID = strings.TrimSpace(string(b))
	}
	info.RegistryConfig = e.registryInfo()
	return info, nil
}

// registryInfo describes the registries configuration: docker.io is the
// official index; insecure registries and mirrors come from the file.
func (e *Engine) registryInfo() RegistryInfo {
	ri := RegistryInfo{ConfigFile: e.cfg.RegistriesConf, InsecureRegistryCIDRs: []string{"127.0.0.0/8"},
		IndexConfigs: map[string]IndexInfo{"docker.io": {Name: "docker.io", Mirrors: []string{}, Secure: true, Official: true}},
		Mirrors:      []string{}, Registries: []registry.RegistryConfig{}}
	if ri.ConfigFile == "" {
		ri.ConfigFile = registry.DefaultRegistriesPath()
	}
	regs, err := registry.LoadRegistries(e.cfg.RegistriesConf)
	if err != nil || regs == nil {
		return ri
	}
	ri.Registries = append(ri.Registries, regs.Registry...)
	for _, r := range regs.Registry {
		idx := IndexInfo{Name: r.Location, Mirrors: []string{}, Secure: !r.Insecure, Official: r.Location == "docker.io"}
		for _, m := range r.Mirror {
			idx.Mirrors = append(idx.Mirrors, m.Location)
			if r.Location == "docker.io" && !slices.Contains(ri.Mirrors, m.Location) {
				ri.Mirrors = append(ri.Mirrors, m.Location)
			}
		}
		ri.IndexConfigs[r.Location] = idx
	}
	return ri
}

// hostArch is docker's Architecture (uname's machine: x86_64, aarch64).
func hostArch() string {
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		return unix.ByteSliceToString(u.Machine[:])
	}
	return runtime.GOARCH
}

// osName is /etc/os-release's PRETTY_NAME.
func osName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return runtime.GOOS
}

// backingFS names the file system under dir (extfs, xfs, btrfs, tmpfs…).
func backingFS(dir string) string {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return "unknown"
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC:
		return "extfs"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return "unknown"
}
