package reference

import "strings"

// Familiar returns docker's short form: "busybox:latest" for
// docker.io/library/busybox:latest, "alice/app:1.0" for docker.io/alice/app:1.0.
// References on other registries are returned in full. Parse(r.Familiar())
// gives r back.
func (r Reference) Familiar() string {
	return r.familiarName() + r.suffix()
}

func (r Reference) familiarName() string {
	if r.Domain != "docker.io" {
		return r.Repository()
	}
	short, official := strings.CutPrefix(r.Path, "library/")
	if official && !strings.Contains(short, "/") {
		return short
	}
	// "docker.io/example.com/app" must keep its domain: without it the first
	// component would be read as a registry.
	first, _, _ := strings.Cut(r.Path, "/")
	if strings.Contains(first, ".") || first == "localhost" || !strings.Contains(r.Path, "/") {
		return r.Repository()
	}
	return r.Path
}
