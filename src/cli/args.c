#include "cli/args.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

struct cli_info {
	const char *name;
	int shrt;
	int has_arg;
	const char *argname;
	int mode;
	const char *help;
};

static const struct cli_info cli_table[CLI__COUNT] = {
#define CLI_INFO(id, lng, shrt, arg, argname, mode, help) { lng, shrt, arg, argname, mode, help },
	CLI_OPTIONS(CLI_INFO)
#undef CLI_INFO
};

const char *
cli_option_name(enum cli_option opt)
{
	return opt < CLI__COUNT ? cli_table[opt].name : "?";
}

void
cli_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: shelly-tui [options]                 the full-screen console (? in it lists the keys)\n"
	    "       shelly-tui MODE [options] [TARGET ...]\n"
	    "\n"
	    "Modes:\n");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			fprintf(fp, "\nOptions:\n");
		for (int i = 0; i < CLI__COUNT; i++) {
			const struct cli_info *o = &cli_table[i];
			char left[64];
			int n = 0;

			if (o->mode != (pass == 0))
				continue;
			if (o->shrt)
				n = snprintf(left, sizeof left, "-%c, ", o->shrt);
			snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name,
			    o->argname ? " " : "", o->argname ? o->argname : "");
			fprintf(fp, "  %-28s %s\n", left, o->help);
		}
	}
	fprintf(fp,
	    "\nTARGETs of --discover: CIDR (10.0.0.0/24), address, or range (10.0.1.10-50).\n"
	    "Environment: SHELLY_TUI_PASSWORD (device password), SHELLY_TUI_ALLOW_NETS (CIDRs the\n"
	    "program may contact; anything else is refused), NO_COLOR (a console without colour),\n"
	    "SHELLY_TUI_THEMES (console themes), XDG_DATA_HOME, XDG_CONFIG_HOME.\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage error.\n"
	    "See shelly-tui(1).\n");
}

int
cli_parse(int argc, char **argv, struct cli_args *out, char **cause)
{
	struct option longopts[CLI__COUNT + 1];
	char shortopts[2 * CLI__COUNT + 2];
	size_t ns = 0;
	int c;

	memset(out, 0, sizeof *out);
	out->mode = -1;
	shortopts[ns++] = ':';
	for (int i = 0; i < CLI__COUNT; i++) {
		longopts[i].name = cli_table[i].name;
		longopts[i].has_arg = cli_table[i].has_arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 1000 + i;
		if (cli_table[i].shrt) {
			shortopts[ns++] = (char)cli_table[i].shrt;
			if (cli_table[i].has_arg)
				shortopts[ns++] = ':';
		}
	}
	memset(&longopts[CLI__COUNT], 0, sizeof longopts[0]);
	shortopts[ns] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int opt = -1;

		if (c == '?') {
			if (optopt)
				*cause = xasprintf("unknown option -%c", optopt);
			else
				*cause = xasprintf("unknown option %s", argv[optind - 1]);
			return -1;
		}
		if (c == ':') {
			*cause = xasprintf("option %s needs an argument", argv[optind - 1]);
			return -1;
		}
		if (c >= 1000)
			opt = c - 1000;
		else {
			for (int i = 0; i < CLI__COUNT; i++)
				if (cli_table[i].shrt == c)
					opt = i;
		}
		if (opt < 0) {
			*cause = xasprintf("unknown option");
			return -1;
		}
		if (cli_table[opt].mode) {
			if (out->mode >= 0 && out->mode != opt) {
				*cause = xasprintf("--%s and --%s are two modes; give one",
				    cli_table[out->mode].name, cli_table[opt].name);
				return -1;
			}
			out->mode = opt;
			out->mode_arg = optarg;
		}
		out->set[opt]++;
		out->val[opt] = optarg;
	}
	out->rest = argv + optind;
	out->nrest = argc - optind;
	if (out->nrest > 0 && out->mode != CLI_DISCOVER && out->mode != CLI_ACTION &&
	    out->mode != CLI_CONFIG_GET && out->mode != CLI_CONFIG_SET && out->mode != CLI_DRIFT &&
	    out->mode != CLI_APPLY && out->mode != CLI_CLONE && out->mode != CLI_GROUP_ADD &&
	    out->mode != CLI_GROUP_REMOVE && out->mode != CLI_GROUP_TEMPLATE &&
	    out->mode != CLI_GROUP_SET && out->mode != CLI_PROVISION) {
		*cause = xasprintf("unexpected argument '%s'", out->rest[0]);
		return -1;
	}
	if (out->set[CLI_MDNS_ONLY] && out->set[CLI_SCAN_ONLY]) {
		*cause = xasprintf("--mdns-only and --scan-only exclude each other");
		return -1;
	}
	if (out->set[CLI_TIMEOUT]) {
		char *end;
		errno = 0;
		out->timeout_s = strtod(out->val[CLI_TIMEOUT], &end);
		if (errno || *end || !isfinite(out->timeout_s) || out->timeout_s <= 0 ||
		    out->timeout_s > 3600) {
			*cause = xasprintf("--timeout wants seconds between 0 and 3600, not '%s'",
			    out->val[CLI_TIMEOUT]);
			return -1;
		}
	}
	if (out->set[CLI_PORT]) {
		char *end;
		long p;
		errno = 0;
		p = strtol(out->val[CLI_PORT], &end, 10);
		if (errno || *end || p < 1 || p > 65535) {
			*cause = xasprintf("--port wants 1..65535, not '%s'", out->val[CLI_PORT]);
			return -1;
		}
		out->port = (uint16_t)p;
	}
	if (out->set[CLI_DRY_RUN] && out->mode != CLI_OPNSENSE_SYNC && out->mode != CLI_IMPORT &&
	    out->mode != CLI_CONFIG_SET && out->mode != CLI_APPLY) {
		*cause = xasprintf("--dry-run goes with --import, --config-set, --apply or "
		                   "--opnsense-sync");
		return -1;
	}
	if (out->set[CLI_CA_FILE] && out->set[CLI_INSECURE]) {
		*cause = xasprintf("--ca-file and --insecure exclude each other");
		return -1;
	}
	return 0;
}
