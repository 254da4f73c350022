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

/* The open databases (dirs_protect). */
#define DIRS_PROTECTED 8
static char *protected_db[DIRS_PROTECTED];
static const char *const db_side[] = { "", "-wal", "-shm", "-journal" };

void
dirs_protect(const char *path)
{
	if (strcmp(path, ":memory:") == 0)
		return;
	for (int i = 0; i < DIRS_PROTECTED; i++)
		if (protected_db[i] == NULL) {
			protected_db[i] = xstrdup(path);
			return;
		}
}

void
dirs_unprotect(const char *path)
{
	for (int i = 0; i < DIRS_PROTECTED; i++)
		if (protected_db[i] != NULL && strcmp(protected_db[i], path) == 0) {
			free(protected_db[i]);
			protected_db[i] = NULL;
			return;
		}
}

/* The directory holding path, stat'd, and where its last component starts. */
static int
parent_stat(const char *path, struct stat *st, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc;

	*base = slash != NULL ? slash + 1 : path;
	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/")
	                                                   : xstrndup(path, (size_t)(slash - path));
	rc = stat(dir, st);
	free(dir);
	return rc;
}

/*
 * Whether a and b name one file: the same device and inode when both exist, the same name in
 * the same directory when neither does (a -wal SQLite has not created yet).
 */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	const char *ba, *bb;
	int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;

	if (ea && eb)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	if (ea || eb || parent_stat(a, &sa, &ba) != 0 || parent_stat(b, &sb, &bb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && strcmp(ba, bb) == 0;
}

/* An error when path is one of the open databases' files. */
static char *
protected_cause(const char *path)
{
	for (int i = 0; i < DIRS_PROTECTED; i++) {
		for (size_t k = 0; protected_db[i] != NULL && k < sizeof db_side / sizeof *db_side;
		     k++) {
			char *f = xasprintf("%s%s", protected_db[i], db_side[k]);
			int same = same_file(path, f);

			free(f);
			if (same && k == 0)
				return xasprintf("refusing to write %s: it is the database in use "
				                 "(%s); name another file",
				    path, protected_db[i]);
			if (same)
				return xasprintf("refusing to write %s: it is the %s file of the "
				                 "database in use (%s); name another file",
				    path, db_side[k] + 1, protected_db[i]);
		}
	}
	return NULL;
}

char *
dirs_file_target(const char *path, struct stat *st, char **cause)
{
	char *target;

	if ((*cause = protected_cause(path)) != NULL)
		return NULL;
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
		memset(st, 0, sizeof *st);
		return xstrdup(path); /* a new file: *st zeroed */
	}
	if (!S_ISREG(st->st_mode))
		return NULL;
	if ((target = realpath(path, NULL)) == NULL) {
		*cause = xasprintf("cannot resolve %s: %s", path, strerror(errno));
		return NULL;
	}
	return target;
}
