/* gpo-launch FD CMD [ARGS...]: waits until gpo has started following this process (one byte on FD, or
 * EOF if gpo gave up), then execs CMD, so that CMD is recorded from its first instruction. The stdio of
 * CMD is the launcher's, which gpo passes through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char go = 0;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: gpo-launch FD CMD [ARGS...]\n");
		return 127;
	}
	fd = atoi(argv[1]);
	while (read(fd, &go, 1) < 0 && errno == EINTR)
		;
	if (go != 'g')
		return 127;
	close(fd);
	execvp(argv[2], argv + 2);
	fprintf(stderr, "gpo: cannot run %s: %s\n", argv[2], strerror(errno));
	return 127;
}
