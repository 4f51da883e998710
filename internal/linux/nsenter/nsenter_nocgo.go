//go:build !cgo

package nsenter

// Available reports whether the constructor is compiled in: not in a build
// without cgo, where joining user or time namespaces is refused.
func Available() bool { return false }
