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
	_exit(1);
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

	// Joins: lines of "<clone flag in hex> <path>", in order.
	int pid_ns = 0, user_ns = 0;
	if (joins) {
		char *list = strdup(joins), *save = NULL;
		for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *path = strchr(line, ' ');
			if (!path)
				continue;
			*path++ = '\0';
			int flag = (int)strtol(line, NULL, 16);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				fail("open namespace", path);
			if (setns(fd, flag) < 0)
				fail("join namespace", path);
			close(fd);
			if (flag == CLONE_NEWPID)
				pid_ns = 1;
			if (flag == CLONE_NEWUSER)
				user_ns = 1;
		}
		free(list);
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
