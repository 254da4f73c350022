#ifndef TESTS_UNIT_FIXTURES_H
#define TESTS_UNIT_FIXTURES_H

/*
 * Reading the captures in tests/fixtures from cmocka tests (include after <cmocka.h>): a whole
 * file, and a recursive walk that calls fn for every file whose name matches, so a capture
 * dropped into the tree is tested without a code change. Failures fail the running test.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Returns the file's bytes, NUL-terminated (caller frees); *len is their count. */
static inline char *
fixture_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Matchers for fixture_walk: arg is a name, a prefix, or a NULL-terminated list of names. */
static inline int
fixture_name_is(const char *name, const void *arg)
{
	return strcmp(name, arg) == 0;
}

static inline int
fixture_name_prefix(const char *name, const void *arg)
{
	return strncmp(name, arg, strlen(arg)) == 0;
}

static inline int
fixture_name_in(const char *name, const void *arg)
{
	for (const char *const *n = arg; *n; n++)
		if (strcmp(name, *n) == 0)
			return 1;
	return 0;
}

/* Calls fn for every regular file under dir (recursively) that match accepts; returns how many. */
static inline int
fixture_walk(const char *dir, int (*match)(const char *, const void *), const void *arg,
    void (*fn)(const char *path))
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int count = 0;

	if (d == NULL)
		fail_msg("cannot open directory %s", dir);
	while ((de = readdir(d)) != NULL) {
		char path[1024];
		struct stat sb;
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof path)
			fail_msg("path too long under %s", dir);
		if (stat(path, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			count += fixture_walk(path, match, arg, fn);
		else if (match(de->d_name, arg)) {
			fn(path);
			count++;
		}
	}
	closedir(d);
	return count;
}

#endif
