// A constructor that runs before the Go runtime starts its threads, for
// the namespace operations the kernel allows only to a single-threaded
// process: joining a user or a time namespace (setns), and creating
// namespaces inside a joined user namespace. See nsenter.go.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <grp.h>
#include <sys/prctl.h>

static int sync_fd = -1;

// fail reports msg as the init's error message (the runtime's sync
// protocol: one JSON line) and exits.
static void fail(const char *what, const char *arg) {
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "{\"type\":\"error\",\"msg\":\"nsenter: %s %s: %s\"}\n",
			 what, arg, strerror(errno));
	if (sync_fd >= 0 && n > 0)
		(void)!write(sync_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
	else
		// No sync fd (berth joining its rootless namespaces): say it on stderr.
		fprintf(stderr, "Error: nsenter: %s %s: %s\n", what, arg, strerror(errno));
	_exit(1);
}

// await_id_maps asks the runtime to map the user namespace just made (an
// unprivileged runtime runs newuidmap/newgidmap on our pid), waits for
// it, then becomes the namespace's root.
static void await_id_maps(void) {
	// newuidmap acts only on a process whose /proc/<pid> is the user's:
	// dumpable for the handshake alone (nothing else is in the namespace).
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		fail("set dumpable", "for the id maps");
	static const char ask[] = "{\"type\":\"idmap\"}\n";
	if (write(sync_fd, ask, sizeof ask - 1) != (ssize_t)(sizeof ask - 1))
		fail("ask for id maps", "");
	char reply[128];
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t r = read(sync_fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? EPIPE : errno;
			fail("wait for id maps", "");
		}
		if (c == '\n')
			break;
		if (n < sizeof reply - 1)
			reply[n++] = c;
	}
	reply[n] = '\0';
	if (!strstr(reply, "\"idmap-done\"")) {
		errno = EPROTO;
		fail("wait for id maps, got", reply);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)!setgroups(0, NULL);
	if (setresgid(0, 0, 0) < 0)
		fail("become root of the user namespace", "(setresgid 0)");
	if (setresuid(0, 0, 0) < 0)
		fail("become root of the user namespace", "(setresuid 0)");
}

__attribute__((constructor)) static void berth_nsenter(void) {
	// The init (it alone has a sync fd) runs in the container's namespaces:
	// not dumpable from its first instruction, so that no container process
	// can open its /proc/<pid>/ files before it execs.
	if (getenv("_BERTH_SYNC_FD"))
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	const char *joins = getenv("_BERTH_NS_JOIN");
	const char *unshare_s = getenv("_BERTH_NS_UNSHARE");
	if (!joins && !unshare_s)
		return;
	const char *s = getenv("_BERTH_SYNC_FD");
	if (s)
		sync_fd = atoi(s);

	// Joins: lines of "<clone flag in hex> <path>", in order. All are
	// opened first: once in a user namespace, we may no longer open the
	// /proc/<pid>/ns files of a process outside it.
	int pid_ns = 0, user_ns = 0;
	// _BERTH_NS_KEEP_CWD: joining a mount namespace moves the process to
	// its root; go back to the same path there (berth's relative paths).
	char *cwd = getenv("_BERTH_NS_KEEP_CWD") ? getcwd(NULL, 0) : NULL;
	if (joins) {
		enum { max_joins = 16 };
		int fds[max_joins], flags[max_joins], n = 0;
		char *paths[max_joins];
		char *list = strdup(joins), *save = NULL;
		for (char *line = strtok_r(list, "\n", &save); line && n < max_joins; line = strtok_r(NULL, "\n", &save)) {
			char *path = strchr(line, ' ');
			if (!path)
				continue;
			*path++ = '\0';
			flags[n] = (int)strtol(line, NULL, 16);
			paths[n] = path;
			fds[n] = open(path, O_RDONLY | O_CLOEXEC);
			if (fds[n] < 0)
				fail("open namespace", path);
			n++;
		}
		for (int i = 0; i < n; i++) {
			if (setns(fds[i], flags[i]) < 0)
				fail("join namespace", paths[i]);
			close(fds[i]);
			if (flags[i] == CLONE_NEWPID)
				pid_ns = 1;
			if (flags[i] == CLONE_NEWUSER)
				user_ns = 1;
		}
		free(list);
	}
	if (cwd) {
		if (chdir(cwd) < 0)
			fail("return to the working directory", cwd);
		free(cwd);
		unsetenv("_BERTH_NS_KEEP_CWD");
	}
	if (user_ns) {
		// Be the joined namespace's root (when it maps one).
		(void)!setgroups(0, NULL);
		(void)!setresgid(0, 0, 0);
		(void)!setresuid(0, 0, 0);
	}
	int flags = unshare_s ? (int)strtol(unshare_s, NULL, 16) : 0;
	if (flags && unshare(flags) < 0)
		fail("unshare", unshare_s);
	if (flags & CLONE_NEWUSER)
		await_id_maps();
	if (flags & CLONE_NEWTIME) {
		// A new time namespace holds for children only: set its clock
		// offsets while nothing is in it yet, then enter it ourselves.
		const char *offsets = getenv("_BERTH_NS_TIME_OFFSETS");
		if (offsets && *offsets) {
			int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, offsets, strlen(offsets)) < 0)
				fail("write time offsets", offsets);
			close(fd);
		}
		int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
			fail("enter the new time namespace", "");
		close(fd);
		unsetenv("_BERTH_NS_TIME_OFFSETS");
	}
	unsetenv("_BERTH_NS_JOIN");
	unsetenv("_BERTH_NS_UNSHARE");
	if (!pid_ns && !(flags & CLONE_NEWPID))
		return;

	// A pid namespace takes effect for children only: fork, tell the
	// runtime the child's pid, and leave the child to be the init.
	pid_t pid = fork();
	if (pid < 0)
		fail("fork", "into the pid namespace");
	if (pid > 0) {
		char buf[64];
		int n = snprintf(buf, sizeof buf, "{\"type\":\"pid\",\"pid\":%d}\n", (int)pid);
		(void)!write(sync_fd, buf, (size_t)n);
		_exit(0);
	}
}
