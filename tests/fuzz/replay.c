/*
 * Replay driver for the libFuzzer harnesses under gcc (and the sanitizer build): runs
 * LLVMFuzzerTestOneInput once per file of the files/directories named on the command line
 * (directories recursively), or of tests/fuzz/corpus/<name>/ where the program is replay_<name>.
 * Each input is passed in a heap buffer of exactly its size, so ASan sees any read past the end.
 * Exit status: 0 when every input ran, 1 when a path could not be read or there was no input.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT (64u * 1024 * 1024)

struct replay {
	unsigned long ran;
	int failed;
};

static void
run_file(struct replay *r, const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	uint8_t *buf;
	size_t size, got;

	if (f == NULL || fstat(fileno(f), &sb) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		r->failed = 1;
		if (f != NULL)
			fclose(f);
		return;
	}
	if (sb.st_size < 0 || (unsigned long long)sb.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: too large, skipped\n", path);
		fclose(f);
		return;
	}
	size = (size_t)sb.st_size;
	buf = malloc(size ? size : 1);
	if (buf == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	got = size ? fread(buf, 1, size, f) : 0;
	fclose(f);
	if (got != size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		r->failed = 1;
		return;
	}
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	r->ran++;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_path(struct replay *r, const char *path, int depth)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		r->failed = 1;
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		if (S_ISREG(sb.st_mode))
			run_file(r, path);
		return;
	}
	if (depth > 16 || (d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: cannot open directory\n", path);
		r->failed = 1;
		return;
	}
	/* sorted, so that a failure is reproducible in the same order */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof *names);
			if (nn == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				exit(1);
			}
			names = nn;
		}
		names[n] = malloc(strlen(path) + strlen(de->d_name) + 2);
		if (names[n] == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		sprintf(names[n], "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		run_path(r, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	struct replay r = {0, 0};
	const char *base, *name;
	char def[4096];

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(&r, argv[i], 0);
	} else {
		base = strrchr(argv[0], '/');
		base = base != NULL ? base + 1 : argv[0];
		name = strncmp(base, "replay_", 7) == 0 ? base + 7 : base;
		snprintf(def, sizeof def, "tests/fuzz/corpus/%s", name);
		run_path(&r, def, 0);
	}
	fprintf(stderr, "replay: %lu inputs%s\n", r.ran, r.failed ? ", some unreadable" : "");
	if (r.failed || r.ran == 0)
		return 1;
	return 0;
}
