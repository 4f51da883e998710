// Package containercopy copies files into and out of a container's root file
// system as `docker cp` does: tar streams in both directions, docker's rules
// for naming what lands where, and nothing the container planted (a symlink
// "etc -> /etc", "up -> ../../..") able to lead a copy to the host.
//
// The container side works on the rootfs as a directory on the host (the
// engine mounts it) and resolves every container path inside it with
// internal/linux/pathrs (openat2 RESOLVE_IN_ROOT): a symlink is followed as if
// the rootfs were "/", and ".." stops there. Stat describes a path, Out writes
// a tar of it, In extracts a tar into a directory of it (through
// internal/archive.Apply, which resolves every entry inside the rootfs too).
//
// The host side, for the CLI, is TarPath (a tar of a host path, renamed for
// its destination) and ExtractTo (a tar from Out, extracted to a host path).
// Between the two sides travels the tar stream, as between docker's CLI and
// daemon, so `berth cp - CTR:/dir` and `berth cp CTR:/path -` are the same
// calls without the host half.
//
// Paths follow docker: container paths are taken from the container's "/"
// whether or not they start with "/"; "dir/." means the contents of dir; a
// trailing "/" or "/." follows a final symlink; a destination that is an
// existing directory receives the source inside it, any other destination
// names the copy.
//
// Worked example — `berth cp ./conf CTR:/etc/app` (host to container):
//
//	dest, err := containercopy.StatDest(rootfs, "/etc/app") // follows a final symlink, as docker's CLI does
//	if err != nil { ... }
//	rc, dir, err := containercopy.TarPath(ctx, "./conf", containercopy.TarOptions{Dest: dest})
//	if err != nil { ... }
//	defer rc.Close()
//	// /etc/app missing: dir is "/etc" and the tar's top entry is "app/"
//	err = containercopy.In(ctx, rootfs, dir, rc, containercopy.InOptions{UID: 0, GID: 0})
//
// and `berth cp CTR:/var/log/. ./logs` (container to host, the contents of
// the directory):
//
//	pr, pw := io.Pipe()
//	go func() { pw.CloseWithError(containercopy.Out(ctx, rootfs, "/var/log/.", containercopy.OutOptions{}, pw)) }()
//	err := containercopy.ExtractTo(ctx, "./logs", pr)
//	pr.CloseWithError(err)
package containercopy
