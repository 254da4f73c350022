/* Command-line option tables (util/optspec.h). */
#include "util/optspec.h"

#include <getopt.h>
#include <string.h>

void
optspec_getopt(const struct optspec *specs, int n, struct option *longopts, char *shortopts)
{
	size_t ns = 0;

	shortopts[ns++] = ':';
	for (int i = 0; i < n; i++) {
		longopts[i].name = specs[i].name;
		longopts[i].has_arg = specs[i].has_arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = OPTSPEC_LONG + i;
		if (specs[i].shrt) {
			shortopts[ns++] = (char)specs[i].shrt;
			if (specs[i].has_arg)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[n], 0, sizeof longopts[0]);
	shortopts[ns] = '\0';
}

int
optspec_index(const struct optspec *specs, int n, int c)
{
	if (c >= OPTSPEC_LONG && c < OPTSPEC_LONG + n)
		return c - OPTSPEC_LONG;
	for (int i = 0; i < n; i++)
		if (specs[i].shrt != 0 && specs[i].shrt == c)
			return i;
	return -1;
}

int
optspec_arg_option(const struct optspec *specs, int n, const char *arg)
{
	size_t len;

	if (arg == NULL || strncmp(arg, "--", 2) != 0)
		return -1;
	len = strcspn(arg + 2, "=");
	for (int i = 0; i < n; i++)
		if (strlen(specs[i].name) == len && strncmp(specs[i].name, arg + 2, len) == 0)
			return i;
	return -1;
}

void
optspec_help(FILE *fp, const struct optspec *o, int width)
{
	char left[64];
	int n = 0;

	if (o->shrt)
		n = snprintf(left, sizeof left, "-%c, ", o->shrt);
	snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name, o->argname ? " " : "",
	    o->argname ? o->argname : "");
	fprintf(fp, "  %-*s %s\n", width, left, o->help);
}
