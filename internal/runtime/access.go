package runtime

import "golang.org/x/sys/unix"

func unixAccess(path string) error { return unix.Access(path, unix.W_OK|unix.X_OK) }
