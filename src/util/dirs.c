/* The one "mkdir -p" (util/dirs.h). */
#include "util/dirs.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xmalloc.h"

int
dirs_make(const char *dir, char **cause)
{
	char *p = xstrdup(dir), *why = NULL;
	struct stat st;

	for (char *s = p + (p[0] != '\0');; s++) {
		int end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			why = xasprintf("cannot create directory %s: %s", p, strerror(errno));
			break;
		}
		if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
			why = xasprintf("%s is not a directory", p);
			break;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	if (why == NULL)
		return 0;
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	return -1;
}

char *
dirs_home(void)
{
	const char *home = getenv("HOME");
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (home != NULL && home[0] == '/')
		return xstrdup(home);
	if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL &&
	    pw.pw_dir != NULL && pw.pw_dir[0] == '/')
		return xstrdup(pw.pw_dir);
	return NULL;
}

int
dirs_make_parents(const char *path, char **cause)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	if (slash == NULL || slash == path)
		return 0;
	dir = xstrndup(path, (size_t)(slash - path));
	rc = dirs_make(dir, cause);
	free(dir);
	return rc;
}

char *
dirs_file_target(const char *path, struct stat *st, char **cause)
{
	char *target;

	*cause = NULL;
	if (stat(path, st) != 0) {
		if (errno != ENOENT) {
			*cause = xasprintf("cannot write %s: %s", path, strerror(errno));
			return NULL;
		}
		if (lstat(path, st) == 0) {
			*cause = xasprintf("%s is a symbolic link to a missing file; create the "
			                   "file it names, or remove the link",
			    path);
			return NULL;
		}
		return xstrdup(path); /* a new file */
	}
	if (!S_ISREG(st->st_mode))
		return NULL;
	if ((target = realpath(path, NULL)) == NULL) {
		*cause = xasprintf("cannot resolve %s: %s", path, strerror(errno));
		return NULL;
	}
	return target;
}
