/*
 * Regular files only (see util/rfile.h).
 */
#include "util/rfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xmalloc.h"

int
rfile_open(const char *path, char **cause)
{
	struct stat st;
	int fd, flags, err;
	const char *why;

	/* O_NONBLOCK: a FIFO without a writer opens at once instead of waiting for one. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = errno;
		why = strerror(err);
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		why = strerror(err);
		close(fd);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		why = S_ISDIR(st.st_mode)
		          ? strerror(EISDIR)
		          : "not a regular file (a FIFO, socket or device is refused)";
		close(fd);
		goto fail;
	}
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return fd;
fail:
	if (cause != NULL)
		*cause = xasprintf("%s: %s", path, why);
	errno = err;
	return -1;
}

FILE *
rfile_fopen(const char *path, char **cause)
{
	int fd = rfile_open(path, cause), err;
	FILE *fp;

	if (fd < 0)
		return NULL;
	if ((fp = fdopen(fd, "r")) == NULL) {
		err = errno;
		if (cause != NULL)
			*cause = xasprintf("%s: %s", path, strerror(err));
		close(fd);
		errno = err;
	}
	return fp;
}
