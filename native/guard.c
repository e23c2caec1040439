/* gpo-guard PARENT NAME: ends the tree gpo launched once gpo is gone, however it went (SIGKILL leaves gpo no
 * time to end anything). It makes the cgroup v2 PARENT/NAME for the tree (src/capture/tree-cgroup.ts), new:
 * mkdir fails on anything there, a planted link included. gpo starts the guardian before the launcher, with
 * a pipe on stdin whose write end only gpo holds: EOF there means gpo exited or is done with its own ending
 * (should gpo die before the guardian even made the cgroup, EOF comes all the same, and it is removed). Then the guardian writes 1 to cgroup.kill (the
 * kernel kills every process in the cgroup, also one forking meanwhile), and removes the cgroup (and any the
 * tree made inside it) once the kernel has emptied it. It prints "ready" once it holds the cgroup, and at
 * the end "removed" or why not, for a gpo still there to read. Its own session and ignored SIGINT, SIGTERM,
 * SIGHUP: a signal to gpo's terminal or process group does not take it along. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long the kernel gets to empty the cgroup (a process in uninterruptible sleep dies only when it wakes). */
#define REMOVE_SECONDS 60

/* Removes the cgroup NAME in PARENT and the cgroups below it, deepest first; 0, or -1 with errno. */
static int remove_cgroup(int parent, const char *name)
{
	int dir = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *entries;
	struct dirent *entry;

	if (dir < 0)
		return -1;
	entries = fdopendir(dir);
	if (!entries) {
		close(dir);
		return -1;
	}
	while ((entry = readdir(entries)))
		if (entry->d_type == DT_DIR && strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
			remove_cgroup(dir, entry->d_name);
	closedir(entries);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

static void say(const char *line)
{
	/* gpo may be gone: a write to its closed pipe fails (EPIPE, SIGPIPE ignored) and is of no matter. */
	if (write(1, line, strlen(line)) < 0)
		return;
}

int main(int argc, char **argv)
{
	char byte, reason[256];
	int parent, cgroup, kill_file;
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	struct pollfd gpo = { .fd = 0, .events = POLLIN };

	if (argc != 3) {
		fprintf(stderr, "usage: gpo-guard PARENT NAME\n");
		return 2;
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	setsid();
	/* Nothing of gpo's but the pipes: the guardian may outlive gpo, and must not keep gpo's files open. */
	syscall(SYS_close_range, 3, ~0U, 0);
	/* Holds the cgroup by descriptor from now on: no path is looked up again but the name in PARENT. */
	parent = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || mkdirat(parent, argv[2], 0700) != 0) {
		snprintf(reason, sizeof reason, "cannot make %s/%s: %s\n", argv[1], argv[2], strerror(errno));
		say(reason);
		return 1;
	}
	cgroup = openat(parent, argv[2], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	kill_file = cgroup < 0 ? -1 : openat(cgroup, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (kill_file < 0) {
		snprintf(reason, sizeof reason, "cannot open %s/%s/cgroup.kill%s: %s\n", argv[1], argv[2],
			 errno == ENOENT ? " (kernels from 5.14 have it)" : "", strerror(errno));
		say(reason);
		unlinkat(parent, argv[2], AT_REMOVEDIR);
		return 1;
	}
	if (chdir("/") != 0)
		return 1;
	say("ready\n");

	/* Until EOF, or a read error: the pipe is gone all the same. Bytes gpo writes mean nothing. */
	for (;;) {
		ssize_t got;
		if (poll(&gpo, 1, -1) < 0 && errno == EINTR)
			continue;
		got = read(0, &byte, 1);
		if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	if (write(kill_file, "1", 1) != 1) {
		snprintf(reason, sizeof reason, "cannot kill the cgroup: %s\n", strerror(errno));
		say(reason);
	}
	for (int round = 0; round < REMOVE_SECONDS * 50; round++) {
		if (remove_cgroup(parent, argv[2]) == 0) {
			say("removed\n");
			return 0;
		}
		if (errno != EBUSY)
			break;
		nanosleep(&pause, NULL);
	}
	snprintf(reason, sizeof reason, "cannot remove the cgroup: %s\n", strerror(errno));
	say(reason);
	return 1;
}
