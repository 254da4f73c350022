#include "cli/args.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "model/device.h"
#include "util/optspec.h"
#include "util/str.h"
#include "util/xmalloc.h"

static const struct optspec cli_table[CLI__COUNT] = {
#define CLI_INFO(id, lng, shrt, arg, argname, mode, help) { lng, shrt, arg, argname, help },
	CLI_OPTIONS(CLI_INFO)
#undef CLI_INFO
};

/* 1 for the options that choose a mode. */
static const char cli_is_mode[CLI__COUNT] = {
#define CLI_MODE(id, lng, shrt, arg, argname, mode, help) mode,
	CLI_OPTIONS(CLI_MODE)
#undef CLI_MODE
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
		for (int i = 0; i < CLI__COUNT; i++)
			if (cli_is_mode[i] == (pass == 0))
				optspec_help(fp, &cli_table[i], 28);
	}
	fprintf(fp,
	    "\nTARGETs of --discover: CIDR (10.0.0.0/24), address, or range (10.0.1.10-50).\n"
	    "Environment: SHELLY_TUI_PASSWORD (device password), SHELLY_TUI_ALLOW_NETS (CIDRs the\n"
	    "program may contact; anything else is refused), NO_COLOR (a console without colour),\n"
	    "SHELLY_TUI_THEMES (console themes), SHELLY_TUI_DB (the database when neither --db nor\n"
	    "the configuration names one), SHELLY_TUI_TEMPLATES (the templates directory),\n"
	    "SHELLY_TUI_DATADIR (the installed data directory), XDG_DATA_HOME, XDG_CONFIG_HOME.\n"
	    "Exit status: 0 ok, 1 runtime failure, 2 usage error, 3 drift found (--drift).\n"
	    "See shelly-tui(1).\n");
}

/*
 * The cause of getopt_long's error c for the word at argv[optind - 1]: for a long option given
 * an argument it does not take, optopt is that option's code (OPTSPEC_LONG + row), never a
 * character. The word is the operator's, but it is echoed sanitised all the same.
 */
static char *
option_error(int c, char **argv)
{
	char *word = str_sanitize(argv[optind - 1], 64), *cause;

	if (c == ':')
		cause = xasprintf("option %s needs an argument", word);
	else if (optopt >= OPTSPEC_LONG && optopt < OPTSPEC_LONG + CLI__COUNT)
		cause = xasprintf("option --%s takes no argument",
		    cli_table[optopt - OPTSPEC_LONG].name);
	else if (optopt > ' ' && optopt < 0x7f)
		cause = xasprintf("unknown option -%c", optopt);
	else
		cause = xasprintf("unknown option %s", word);
	free(word);
	return cause;
}

/* The option a getopt_long return value c names, or -1 (and *cause) for an error. */
static int
option_of(int c, char **argv, char **cause)
{
	if (c == '?' || c == ':') {
		*cause = option_error(c, argv);
		return -1;
	}
	int opt = optspec_index(cli_table, CLI__COUNT, c);

	if (opt < 0)
		*cause = xasprintf("unknown option");
	return opt;
}

/* The modes that take operands after the options. */
static int
mode_takes_operands(int mode)
{
	static const enum cli_option modes[] = {CLI_DISCOVER, CLI_ACTION, CLI_CONFIG_GET,
	    CLI_CONFIG_SET, CLI_DRIFT, CLI_APPLY, CLI_CLONE, CLI_GROUP_ADD, CLI_GROUP_REMOVE,
	    CLI_GROUP_TEMPLATE, CLI_GROUP_SET, CLI_PROVISION};

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (mode == (int)modes[i])
			return 1;
	return 0;
}

/* The console, where a table of modes names one (it has no mode option). */
#define MODE_CONSOLE CLI__COUNT

/*
 * Options that only some modes read: given to another mode they would be ignored in silence,
 * so they are a usage error. not: the modes listed are the ones the option does not go with.
 */
static const struct {
	enum cli_option opt;
	int not;
	int modes[24];
} mode_options[] = {
	{ CLI_DRY_RUN, 0, { CLI_IMPORT, CLI_CONFIG_SET, CLI_APPLY, CLI_CLONE, CLI_CONFIG_RESTORE,
	    CLI_OPNSENSE_SYNC, -1 } },
	{ CLI_LISTEN, 0, { CLI_HEADLESS, MODE_CONSOLE, -1 } },
	{ CLI_THEME, 0, { MODE_CONSOLE, -1 } },
	{ CLI_COLUMNS, 0, { CLI_EXPORT, -1 } },
	{ CLI_INCLUDE_SECRETS, 0, { CLI_EXPORT, -1 } },
	/* The modes that print JSON: --export's formats, --agent-enrol's secret and the lists of
	 * keys, options and fields are text whatever is asked, which a script would not see. */
	{ CLI_JSON, 0, { CLI_PROBE, CLI_ADD, CLI_LIST, CLI_POLL_ONCE, CLI_DISCOVER, CLI_ACTION,
	    CLI_OPNSENSE_SYNC, CLI_IMPORT, CLI_CONFIG_GET, CLI_CONFIG_SET, CLI_DRIFT, CLI_APPLY,
	    CLI_CLONE, CLI_CONFIG_RESTORE, CLI_SNAPSHOTS, CLI_GROUP_LIST, CLI_PENDING, CLI_PROVISION,
	    CLI_PROVISION_CSV, CLI_TASKS, CLI_AGENTS, -1 } },
	{ CLI_NETWORK, 0, { CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
	{ CLI_WIFI_KEY_FILE, 0, { CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
	{ CLI_AP_OFF, 0, { CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
	{ CLI_ATTEMPTS, 0, { CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
	{ CLI_MDNS_ONLY, 0, { CLI_DISCOVER, -1 } },
	{ CLI_SCAN_ONLY, 0, { CLI_DISCOVER, -1 } },
	{ CLI_PORT, 0, { CLI_DISCOVER, MODE_CONSOLE, -1 } },
	{ CLI_CHANNEL, 0, { CLI_ACTION, -1 } },
	{ CLI_VALUE, 0, { CLI_ACTION, -1 } },
	{ CLI_MERGE, 0, { CLI_IMPORT, -1 } },
	{ CLI_REPLACE, 0, { CLI_IMPORT, -1 } },
	{ CLI_IMPORT_CREDENTIALS, 0, { CLI_IMPORT, -1 } },
	{ CLI_GROUP, 0, { CLI_EXPORT, -1 } },
	{ CLI_OUTPUT, 0, { CLI_EXPORT, -1 } },
	{ CLI_TEMPLATE, 0, { CLI_DRIFT, CLI_APPLY, CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
	{ CLI_FROM, 0, { CLI_TEMPLATE_SAVE, -1 } },
	{ CLI_FIELDS, 0, { CLI_TEMPLATE_SAVE, -1 } },
	{ CLI_SNAPSHOT, 0, { CLI_SNAPSHOTS, CLI_CONFIG_RESTORE, -1 } },
	/* Not --drift: it changes nothing, so it never reboots or cuts a device off. */
	{ CLI_ALLOW_REBOOT, 0, { CLI_CONFIG_SET, CLI_APPLY, CLI_CLONE, CLI_CONFIG_RESTORE, -1 } },
	{ CLI_ALLOW_NETWORK_CHANGE, 0, { CLI_CONFIG_SET, CLI_APPLY, CLI_CLONE, CLI_CONFIG_RESTORE,
	    -1 } },
	{ CLI_ACCEPT_CERT, 0, { CLI_ACTION, CLI_PROBE, CLI_ADD, -1 } },
	{ CLI_NAME, 0, { CLI_ADD, CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
	{ CLI_FORCE, 0, { CLI_POLL_ONCE, CLI_DISCOVER, CLI_CLONE, -1 } },
	/* The modes that reach a device by an address given to them. */
	{ CLI_HTTPS, 0, { CLI_PROBE, CLI_ADD, CLI_ACTION, CLI_CONFIG_GET, CLI_CONFIG_SET,
	    CLI_TEMPLATE_SAVE, CLI_DRIFT, CLI_APPLY, CLI_CLONE, CLI_CONFIG_RESTORE, -1 } },
	/* The modes that log in to devices (the provisioning ones set a device's password). */
	{ CLI_USER, 0, { MODE_CONSOLE, CLI_HEADLESS, CLI_POLL_ONCE, CLI_PROBE, CLI_ADD,
	    CLI_DISCOVER, CLI_ACTION, CLI_CONFIG_GET, CLI_CONFIG_SET, CLI_TEMPLATE_SAVE, CLI_DRIFT,
	    CLI_APPLY, CLI_CLONE, CLI_CONFIG_RESTORE, -1 } },
	{ CLI_PASSWORD_FILE, 0, { MODE_CONSOLE, CLI_HEADLESS, CLI_POLL_ONCE, CLI_PROBE, CLI_ADD,
	    CLI_DISCOVER, CLI_ACTION, CLI_CONFIG_GET, CLI_CONFIG_SET, CLI_TEMPLATE_SAVE, CLI_DRIFT,
	    CLI_APPLY, CLI_CLONE, CLI_CONFIG_RESTORE, CLI_PROVISION, CLI_PROVISION_CSV, -1 } },
};

static const char *
mode_name(int mode)
{
	return mode == MODE_CONSOLE ? "the console" : cli_table[mode].name;
}

/* Whether opt goes with mode (mode_options); else 0 with *cause naming the modes it goes with. */
static int
option_fits_mode(size_t k, int mode, char **cause)
{
	const int *m = mode_options[k].modes;
	int listed = 0, n;
	struct strbuf sb;

	for (n = 0; m[n] >= 0; n++)
		listed |= m[n] == mode;
	if (listed != mode_options[k].not)
		return 1;
	strbuf_init(&sb);
	strbuf_appendf(&sb, "--%s %s ", cli_table[mode_options[k].opt].name,
	    mode_options[k].not ? "does not go with" : "goes with");
	for (int i = 0; i < n; i++)
		strbuf_appendf(&sb, "%s%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
		    m[i] == MODE_CONSOLE ? "" : "--", mode_name(m[i]));
	*cause = strbuf_steal(&sb);
	return 0;
}

/* Checks the combinations of options and converts the numeric ones. Returns 0, or -1. */
static int
check_options(struct cli_args *out, char **cause)
{
	if (out->set[CLI_MDNS_ONLY] && out->set[CLI_SCAN_ONLY]) {
		*cause = xasprintf("--mdns-only and --scan-only exclude each other");
		return -1;
	}
	if (out->set[CLI_TIMEOUT]) {
		/* It becomes request-timeout (app.c), so it takes that option's range. */
		const struct conf_option_info *rt = conf_option_info(OPT_REQUEST_TIMEOUT);
		double lo = (double)rt->min / 1000, hi = (double)rt->max / 1000;

		if (str_parse_seconds(out->val[CLI_TIMEOUT], hi, &out->timeout_s) != 0 ||
		    out->timeout_s < lo) {
			*cause = str_range_error("--timeout", "seconds", lo, 0, hi,
			    out->val[CLI_TIMEOUT]);
			return -1;
		}
	}
	if (out->set[CLI_PORT]) {
		long long p;

		if (str_parse_int(out->val[CLI_PORT], 1, 65535, &p) != 0) {
			*cause = str_range_error("--port", "a whole number", 1, 0, 65535,
			    out->val[CLI_PORT]);
			return -1;
		}
		out->port = (uint16_t)p;
	}
	for (size_t k = 0; k < sizeof mode_options / sizeof mode_options[0]; k++)
		if (out->set[mode_options[k].opt] &&
		    !option_fits_mode(k, out->mode < 0 ? MODE_CONSOLE : out->mode, cause))
			return -1;
	if (out->set[CLI_NAME] && (out->mode == CLI_PROVISION_CSV ||
	                              (out->mode == CLI_PROVISION && out->nrest > 0))) {
		/* One name cannot go to several devices; the CSV names each in its own column. */
		*cause = xasprintf("--name goes with one --provision target (--provision-csv "
		                   "takes names from its NAME column)");
		return -1;
	}
	if (out->set[CLI_NAME] && out->mode == CLI_ADD &&
	    (strlen(out->val[CLI_NAME]) >= DEV_NAME_LEN || !str_is_safe(out->val[CLI_NAME]))) {
		/* The registry name: kept as given, so nothing a terminal would act on. Which rule
		 * it broke is said: a zero-width joiner in an emoji is no control character. */
		if (!str_is_safe(out->val[CLI_NAME]))
			*cause =
			    xasprintf("--name wants printable UTF-8: no control, bidirectional or "
			              "invisible formatting characters (such as the zero-width "
			              "joiner of a combined emoji)");
		else
			*cause = xasprintf("--name wants at most %d bytes, not %zu",
			    DEV_NAME_LEN - 1, strlen(out->val[CLI_NAME]));
		return -1;
	}
	if (out->set[CLI_CA_FILE] && out->set[CLI_INSECURE]) {
		*cause = xasprintf("--ca-file and --insecure exclude each other");
		return -1;
	}
	return 0;
}

/*
 * An option's argument that is one of our long options (`--db --list`, the path left out) would
 * be taken as the value: a database named "--list" opened, a mode lost. Returns 0, or -1 with
 * *cause.
 */
static int
option_as_argument(int opt, const char *arg, char **cause)
{
	int k = optspec_arg_option(cli_table, CLI__COUNT, arg);

	if (k < 0)
		return 0;
	*cause = xasprintf("option --%s needs an argument (--%s is an option of its own)",
	    cli_table[opt].name, cli_table[k].name);
	return -1;
}

int
cli_parse(int argc, char **argv, struct cli_args *out, char **cause)
{
	struct option longopts[CLI__COUNT + 1];
	char shortopts[2 * CLI__COUNT + 2];
	int c;

	memset(out, 0, sizeof *out);
	out->mode = -1;
	optspec_getopt(cli_table, CLI__COUNT, longopts, shortopts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int opt = option_of(c, argv, cause);

		if (opt < 0 || option_as_argument(opt, optarg, cause) != 0)
			return -1;
		if (cli_is_mode[opt]) {
			if (out->mode >= 0 && out->mode != opt) {
				*cause = xasprintf("--%s and --%s are two modes; give one",
				    cli_table[out->mode].name, cli_table[opt].name);
				return -1;
			}
			if (out->set[opt] && optarg != NULL && strcmp(optarg, out->mode_arg) != 0) {
				/* Only the last would run, and the first be dropped in silence. */
				char *a = str_sanitize(out->mode_arg, 64), *b = str_sanitize(optarg, 64);
				*cause = xasprintf("--%s is given twice ('%s' and '%s'); one run takes one",
				    cli_table[opt].name, a, b);
				free(a);
				free(b);
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
	if (out->nrest > 0 && !mode_takes_operands(out->mode)) {
		*cause = xasprintf("unexpected argument '%s'", out->rest[0]);
		return -1;
	}
	return check_options(out, cause);
}
