package seccomp

import "slices"

// Actions lists the actions Compile accepts (for `berth-runtime features`).
func Actions() []string {
	var out []string
	for a := range actionBase {
		out = append(out, string(a))
	}
	slices.Sort(out)
	return out
}

// Operators lists the argument comparisons Compile accepts.
func Operators() []string {
	var out []string
	for _, op := range operators {
		out = append(out, string(op))
	}
	slices.Sort(out)
	return out
}

// Archs lists the architectures Compile has syscall tables for.
func Archs() []string {
	var out []string
	for _, a := range arches {
		out = append(out, string(a.name))
	}
	slices.Sort(out)
	return out
}

// KnownFlags lists the seccomp flags Compile recognises.
func KnownFlags() []string {
	var out []string
	for _, f := range knownFlags {
		out = append(out, string(f.name))
	}
	return out
}

// SupportedFlags lists the known flags the running kernel supports.
func SupportedFlags() []string {
	var out []string
	for _, f := range knownFlags {
		if flagSupported(f.bit) {
			out = append(out, string(f.name))
		}
	}
	return out
}
