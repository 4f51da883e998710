// Package pathrs resolves paths inside a container root file system so that
// nothing the image contains can redirect the runtime outside of it.
//
// A rootfs is untrusted input: an image (or a container sharing a volume) can
// plant symlinks such as "etc -> /etc", "a -> ../../..", "x -> /proc/self/root",
// or swap a directory for a symlink while the runtime is working (the
// CVE-2021-30465, CVE-2023-27561 and CVE-2025-31133/52565/52881 classes). A
// path string joined onto the rootfs and handed to mount(2) or open(2) is
// therefore never safe. Instead:
//
//  1. open the rootfs once with OpenRoot;
//  2. resolve every path inside it with Root.Open, Root.MkdirAll or Root.MkFile,
//     which use openat2(2) with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, so every
//     symlink and ".." is resolved as if the root were "/";
//  3. act on the returned handle, never on the string again: mount onto
//     FdPath(handle), chdir to it, or Reopen it with the flags needed.
//
// Worked example — bind-mounting a volume onto "/data" of a container:
//
//	root, err := pathrs.OpenRoot(bundleRootfs)
//	if err != nil { ... }
//	defer root.Close()
//	dst, err := root.MkdirAll("/data", 0o755) // "data -> /" lands on the rootfs itself
//	if err != nil { ... }
//	defer dst.Close()
//	err = unix.Mount(volume, pathrs.FdPath(dst), "", unix.MS_BIND|unix.MS_REC, "")
//
// Writes to procfs (oom_score_adj, sysctls, LSM attributes) go through Proc,
// a handle verified to be the root of a real procfs mount, so that an
// over-mounted or fake /proc cannot redirect them.
package pathrs
