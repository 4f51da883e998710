package imagearchive

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// ApplyChange applies one Dockerfile-like instruction, as `docker import
// --change` takes it, to cfg:
//
//	CMD ["a", "b"]        CMD a b          (shell form: /bin/sh -c "a b")
//	ENTRYPOINT ["a"]      ENTRYPOINT a b
//	ENV K=v K2="v 2"      ENV K v 2        (legacy form: one variable, the rest of the line)
//	LABEL k=v k2="v 2"    LABEL k v 2
//	EXPOSE 80 53/udp 8000-8002/tcp
//	USER app:app          VOLUME ["/a"]    VOLUME /a /b
//	WORKDIR /srv          WORKDIR sub      (relative to the WORKDIR before it)
//	STOPSIGNAL SIGTERM    STOPSIGNAL 15
//
// Instruction names are case-insensitive. Anything else (RUN, ONBUILD,
// unknown words, a missing argument, a bad port or signal) is
// errdefs.ErrInvalidArgument, naming the change. Variables ($VAR) are not
// expanded.
func ApplyChange(cfg *ocispec.ImageConfig, change string) error {
	instr, arg := cutSpace(strings.TrimSpace(change))
	if instr == "" {
		return fmt.Errorf("change %q: empty: %w", change, errdefs.ErrInvalidArgument)
	}
	if arg == "" {
		return fmt.Errorf("change %q: %s needs an argument: %w", change, strings.ToUpper(instr), errdefs.ErrInvalidArgument)
	}
	var err error
	switch strings.ToUpper(instr) {
	case "CMD":
		cfg.Cmd = command(arg)
	case "ENTRYPOINT":
		cfg.Entrypoint = command(arg)
	case "ENV":
		err = keyValues(arg, func(k, v string) { cfg.Env = setEnv(cfg.Env, k, v) })
	case "LABEL":
		err = keyValues(arg, func(k, v string) {
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			cfg.Labels[k] = v
		})
	case "EXPOSE":
		err = expose(cfg, arg)
	case "USER":
		if strings.ContainsAny(arg, " \t") {
			err = fmt.Errorf("USER takes one user[:group]")
		}
		cfg.User = arg
	case "VOLUME":
		err = volumes(cfg, arg)
	case "WORKDIR":
		if !path.IsAbs(arg) {
			arg = path.Join("/", cfg.WorkingDir, arg)
		}
		cfg.WorkingDir = path.Clean(arg)
	case "STOPSIGNAL":
		err = checkSignal(arg)
		cfg.StopSignal = arg
	default:
		err = fmt.Errorf("%s is not an instruction --change accepts (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)", strings.ToUpper(instr))
	}
	if err != nil {
		return fmt.Errorf("change %q: %v: %w", change, err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// cutSpace splits s at its first white space, trimming the rest.
func cutSpace(s string) (string, string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i+1:])
}

// command reads the exec form (a JSON array of strings) or, failing that,
// the shell form of CMD and ENTRYPOINT.
func command(arg string) []string {
	if list, ok := jsonList(arg); ok {
		return list
	}
	return []string{"/bin/sh", "-c", arg}
}

func jsonList(arg string) ([]string, bool) {
	if !strings.HasPrefix(arg, "[") {
		return nil, false
	}
	var list []string
	if err := json.Unmarshal([]byte(arg), &list); err != nil {
		return nil, false
	}
	return list, true
}

// keyValues reads "k=v k2=\"v 2\"" or the legacy "k the rest".
func keyValues(arg string, set func(k, v string)) error {
	first, rest := cutSpace(arg)
	if !strings.Contains(first, "=") {
		if rest == "" {
			return fmt.Errorf("%q has no value (want key=value or key value)", first)
		}
		set(first, rest)
		return nil
	}
	words, err := splitWords(arg)
	if err != nil {
		return err
	}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value", w)
		}
		set(k, v)
	}
	return nil
}

// splitWords splits s at white space outside quotes, as a Dockerfile does:
// "…" may hold \" and \\, '…' is literal, and \ escapes a character outside
// quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, c := range s {
		switch {
		case escaped:
			if quote == '"' && c != '"' && c != '\\' {
				cur.WriteRune('\\')
			}
			cur.WriteRune(c)
			escaped = false
		case c == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		return nil, fmt.Errorf("trailing backslash")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// expose adds "port[/proto]" and "from-to[/proto]" entries.
func expose(cfg *ocispec.ImageConfig, arg string) error {
	for _, w := range strings.Fields(arg) {
		ports, proto, _ := strings.Cut(w, "/")
		proto = strings.ToLower(proto)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("port %q: protocol %q is not tcp, udp or sctp", w, proto)
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		from, err := portNumber(lo)
		if err != nil {
			return fmt.Errorf("port %q: %v", w, err)
		}
		to := from
		if isRange {
			if to, err = portNumber(hi); err != nil || to < from {
				return fmt.Errorf("port range %q is not from-to", w)
			}
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for p := from; p <= to; p++ {
			cfg.ExposedPorts[strconv.Itoa(p)+"/"+proto] = struct{}{}
		}
	}
	return nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return n, nil
}

func volumes(cfg *ocispec.ImageConfig, arg string) error {
	list, ok := jsonList(arg)
	if !ok {
		list = strings.Fields(arg)
	}
	if len(list) == 0 {
		return fmt.Errorf("no volume")
	}
	for _, v := range list {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("empty volume path")
		}
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		cfg.Volumes[v] = struct{}{}
	}
	return nil
}

// checkSignal accepts a signal number or name (with or without "SIG",
// SIGRTMIN+n and SIGRTMAX-n included), as docker does.
func checkSignal(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return fmt.Errorf("signal %d out of range", n)
		}
		return nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if unix.SignalNum(name) != 0 {
		return nil
	}
	for _, rt := range []struct {
		prefix string
		max    int
	}{{"SIGRTMIN+", 30}, {"SIGRTMAX-", 30}} {
		if off, ok := strings.CutPrefix(name, rt.prefix); ok {
			if n, err := strconv.Atoi(off); err == nil && n >= 0 && n <= rt.max {
				return nil
			}
		}
	}
	return fmt.Errorf("%q is not a signal", s)
}
