package spec

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/errdefs"
)

// split turns one fuzzed string into a list ("" is nil).
func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x1f")
}

// FuzzFromImage: whatever the image and the flags, FromImage never panics;
// it either refuses with InvalidArgument or returns a spec with every
// property checkSpec asserts.
func FuzzFromImage(f *testing.F) {
	f.Add("www", "sh\x1f-c\x1fid", "", "A=1\x1fB", "/srv", "app:staff", "wheel\x1f7", "NET_ADMIN", "MKNOD", "net.core.somaxconn", "/data\x1f/data/sub", "SIGQUIT", "80/tcp\x1f53/udp", string(testUsers.Passwd), string(testUsers.Group), false, false, int64(0), int64(0))
	f.Add("", "", "/bin/echo", "", "", "1000:1000", "", "ALL", "", "", "", "", "", "", "", true, true, int64(64<<20), int64(-1))
	f.Add("nobody", "x", "", "PATH", "rel", "", "", "", "ALL", "kernel.shmmax", "/", "RTMIN+2", "1-3", "nobody:x:65534:65534::/:/bin/false", "g:x:1:nobody", false, true, int64(7<<20), int64(1))
	f.Fuzz(func(t *testing.T, imgUser, imgCmd, entrypoint, env, workdir, user, groupAdd, capAdd, capDrop, sysctl, mountDests, stopSignal, expose, passwd, group string, privileged, readOnly bool, memory, swap int64) {
		img := ocispec.ImageConfig{
			User:       imgUser,
			Cmd:        split(imgCmd),
			Env:        split(env),
			WorkingDir: workdir,
			StopSignal: stopSignal,
			Volumes:    map[string]struct{}{workdir: {}},
		}
		opts := baseOptions()
		if entrypoint != "" {
			opts.Entrypoint = strs(split(entrypoint)...)
		}
		opts.Env = split(env)
		opts.User = user
		opts.GroupAdd = split(groupAdd)
		opts.CapAdd, opts.CapDrop = split(capAdd), split(capDrop)
		opts.Privileged, opts.ReadOnly = privileged, readOnly
		opts.Memory, opts.MemorySwap = memory, swap
		opts.ExposedPorts = split(expose)
		if sysctl != "" {
			opts.Sysctls = map[string]string{sysctl: "1"}
		}
		for _, d := range split(mountDests) {
			opts.Mounts = append(opts.Mounts, specs.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs"})
		}
		var users Users
		if passwd != "" {
			users.Passwd = []byte(passwd)
		}
		if group != "" {
			users.Group = []byte(group)
		}

		s, _, err := FromImage(img, opts, users)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("error %v is not InvalidArgument", err)
			}
			return
		}
		checkSpec(t, opts, s)
		_ = ImageVolumes(img.Volumes, s.Mounts)
	})
}
