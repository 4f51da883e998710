package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newLoginCmd(g *globals) *cobra.Command {
	var user, password string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Log in to a registry",
		Long: `Check a user name and password against a registry and store them for pulls
and pushes: in --authfile, or else docker's ~/.docker/config.json
($DOCKER_CONFIG), where docker and podman find them too. SERVER defaults
to docker.io.`,
		Example: `  berth login -u berth 127.0.0.1:5001
  echo "$PASS" | berth login -u berth --password-stdin 127.0.0.1:5001`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := "docker.io"
			if len(args) == 1 {
				server = args[0]
			}
			in := bufio.NewReader(cmd.InOrStdin())
			if passwordStdin {
				if password != "" {
					return fmt.Errorf("--password and --password-stdin are mutually exclusive")
				}
				if user == "" {
					return fmt.Errorf("--password-stdin needs --username")
				}
				b, err := io.ReadAll(in)
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			var err error
			if user == "" {
				if user, err = prompt(cmd, in, "Username: ", false); err != nil {
					return err
				}
			}
			if password == "" {
				if password, err = prompt(cmd, in, "Password: ", true); err != nil {
					return err
				}
			}
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.Login(cmd.Context(), server, user, password); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "user name")
	f.StringVarP(&password, "password", "p", "", "password (prefer --password-stdin)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

// prompt asks for one line on the terminal (without echo for secrets).
func prompt(cmd *cobra.Command, in *bufio.Reader, question string, secret bool) (string, error) {
	fmt.Fprint(cmd.ErrOrStderr(), question)
	if f, ok := cmd.InOrStdin().(*os.File); ok && secret && isTerminal(f) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read %s %w", strings.ToLower(strings.TrimSuffix(question, ": ")), err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func newLogoutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Forget the credentials of a registry",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := "docker.io"
			if len(args) == 1 {
				server = args[0]
			}
			e, err := g.open()
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.Logout(server); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removing login credentials for %s\n", server)
			return nil
		},
	}
}

// repositoryOf is the repository part of name as docker prints it.
func repositoryOf(name string) string {
	if i := strings.LastIndexAny(name, ":@"); i > strings.LastIndex(name, "/") {
		return name[:i]
	}
	return name
}
