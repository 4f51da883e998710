package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-project/berth/internal/errdefs"
)

// parsePort reads "PORT[/PROTO]" or "FIRST-LAST[/PROTO]" (docker's
// nat.ParsePortSpec for --expose and EXPOSE) into "PORT/PROTO" entries; the
// protocol defaults to tcp.
func parsePort(s string) ([]string, error) {
	bad := fmt.Errorf("port %q: want PORT[/tcp|udp|sctp] or FIRST-LAST[/PROTO]: %w", s, errdefs.ErrInvalidArgument)
	ports, proto, _ := strings.Cut(s, "/")
	proto = strings.ToLower(proto)
	switch proto {
	case "":
		proto = "tcp"
	case "tcp", "udp", "sctp":
	default:
		return nil, bad
	}
	first, last, isRange := strings.Cut(ports, "-")
	lo, err1 := strconv.ParseUint(first, 10, 16)
	hi := lo
	var err2 error
	if isRange {
		hi, err2 = strconv.ParseUint(last, 10, 16)
	}
	if err1 != nil || err2 != nil || lo == 0 || hi < lo {
		return nil, bad
	}
	out := make([]string, 0, hi-lo+1)
	for p := lo; p <= hi; p++ {
		out = append(out, strconv.FormatUint(p, 10)+"/"+proto)
	}
	return out, nil
}

// exposedPorts is the union of the image's ExposedPorts (an entry that
// does not parse is skipped) and --expose, sorted by number then protocol.
func exposedPorts(image map[string]struct{}, flags []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(ps []string) {
		for _, p := range ps {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	for _, s := range sortedKeys(image) {
		if ps, err := parsePort(s); err == nil {
			add(ps)
		}
	}
	for _, s := range flags {
		ps, err := parsePort(s)
		if err != nil {
			return nil, fmt.Errorf("--expose: %w", err)
		}
		add(ps)
	}
	slices.SortFunc(out, func(a, b string) int {
		pa, _ := strconv.Atoi(strings.SplitN(a, "/", 2)[0])
		pb, _ := strconv.Atoi(strings.SplitN(b, "/", 2)[0])
		if pa != pb {
			return pa - pb
		}
		return strings.Compare(a, b)
	})
	return out, nil
}
