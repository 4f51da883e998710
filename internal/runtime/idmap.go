package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/linux/nsenter"
	"github.com/berth-project/berth/internal/runtime/initproc"
)

// ownIDsOnly reports whether the spec's id mappings are what an
// unprivileged user may write itself: one id each, its own uid and gid.
func ownIDsOnly(spec *specs.Spec) bool {
	u, g := spec.Linux.UIDMappings, spec.Linux.GIDMappings
	return len(u) == 1 && len(g) == 1 &&
		u[0].Size == 1 && int(u[0].HostID) == os.Geteuid() &&
		g[0].Size == 1 && int(g[0].HostID) == os.Getegid()
}

// writeIDMaps answers the constructor of an unprivileged init that made its
// user namespace: newuidmap and newgidmap (setuid root, shadow's) write the
// maps, allowed by /etc/subuid and /etc/subgid, then the init goes on as the
// namespace's root.
func (sp *spawn) writeIDMaps() error {
	var m initproc.Message
	if err := sp.dec.Decode(&m); err != nil {
		return fmt.Errorf("container init exited before its user namespace was made")
	}
	switch {
	case m.Type == initproc.MsgError:
		return errors.New(m.Msg)
	case m.Type != nsenter.MsgIDMap:
		return fmt.Errorf("container init sent %q, want %q", m.Type, nsenter.MsgIDMap)
	}
	pid := strconv.Itoa(sp.cmd.Process.Pid)
	for _, t := range []struct {
		helper string
		maps   []specs.LinuxIDMapping
	}{{"newuidmap", sp.spec.Linux.UIDMappings}, {"newgidmap", sp.spec.Linux.GIDMappings}} {
		if len(t.maps) == 0 {
			continue
		}
		if err := runIDMapHelper(t.helper, pid, t.maps); err != nil {
			return err
		}
	}
	if err := json.NewEncoder(sp.parentSync).Encode(initproc.Message{Type: nsenter.MsgIDMapDone}); err != nil {
		return fmt.Errorf("container init: %w", err)
	}
	return nil
}

func runIDMapHelper(helper, pid string, maps []specs.LinuxIDMapping) error {
	path, err := exec.LookPath(helper)
	if err != nil {
		return fmt.Errorf("id mappings beyond the user's own ids need %s (Debian's uidmap package): %w", helper, err)
	}
	args := []string{pid}
	for _, m := range maps {
		args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10), strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
	}
	cmd := exec.Command(path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", helper, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
