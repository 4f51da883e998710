package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/runtime"
)

func newExecCmd(g *globals) *cobra.Command {
	var (
		env, addCaps            []string
		cwd, user, processFile  string
		consoleSocket, pidFile  string
		tty, detach, noNewPrivs bool
		preserveFds             int
		additionalGids          []int
		apparmor                string
	)
	cmd := &cobra.Command{
		Use:   "exec [flags] <container-id> <command> [args...]",
		Short: "Run a new process in a running container",
		Long: `exec starts a process inside every namespace and the cgroup of a running
container. The process is described by the flags and arguments, or whole by
--process (a runtime-spec process JSON). In the foreground exec waits and
exits with the process's status.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := g.runtime()
			id := args[0]
			var p *specs.Process
			if processFile != "" {
				data, err := os.ReadFile(processFile)
				if err != nil {
					return fmt.Errorf("read process %s: %w", processFile, err)
				}
				p = &specs.Process{}
				if err := json.Unmarshal(data, p); err != nil {
					return fmt.Errorf("parse process %s: %v: %w", processFile, err, errdefs.ErrInvalidArgument)
				}
			} else {
				if len(args) < 2 {
					return fmt.Errorf("exec needs a command (or --process): %w", errdefs.ErrInvalidArgument)
				}
				st, err := r.ContainerSpec(id)
				if err != nil {
					return err
				}
				base := *st.Process
				p = &base
				p.Args = args[1:]
				p.Terminal = tty
				p.ConsoleSize = nil
				p.Env = append(append([]string(nil), base.Env...), env...)
				if cwd != "" {
					p.Cwd = cwd
				}
				if user != "" {
					u, err := parseUser(user)
					if err != nil {
						return err
					}
					p.User.UID, p.User.GID = u.UID, u.GID
				}
				for _, gid := range additionalGids {
					p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(gid))
				}
				if noNewPrivs {
					p.NoNewPrivileges = true
				}
				if apparmor != "" {
					p.ApparmorProfile = apparmor
				}
				if len(addCaps) > 0 && p.Capabilities != nil {
					c := *p.Capabilities
					c.Bounding = append(append([]string(nil), c.Bounding...), addCaps...)
					c.Effective = append(append([]string(nil), c.Effective...), addCaps...)
					c.Permitted = append(append([]string(nil), c.Permitted...), addCaps...)
					p.Capabilities = &c
				}
			}
			return exitStatus(r.Exec(runtime.ExecOptions{
				ID: id, Process: p, ConsoleSocket: consoleSocket, PidFile: pidFile,
				Detach: detach, PreserveFds: preserveFds,
			}))
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.StringArrayVarP(&env, "env", "e", nil, "set an environment variable (KEY=VALUE)")
	f.StringVar(&cwd, "cwd", "", "working directory in the container")
	f.StringVarP(&user, "user", "u", "", "uid[:gid] to run as")
	f.IntSliceVarP(&additionalGids, "additional-gids", "g", nil, "additional group ids")
	f.StringVarP(&processFile, "process", "p", "", "runtime-spec process JSON file describing the whole process")
	f.StringVar(&consoleSocket, "console-socket", "", "unix socket that receives the pty master")
	f.StringVar(&pidFile, "pid-file", "", "write the process's pid to this file")
	f.BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-terminal")
	f.BoolVarP(&detach, "detach", "d", false, "start the process and return")
	f.BoolVar(&noNewPrivs, "no-new-privs", false, "set no_new_privs for the process")
	f.StringArrayVarP(&addCaps, "cap", "c", nil, "add a capability to the process")
	f.StringVarP(&apparmor, "apparmor", "a", "", "AppArmor profile for the process")
	f.IntVar(&preserveFds, "preserve-fds", 0, "pass this many fds from 3 on to the process")
	return cmd
}

func parseUser(s string) (specs.User, error) {
	var u specs.User
	parts := strings.SplitN(s, ":", 2)
	uid, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return u, fmt.Errorf("--user %q: want uid[:gid] as numbers: %w", s, errdefs.ErrInvalidArgument)
	}
	u.UID = uint32(uid)
	if len(parts) == 2 {
		gid, err := strconv.ParseUint(parts[1], 10, 32)
		if err != nil {
			return u, fmt.Errorf("--user %q: want uid[:gid] as numbers: %w", s, errdefs.ErrInvalidArgument)
		}
		u.GID = uint32(gid)
	}
	return u, nil
}
