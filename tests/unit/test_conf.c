#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "shelly/client.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* A private directory per test, removed afterwards. */
struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);

	strcpy(f->dir, "/tmp/test_conf.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	unsetenv("XDG_CONFIG_HOME");
	return 0;
}

/* Writes text into dir/name (mode 0600) and returns the malloc'd path. */
static char *
put(const struct fixture *f, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	FILE *fp;

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	chmod(path, 0600);
	return path;
}

/* Loads path into cfg and expects success. */
static void
load_ok(struct conf *cfg, const char *path)
{
	char *cause = NULL;

	if (conf_load(cfg, path, &cause) != 0)
		fail_msg("conf_load(%s): %s", path, cause);
	assert_null(cause);
}

/* Loads path, expects failure, returns the cause (caller frees). */
static char *
load_bad(struct conf *cfg, const char *path)
{
	char *cause = NULL;

	assert_int_equal(conf_load(cfg, path, &cause), -1);
	assert_non_null(cause);
	return cause;
}

/* Loads text from memory as "mem" and returns the errors or NULL. */
static char *
load_text(struct conf *cfg, const char *text)
{
	char *cause = NULL;
	int rc = conf_load_buffer(cfg, "mem", text, strlen(text), &cause);

	assert_int_equal(rc, cause != NULL ? -1 : 0);
	return cause;
}

static void
test_defaults(void **state)
{
	const struct conf_option_info *o;
	struct conf *cfg = conf_new();
	uint64_t v;
	char *cause = NULL;
	int id;

	(void)state;
	/* every default parses (conf_new aborts otherwise), and lies within min/max */
	for (id = 0; id < OPT__COUNT; id++) {
		o = conf_option_info(id);
		assert_int_equal(conf_option_find(o->name), id);
		assert_non_null(o->help);
		assert_true(o->help[0] != '\0');
		switch (o->type) {
		case OT_DURATION:
			v = conf_get_ms(cfg, id);
			break;
		case OT_INT:
			v = (uint64_t)conf_get_int(cfg, id);
			assert_true(o->max <= INT32_MAX);
			break;
		case OT_SIZE:
			v = conf_get_size(cfg, id);
			break;
		case OT_ENUM:
			assert_non_null(o->choices);
			assert_true(conf_get_enum(cfg, id) >= 0);
			continue;
		default:
			assert_true(o->min == 0 && o->max == 0);
			continue;
		}
		if (v < o->min || v > o->max)
			fail_msg("default of %s out of range", o->name);
		assert_true(o->min <= o->max);
		/* setting the default explicitly is accepted too */
		if (conf_set(cfg, o->name, o->def, &cause) != 0)
			fail_msg("%s", cause);
	}
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN1), 30000);
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN2), 10000);
	assert_int_equal(conf_get_ms(cfg, OPT_CONNECT_TIMEOUT), 2000);
	assert_int_equal(conf_get_ms(cfg, OPT_REQUEST_TIMEOUT), 5000);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 3);
	assert_int_equal(conf_get_ms(cfg, OPT_BACKOFF_MAX), 300000);
	assert_int_equal(conf_get_int(cfg, OPT_MAX_CONCURRENCY), 64);
	assert_int_equal(conf_get_int(cfg, OPT_LANES_GEN2), 2);
	assert_int_equal(conf_option_info(OPT_LANES_GEN2)->max, 3);
	assert_int_equal(conf_get_size(cfg, OPT_RESPONSE_MAX), 1048576);
	assert_int_equal(conf_get_int(cfg, OPT_JSON_MAX_DEPTH), 32);
	assert_string_equal(conf_get_str(cfg, OPT_LISTEN), "127.0.0.1:9464");
	assert_string_equal(conf_get_str(cfg, OPT_DB), "");
	assert_int_equal(conf_get_ms(cfg, OPT_HISTORY_RAW_RETENTION), 48 * 3600000ull);
	assert_int_equal(conf_get_ms(cfg, OPT_HISTORY_RETENTION), 30 * 86400000ull);
	assert_int_equal(conf_get_ms(cfg, OPT_HISTORY_BUCKET), 300000);
	assert_int_equal(conf_get_ms(cfg, OPT_FLUSH_INTERVAL), 1000);
	assert_int_equal(conf_get_ms(cfg, OPT_DISCOVER_INTERVAL), 0);
	assert_int_equal(conf_get_ms(cfg, OPT_DISCOVER_TIMEOUT), 2000);
	assert_int_equal(conf_get_int(cfg, OPT_SCAN_CONCURRENCY), 256);
	assert_int_equal(conf_get_enum(cfg, OPT_TLS_MODE), OPT_TLS_TOFU);
	assert_string_equal(conf_get_str(cfg, OPT_TLS_MODE), "tofu");
	assert_string_equal(conf_get_str(cfg, OPT_TLS_CA_FILE), "");
	assert_int_equal(conf_get_enum(cfg, OPT_LOG_LEVEL), LOG_INFO);
	assert_int_equal(conf_get_ms(cfg, OPT_LEASE_HEARTBEAT), 5000);
	assert_int_equal(conf_get_ms(cfg, OPT_LEASE_TIMEOUT), 20000);
	assert_true(conf_get_bool(cfg, OPT_DISCOVER_MDNS));
	assert_int_equal(conf_option_find("no-such-option"), -1);
	conf_free(cfg);
}

static void
test_design_example(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	const struct conf_range *r;
	const struct conf_credentials *c;
	const struct conf_device *d;
	const struct conf_bind *b;
	const struct conf_color *col;
	char *local, *main_path, *text, *want;
	size_t n;

	local = put(f, "local", "set poll-interval-gen2 2500ms\n");
	text = xasprintf("# the example of DESIGN.md\n"
			 "set poll-interval-gen1 30s\n"
			 "set poll-interval-gen2 10s\n"
			 "discover-range 10.0.20.0/24\n"
			 "credentials default admin file:/etc/shelly-tui/password\n"
			 "device kitchen 10.0.20.31\n"
			 "bind devices t toggle-output\n"
			 "color device.offline red default bold\n"
			 "source %s\n",
	    local);
	main_path = put(f, "config", text);
	load_ok(cfg, main_path);

	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN1), 30000);
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN2), 2500); /* local wins */
	r = conf_ranges(cfg, &n);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].text, "10.0.20.0/24");
	assert_int_equal(r[0].target.prefix, 24);
	assert_int_equal(cidr_count(&r[0].target), 254);
	want = xasprintf("%s:4", main_path);
	assert_string_equal(r[0].where, want);
	free(want);
	c = conf_credentials(cfg, &n);
	assert_int_equal(n, 1);
	assert_null(c[0].device);
	assert_string_equal(c[0].user, "admin");
	assert_string_equal(c[0].secret, "file:/etc/shelly-tui/password");
	d = conf_devices(cfg, &n);
	assert_int_equal(n, 1);
	assert_string_equal(d[0].name, "kitchen");
	assert_string_equal(d[0].host, "10.0.20.31");
	assert_int_equal(d[0].port, 80);
	assert_null(d[0].user);
	assert_null(d[0].secret);
	b = conf_binds(cfg, &n);
	assert_int_equal(n, 1);
	assert_string_equal(b[0].view, "devices");
	assert_string_equal(b[0].key, "t");
	assert_string_equal(b[0].action, "toggle-output");
	col = conf_colors(cfg, &n);
	assert_int_equal(n, 1);
	assert_string_equal(col[0].element, "device.offline");
	assert_int_equal(col[0].fg, 1);
	assert_int_equal(col[0].bg, -1);
	assert_int_equal(col[0].attrs, CONF_ATTR_BOLD);
	free(text);
	free(local);
	free(main_path);
	conf_free(cfg);
}

static void
test_syntax(void **state)
{
	struct conf *cfg = conf_new();
	const struct conf_device *d;
	char *err;
	size_t n;

	(void)state;
	err = load_text(cfg,
	    "\n"
	    "   # indented comment\n"
	    "set db \"/var/lib/my shelly/x.db\"   # trailing comment\r\n"
	    "\tset tls-ca-file '/etc/ca dir/\"ca\".pem'\n"
	    "device \"Living room\" 127.0.0.9:8080\n"
	    "device back\\ door 127.0.0.10\n"
	    "device 'it''s' 127.0.0.11\n"
	    "device \"q\\\"uote\" 127.0.0.12\n"
	    "device hash#tag 127.0.0.13\n"
	    "set tls-mode CA\n"
	    "set discover-mdns off\n");
	if (err != NULL)
		fail_msg("%s", err);
	assert_string_equal(conf_get_str(cfg, OPT_DB), "/var/lib/my shelly/x.db");
	assert_string_equal(conf_get_str(cfg, OPT_TLS_CA_FILE), "/etc/ca dir/\"ca\".pem");
	assert_int_equal(conf_get_enum(cfg, OPT_TLS_MODE), OPT_TLS_CA);
	assert_string_equal(conf_get_str(cfg, OPT_TLS_MODE), "ca");
	assert_false(conf_get_bool(cfg, OPT_DISCOVER_MDNS));
	d = conf_devices(cfg, &n);
	assert_int_equal(n, 5);
	assert_string_equal(d[0].name, "Living room");
	assert_int_equal(d[0].port, 8080);
	assert_string_equal(d[1].name, "back door");
	assert_string_equal(d[2].name, "its");
	assert_string_equal(d[3].name, "q\"uote");
	assert_string_equal(d[4].name, "hash#tag");
	assert_non_null(conf_find_device(cfg, "back door"));
	assert_null(conf_find_device(cfg, "back"));

	/* an empty quoted word is a word: set db "" clears it */
	err = load_text(cfg, "set db \"\"\n");
	assert_null(err);
	assert_string_equal(conf_get_str(cfg, OPT_DB), "");
	conf_free(cfg);
}

static void
test_errors_collected(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	char *path, *cause, *want;

	path = put(f, "bad",
	    "set poll-interval-gen1 7s\n"
	    "set poll-interval-gen2 fast\n"
	    "bogus command\n"
	    "\n"
	    "set lanes-gen2 4\n"
	    "set response-max 2GiB\n"
	    "set tls-mode none\n"
	    "set listen 127.0.0.1\n"
	    "set nope 1\n"
	    "set offline-after\n"
	    "device x \"unterminated\n"
	    "device y 127.0.0.1 # fine\n"
	    "set max-concurrency 12\n"
	    "set discover-mdns maybe\n"
	    "set request-timeout 0\n"
	    "set offline-after -1\n"
	    "set json-max-depth 99999999999999999999999\n");
	cause = load_bad(cfg, path);
	want = xasprintf("%1$s:2: poll-interval-gen2: invalid duration \"fast\" (expected e.g. "
			 "500ms, 10s, 5m, 2h, 1d)\n"
			 "%1$s:3: unknown command \"bogus\"\n"
			 "%1$s:5: lanes-gen2: 4 is out of range (1 to 3)\n"
			 "%1$s:6: response-max: 2GiB is out of range (1KiB to 256MiB)\n"
			 "%1$s:7: tls-mode: invalid value \"none\" (expected one of tofu, ca, insecure)\n"
			 "%1$s:8: listen: missing port in \"127.0.0.1\" (expected HOST:PORT)\n"
			 "%1$s:9: unknown option \"nope\" (see --list-options)\n"
			 "%1$s:10: usage: set NAME VALUE\n"
			 "%1$s:11: missing closing \"\n"
			 "%1$s:14: discover-mdns: invalid boolean \"maybe\" (expected on or off)\n"
			 "%1$s:15: request-timeout: 0 is out of range (1ms to 10m)\n"
			 "%1$s:16: offline-after: invalid number \"-1\"\n"
			 "%1$s:17: json-max-depth: invalid number \"99999999999999999999999\"",
	    path);
	assert_string_equal(cause, want);
	/* the valid lines were applied, the invalid ones left the defaults */
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN1), 7000);
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN2), 10000);
	assert_int_equal(conf_get_int(cfg, OPT_MAX_CONCURRENCY), 12);
	assert_int_equal(conf_get_int(cfg, OPT_LANES_GEN2), 2);
	assert_non_null(conf_find_device(cfg, "y"));
	assert_null(conf_find_device(cfg, "x"));
	free(want);
	free(cause);
	free(path);
	conf_free(cfg);
}

static void
test_bad_bytes(void **state)
{
	struct conf *cfg = conf_new();
	char *err;
	static const char nul[] = "set db a\0b\nset db ok\n";

	(void)state;
	err = NULL;
	assert_int_equal(conf_load_buffer(cfg, "mem", nul, sizeof nul - 1, &err), -1);
	assert_string_equal(err, "mem:1: NUL byte in line");
	assert_string_equal(conf_get_str(cfg, OPT_DB), "ok");
	free(err);
	err = load_text(cfg, "set db \"a\x1b[2Jb\"\nset db x\\\n");
	assert_string_equal(err, "mem:1: control character 0x1b in line\n"
				 "mem:2: backslash at the end of the line");
	free(err);
	/* echoed words are sanitised: invalid UTF-8 and bidi overrides do not reach the message */
	err = load_text(cfg, "\xE2\x80\xAE" "evil \xFF\n");
	assert_string_equal(err, "mem:1: not a configuration command");
	free(err);
	err = load_text(cfg, "evil \xFF\n");
	assert_string_equal(err, "mem:1: unknown command \"evil\"");
	free(err);
	/* too many words */
	err = load_text(cfg, "bind a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7 8\n");
	assert_string_equal(err, "mem:1: too many words (at most 32)");
	free(err);
	conf_free(cfg);
}

/* The log lines written while f runs (the log goes to a temporary file); caller frees. */
static char *
logged(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/test_conf_log.XXXXXX", *text = xcalloc(1, 4096);
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	log_set_fd(fd);
	fn(arg);
	log_set_fd(2);
	assert_true(pread(fd, text, 4095, 0) >= 0);
	close(fd);
	return text;
}

struct load_args {
	struct conf *cfg;
	const char *path;
	char *cause;
};

static void
load_cb(void *arg)
{
	struct load_args *l = arg;

	conf_load(l->cfg, l->path, &l->cause);
}

/*
 * A file read with `source` cannot be echoed through the errors (`source /etc/shadow`): only a
 * word that looks like a command is named. A byte order mark is skipped; a file others can
 * change is read with a warning; a second `credentials default` is an error.
 */
static void
test_hostile_files(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	struct load_args l = {cfg, NULL, NULL};
	char *a, *want, *log;

	free(put(f, "shadow", "root:$6$salt$hash:19000:0:99999:7:::\n"
	                 "daemon:*:19000:0:99999:7:::\n"
	                 "x-trailing-word-that-is-much-too-long-to-be-a-command\n"
	                 "no-such-command 1\n"));
	a = put(f, "a", "source shadow\n");
	assert_int_equal(conf_load(cfg, a, &l.cause), -1);
	want = xasprintf("%1$s/shadow:1: not a configuration command\n"
	                 "%1$s/shadow:2: not a configuration command\n"
	                 "%1$s/shadow:3: not a configuration command\n"
	                 "%1$s/shadow:4: unknown command \"no-such-command\"",
	    f->dir);
	assert_string_equal(l.cause, want);
	assert_null(strstr(l.cause, "root"));
	assert_null(strstr(l.cause, "salt"));
	free(want);
	free(l.cause);
	free(a);
	l.cause = NULL;
	conf_free(cfg);

	cfg = l.cfg = conf_new();
	a = put(f, "bom", "\xEF\xBB\xBFset offline-after 9\n");
	l.path = a;
	log = logged(load_cb, &l);
	assert_null(l.cause);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 9);
	assert_null(strstr(log, "changed by others"));
	free(log);
	chmod(a, 0666);
	log = logged(load_cb, &l);
	assert_null(l.cause);
	assert_non_null(strstr(log, "bom can be changed by others (mode 666"));
	free(log);
	free(a);
	conf_free(cfg);

	cfg = conf_new();
	a = put(f, "creds", "credentials default admin file:/run/one\n"
	                    "credentials default admin file:/run/two\n");
	assert_int_equal(conf_load(cfg, a, &l.cause), -1);
	want = xasprintf("%1$s/creds:2: credentials: default is already defined at %1$s/creds:1", f->dir);
	assert_string_equal(l.cause, want);
	assert_string_equal(conf_find_credentials(cfg, NULL, NULL, NULL)->secret, "file:/run/one");
	free(want);
	free(l.cause);
	free(a);
	conf_free(cfg);
}

static void
test_too_many_errors(void **state)
{
	struct conf *cfg = conf_new();
	char *text, *err, *last;
	size_t i, lines = 0;

	(void)state;
	text = xmalloc(1000 * 4 + 1);
	for (i = 0; i < 1000; i++)
		memcpy(text + i * 4, "xyz\n", 4);
	text[4000] = '\0';
	err = load_text(cfg, text);
	for (i = 0; err[i] != '\0'; i++)
		lines += err[i] == '\n';
	assert_int_equal(lines, 100); /* 100 errors and one closing line */
	last = strrchr(err, '\n') + 1;
	assert_string_equal(last, "mem:101: too many errors, giving up");
	free(err);
	free(text);
	conf_free(cfg);
}

static void
test_source(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	char *a, *b, *c, *cause, *want, *home, *text;
	const char *old_home = getenv("HOME");

	/* relative to the including file, not to the working directory */
	home = xasprintf("%s/sub", f->dir);
	assert_int_equal(mkdir(home, 0700), 0);
	c = put(f, "sub/c", "set offline-after 7\ndevice c-dev 127.0.0.3 password file:pw\n");
	b = put(f, "sub/b", "source c\nset lanes-gen2 3\n");
	a = put(f, "a", "source sub/b\n");
	load_ok(cfg, a);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 7);
	assert_int_equal(conf_get_int(cfg, OPT_LANES_GEN2), 3);
	want = xasprintf("file:%s/sub/pw", f->dir);
	assert_string_equal(conf_find_device(cfg, "c-dev")->secret, want);
	assert_string_equal(conf_find_device(cfg, "c-dev")->user, "admin");
	free(want);
	want = xasprintf("%s/sub/c:2", f->dir);
	assert_string_equal(conf_find_device(cfg, "c-dev")->where, want);
	free(want);
	conf_free(cfg);

	/* ~ is the home directory */
	setenv("HOME", home, 1);
	cfg = conf_new();
	text = xstrdup("source ~/c\nset db ~/x.db\n");
	assert_null(load_text(cfg, text));
	want = xasprintf("%s/x.db", home);
	assert_string_equal(conf_get_str(cfg, OPT_DB), want);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 7);
	free(want);
	free(text);
	if (old_home != NULL)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	conf_free(cfg);

	/* missing file: error at the source line, the rest goes on */
	cfg = conf_new();
	free(a);
	a = put(f, "a", "source nothere\nset lanes-gen2 1\nsource ~bob/x\nsource /\n");
	cause = load_bad(cfg, a);
	want = xasprintf("%1$s:1: source %2$s/nothere: No such file or directory\n"
			 "%1$s:3: source ~bob/x: ~user paths are not supported; write the full path\n"
			 "%1$s:4: source /: is a directory",
	    a, f->dir);
	assert_string_equal(cause, want);
	assert_int_equal(conf_get_int(cfg, OPT_LANES_GEN2), 1);
	free(want);
	free(cause);
	conf_free(cfg);
	free(a);
	free(b);
	free(c);
	free(home);
}

static void
test_source_cycles(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	char *a, *b, *self, *cause, *want;

	a = put(f, "a", "set offline-after 2\nsource b\n");
	b = put(f, "b", "source a\nset lanes-gen2 1\n");
	cause = load_bad(cfg, a);
	want = xasprintf("%s:1: source %s: cycle (the file is already being read)", b, a);
	assert_string_equal(cause, want);
	assert_int_equal(conf_get_int(cfg, OPT_LANES_GEN2), 1);
	free(want);
	free(cause);

	self = put(f, "self", "source ./self\n");
	cause = load_bad(cfg, self);
	want = xasprintf("%s:1: source %s/./self: cycle (the file is already being read)", self, f->dir);
	assert_string_equal(cause, want);
	free(want);
	free(cause);

	/* the same file twice, not nested, is fine */
	free(a);
	free(b);
	b = put(f, "b", "set offline-after 5\n");
	a = put(f, "a", "source b\nsource b\n");
	load_ok(cfg, a);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 5);
	free(a);
	free(b);
	free(self);
	conf_free(cfg);
}

static void
test_source_depth(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg;
	char name[16], next[32], *paths[10], *cause, *want;
	int i;

	/* f0 sources f1 ... sources f8: eight nested levels are allowed */
	for (i = 0; i <= 8; i++) {
		snprintf(name, sizeof name, "f%d", i);
		if (i < 8)
			snprintf(next, sizeof next, "source f%d\n", i + 1);
		else
			snprintf(next, sizeof next, "set offline-after 9\n");
		paths[i] = put(f, name, next);
	}
	cfg = conf_new();
	load_ok(cfg, paths[0]);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 9);
	conf_free(cfg);

	/* a ninth level is refused */
	free(paths[8]);
	paths[8] = put(f, "f8", "source f9\n");
	paths[9] = put(f, "f9", "set offline-after 9\n");
	cfg = conf_new();
	cause = load_bad(cfg, paths[0]);
	want = xasprintf("%s:1: source %s: nested deeper than 8 files", paths[8], paths[9]);
	assert_string_equal(cause, want);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 3);
	free(want);
	free(cause);
	conf_free(cfg);
	for (i = 0; i <= 9; i++)
		free(paths[i]);
}

static void
test_credentials(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	const struct conf_credentials *c;
	char *err, *want, *path, *text;
	size_t n;

	text = xasprintf("credentials default admin file:pw\n"
			 "credentials A8:03:2A:B1:23:45 admin file:/run/secrets/one\n"
			 "credentials shellyplus1pm-c4d8d5000001 admin file:/run/secrets/two\n"
			 "credentials kitchen bob file:/run/secrets/three\n"
			 "credentials a8032ab12345 admin file:/run/secrets/one-new\n"
			 "credentials default admin hunter2\n"
			 "credentials kitchen bob 'my secret'\n"
			 "device den 127.0.0.1 user admin password s3cret\n"
			 "credentials default bad:user file:/x\n"
			 "credentials default admin file:\n"
			 "credentials default admin\n");
	path = put(f, "creds", text);
	err = NULL;
	assert_int_equal(conf_load(cfg, path, &err), -1);
	want = xasprintf("%1$s:6: credentials: inline passwords are not allowed; put the password "
			 "in a file that only you can read and write file:PATH\n"
			 "%1$s:7: credentials: inline passwords are not allowed; put the password in "
			 "a file that only you can read and write file:PATH\n"
			 "%1$s:8: device: inline passwords are not allowed; put the password in a "
			 "file that only you can read and write file:PATH\n"
			 "%1$s:9: credentials: invalid user \"bad:user\"\n"
			 "%1$s:10: credentials: empty path in secret reference\n"
			 "%1$s:11: usage: credentials default|DEVICE USER file:PATH",
	    path);
	assert_string_equal(err, want);
	/* a password never appears in an error */
	assert_null(strstr(err, "hunter2"));
	assert_null(strstr(err, "s3cret"));
	assert_null(strstr(err, "my secret"));
	free(want);
	free(err);

	c = conf_credentials(cfg, &n);
	assert_int_equal(n, 4); /* the MAC was defined twice: replaced */
	want = xasprintf("file:%s/pw", f->dir);
	assert_string_equal(c[0].secret, want);
	free(want);
	assert_string_equal(c[1].mac, "a8032ab12345");
	assert_string_equal(c[1].secret, "file:/run/secrets/one-new");
	assert_string_equal(c[2].mac, "");

	assert_string_equal(conf_find_credentials(cfg, "A8-03-2A-B1-23-45", NULL, NULL)->secret,
	    "file:/run/secrets/one-new");
	assert_string_equal(
	    conf_find_credentials(cfg, "c4d8d5000001", "ShellyPlus1PM-C4D8D5000001", NULL)->secret,
	    "file:/run/secrets/two");
	assert_string_equal(conf_find_credentials(cfg, NULL, "x", "kitchen")->user, "bob");
	assert_string_equal(conf_find_credentials(cfg, NULL, "x", "kitchen")->device, "kitchen");
	assert_null(conf_find_credentials(cfg, "001122334455", "other", "den")->device);
	conf_free(cfg);

	/* no default: no match */
	cfg = conf_new();
	assert_null(conf_find_credentials(cfg, "001122334455", NULL, NULL));
	conf_free(cfg);
	free(text);
	free(path);
}

/* A gid that is neither the process's group nor one of its supplementary groups. */
static gid_t
foreign_gid(void)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	for (gid_t g = 65534;; g--) {
		int mine = g == getegid();

		for (int i = 0; i < n; i++)
			mine |= groups[i] == g;
		if (!mine)
			return g;
	}
}

/* Reads the secret ref after giving its file mode and group; 1 when a warning was logged. */
static int
secret_warns(const char *ref, mode_t mode, gid_t gid)
{
	char logpath[] = "/tmp/test_conf_log.XXXXXX", buf[512] = "", *cause = NULL, *s;
	int fd = mkstemp(logpath);
	ssize_t n;

	assert_true(fd >= 0);
	unlink(logpath);
	if (chown(ref + 5, (uid_t)-1, gid) != 0 && gid != getegid())
		fail_msg("chown %s to group %u: %s", ref + 5, (unsigned)gid, strerror(errno));
	chmod(ref + 5, mode);
	log_set_fd(fd);
	s = conf_read_secret(ref, &cause);
	log_set_fd(-1);
	assert_non_null(s);
	conf_secret_free(s);
	n = pread(fd, buf, sizeof buf - 1, 0);
	close(fd);
	if (n > 0)
		buf[n] = '\0';
	return strstr(buf, "can be read or changed by others") != NULL;
}

static void
test_read_secret(void **state)
{
	struct fixture *f = *state;
	char *path, *ref, *s, *cause = NULL;

	path = put(f, "pw", "correct horse\n");
	ref = xasprintf("file:%s", path);
	s = conf_read_secret(ref, &cause);
	assert_string_equal(s, "correct horse");
	conf_secret_free(s);
	free(path);
	free(ref);

	/* only one trailing newline goes; CRLF too */
	path = put(f, "pw2", "two lines\n\n");
	ref = xasprintf("file:%s", path);
	s = conf_read_secret(ref, &cause);
	assert_string_equal(s, "two lines\n");
	conf_secret_free(s);
	free(path);
	free(ref);
	path = put(f, "pw3", "dos\r\n");
	ref = xasprintf("file:%s", path);
	s = conf_read_secret(ref, &cause);
	assert_string_equal(s, "dos");
	conf_secret_free(s);
	/* readable by others: read anyway (a warning is logged) */
	assert_true(secret_warns(ref, 0644, getegid()));
	assert_true(secret_warns(ref, 0604, getegid()));
	assert_true(secret_warns(ref, 0620, getegid())); /* its group could replace it */
	assert_false(secret_warns(ref, 0600, getegid()));
	/* group-readable by this process's own group (Kubernetes: defaultMode 0440 + fsGroup) */
	assert_false(secret_warns(ref, 0440, getegid()));
	assert_false(secret_warns(ref, 0640, getegid()));
	/* group-readable by a group this process is not in (root can give it one) */
	if (getuid() == 0)
		assert_true(secret_warns(ref, 0440, foreign_gid()));
	free(path);
	free(ref);

	path = put(f, "empty", "\n");
	ref = xasprintf("file:%s", path);
	assert_null(conf_read_secret(ref, &cause));
	assert_non_null(strstr(cause, "is empty"));
	free(cause);
	free(path);
	free(ref);

	ref = xasprintf("file:%s/missing", f->dir);
	assert_null(conf_read_secret(ref, &cause));
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
	free(ref);

	assert_null(conf_read_secret("hunter2", &cause));
	assert_string_equal(cause, "secret reference must be file:PATH");
	free(cause);

	ref = xasprintf("file:%s", f->dir);
	assert_null(conf_read_secret(ref, &cause));
	assert_non_null(strstr(cause, "is a directory"));
	free(cause);
	free(ref);
	conf_secret_free(NULL);
}

static void
test_devices(void **state)
{
	struct conf *cfg = conf_new();
	const struct conf_device *d;
	char *err;
	size_t n;

	(void)state;
	err = load_text(cfg, "device a 127.0.0.1:8081 user admin password file:/p\n"
			     "device b [::1]:8080\n"
			     "device c ::1\n"
			     "device d shelly1-abc.local user bob\n"
			     "device e [fe80::1]\n");
	if (err != NULL)
		fail_msg("%s", err);
	d = conf_devices(cfg, &n);
	assert_int_equal(n, 5);
	assert_string_equal(d[0].host, "127.0.0.1");
	assert_int_equal(d[0].port, 8081);
	assert_string_equal(d[0].user, "admin");
	assert_string_equal(d[0].secret, "file:/p");
	assert_string_equal(d[1].host, "::1");
	assert_int_equal(d[1].port, 8080);
	assert_string_equal(d[2].host, "::1");
	assert_int_equal(d[2].port, 80);
	assert_string_equal(d[3].host, "shelly1-abc.local");
	assert_string_equal(d[3].user, "bob");
	assert_null(d[3].secret);
	assert_string_equal(d[4].host, "fe80::1");

	err = load_text(cfg, "device a 127.0.0.2\n"
			     "device f 127.0.0.1:0\n"
			     "device g 127.0.0.1:65536\n"
			     "device h 127.1\n"
			     "device i bad_host!\n"
			     "device j [::1\n"
			     "device k 127.0.0.1 user\n"
			     "device l 127.0.0.1 colour red\n"
			     "device m 127.0.0.1 user a user b\n"
			     "device \"\" 127.0.0.1\n"
			     "device n\n"
			     "device o 127.0.0.1:80x\n");
	assert_string_equal(err,
	    "mem:1: device: \"a\" is already defined at mem:1\n"
	    "mem:2: device: invalid port in \"127.0.0.1:0\" (expected 1 to 65535)\n"
	    "mem:3: device: invalid port in \"127.0.0.1:65536\" (expected 1 to 65535)\n"
	    "mem:4: device: invalid host in \"127.1\" (expected an IPv4 address, [IPv6] or a host "
	    "name)\n"
	    "mem:5: device: invalid host in \"bad_host!\" (expected an IPv4 address, [IPv6] or a host "
	    "name)\n"
	    "mem:6: device: invalid host in \"[::1\" (expected an IPv4 address, [IPv6] or a host name)\n"
	    "mem:7: device: \"user\" needs a value\n"
	    "mem:8: device: unexpected \"colour\" (usage: device NAME HOST[:PORT] [user USER] "
	    "[password file:PATH])\n"
	    "mem:9: device: unexpected \"user\" (usage: device NAME HOST[:PORT] [user USER] "
	    "[password file:PATH])\n"
	    "mem:10: device: invalid name \"\" (1 to 64 printable characters)\n"
	    "mem:11: usage: device NAME HOST[:PORT] [user USER] [password file:PATH]\n"
	    "mem:12: device: invalid port in \"127.0.0.1:80x\" (expected 1 to 65535)");
	free(err);
	conf_devices(cfg, &n);
	assert_int_equal(n, 5);
	conf_free(cfg);
}

static void
test_device_address(void **state)
{
	char *host = NULL, *cause = NULL;
	unsigned port = 0;

	(void)state;
	assert_int_equal(conf_parse_device_address("127.0.3.4", 80, &host, &port, &cause), 0);
	assert_string_equal(host, "127.0.3.4");
	assert_int_equal(port, 80);
	free(host);
	assert_int_equal(conf_parse_device_address("[::1]:8081", 80, &host, &port, &cause), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8081);
	free(host);
	assert_int_equal(conf_parse_device_address("shelly1-abc:81", 80, &host, &port, &cause), 0);
	assert_string_equal(host, "shelly1-abc");
	assert_int_equal(port, 81);
	free(host);
	assert_int_equal(conf_parse_device_address("127.0.3.4:0", 80, &host, &port, &cause), -1);
	assert_string_equal(cause, "invalid port in \"127.0.3.4:0\" (expected 1 to 65535)");
	free(cause);
	assert_int_equal(conf_parse_device_address("a b\x1b", 80, &host, &port, &cause), -1);
	assert_null(strchr(cause, '\x1b'));
	free(cause);
}

static void
test_ranges(void **state)
{
	struct conf *cfg = conf_new();
	const struct conf_range *r;
	char *err;
	size_t n;

	(void)state;
	err = load_text(cfg, "discover-range 10.0.20.0/24 10.0.21.10-50,10.0.22.7\n"
			     "discover-range 10.0.20.0/24\n"
			     "discover-range fd00::/64\n"
			     "discover-range 10.0.0.0/40 10.0.30.1\n"
			     "discover-range\n");
	assert_string_equal(err,
	    "mem:3: discover-range: IPv6 targets are not supported: \"fd00::/64\"\n"
	    "mem:4: discover-range: invalid prefix length (expected 0 to 32): \"10.0.0.0/40\"\n"
	    "mem:5: usage: discover-range TARGET...");
	free(err);
	r = conf_ranges(cfg, &n);
	assert_int_equal(n, 4); /* the repeated /24 counted once */
	assert_string_equal(r[0].text, "10.0.20.0/24");
	assert_string_equal(r[1].text, "10.0.21.10-50");
	assert_int_equal(cidr_count(&r[1].target), 41);
	assert_string_equal(r[2].text, "10.0.22.7");
	assert_string_equal(r[3].text, "10.0.30.1");
	assert_string_equal(r[3].where, "mem:4");
	conf_free(cfg);
}

static void
test_bind_color(void **state)
{
	struct conf *cfg = conf_new();
	const struct conf_bind *b;
	const struct conf_color *c;
	char *err;
	size_t n;

	(void)state;
	err = load_text(cfg, "bind devices t toggle-output\n"
			     "bind devices C-x quit\n"
			     "bind devices M-Enter open\n"
			     "bind main F12 refresh\n"
			     "bind main PageDown next-page\n"
			     "bind main \xC3\xA4 umlaut\n"
			     "bind main C-M-Up move-up\n"
			     "bind devices t toggle-all\n"
			     "bind main - collapse\n"
			     "color device.offline red default bold\n"
			     "color status 208 color17 bold,underline reverse\n"
			     "color title brightwhite blue normal\n"
			     "color device.offline yellow black\n");
	if (err != NULL)
		fail_msg("%s", err);
	b = conf_binds(cfg, &n);
	assert_int_equal(n, 8); /* devices t rebound, not added */
	assert_string_equal(b[0].action, "toggle-all");
	assert_string_equal(b[0].where, "mem:8");
	assert_string_equal(b[1].key, "C-x");
	assert_string_equal(b[5].key, "\xC3\xA4");
	c = conf_colors(cfg, &n);
	assert_int_equal(n, 3);
	assert_string_equal(c[0].element, "device.offline");
	assert_int_equal(c[0].fg, 3);
	assert_int_equal(c[0].bg, 0);
	assert_int_equal(c[0].attrs, 0);
	assert_int_equal(c[1].fg, 208);
	assert_int_equal(c[1].bg, 17);
	assert_int_equal(c[1].attrs,
	    CONF_ATTR_BOLD | CONF_ATTR_UNDERLINE | CONF_ATTR_REVERSE);
	assert_int_equal(c[2].fg, 15);
	assert_int_equal(c[2].bg, 4);

	err = load_text(cfg, "bind devices tt quit\n"
			     "bind devices F25 quit\n"
			     "bind devices C-C-x quit\n"
			     "bind 9view x quit\n"
			     "bind devices x \"toggle output\"\n"
			     "bind devices \" \" quit\n"
			     "bind devices x\n"
			     "color x 256 default\n"
			     "color x red purple\n"
			     "color x red default blinking\n"
			     "color x.y 007 default\n"
			     "color \"a b\" red blue\n");
	assert_string_equal(err,
	    "mem:1: bind: invalid key \"tt\" (expected a character or a key name such as Enter, F5, "
	    "C-x, M-Up)\n"
	    "mem:2: bind: invalid key \"F25\" (expected a character or a key name such as Enter, F5, "
	    "C-x, M-Up)\n"
	    "mem:3: bind: invalid key \"C-C-x\" (expected a character or a key name such as Enter, "
	    "F5, C-x, M-Up)\n"
	    "mem:4: bind: invalid view \"9view\"\n"
	    "mem:5: bind: invalid action \"toggle output\"\n"
	    "mem:6: bind: invalid key \" \" (expected a character or a key name such as Enter, F5, "
	    "C-x, M-Up)\n"
	    "mem:7: usage: bind VIEW KEY ACTION\n"
	    "mem:8: color: invalid colour \"256\" (expected default, a name such as red, or 0 to "
	    "255)\n"
	    "mem:9: color: invalid colour \"purple\" (expected default, a name such as red, or 0 to "
	    "255)\n"
	    "mem:10: color: invalid attribute \"blinking\" (expected bold, underline, reverse, dim, "
	    "blink or italic)\n"
	    "mem:11: color: invalid colour \"007\" (expected default, a name such as red, or 0 to "
	    "255)\n"
	    "mem:12: color: invalid element \"a b\"");
	free(err);
	conf_colors(cfg, &n);
	assert_int_equal(n, 3);
	conf_free(cfg);
}

static void
test_config_set(void **state)
{
	struct conf *cfg = conf_new();
	char *cause = NULL, *host;
	unsigned port;

	(void)state;
	assert_int_equal(conf_set(cfg, "poll-interval-gen1", "250ms", &cause), 0);
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN1), 250);
	assert_int_equal(conf_set(cfg, "poll-interval-gen1", "1", &cause), 0);
	assert_int_equal(conf_get_ms(cfg, OPT_POLL_INTERVAL_GEN1), 1000);
	assert_int_equal(conf_set(cfg, "response-max", "512k", &cause), 0);
	assert_int_equal(conf_get_size(cfg, OPT_RESPONSE_MAX), 524288);
	assert_int_equal(conf_set(cfg, "listen", "[::1]:0", &cause), 0);
	assert_string_equal(conf_get_str(cfg, OPT_LISTEN), "[::1]:0");
	conf_get_address(cfg, OPT_LISTEN, &host, &port);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	free(host);
	assert_int_equal(conf_set(cfg, "listen", "localhost:9464", &cause), 0);
	conf_get_address(cfg, OPT_LISTEN, &host, &port);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 9464);
	free(host);
	assert_int_equal(conf_set(cfg, "log-level", "debug", &cause), 0);
	assert_int_equal(conf_get_enum(cfg, OPT_LOG_LEVEL), LOG_DEBUG);
	assert_int_equal(conf_set(cfg, "log-level", "OFF", &cause), 0);
	assert_int_equal(conf_get_enum(cfg, OPT_LOG_LEVEL), LOG_OFF);
	assert_int_equal(conf_set(cfg, "discover-interval", "0", &cause), 0);
	assert_int_equal(conf_set(cfg, "discover-interval", "1h", &cause), 0);
	assert_int_equal(conf_get_ms(cfg, OPT_DISCOVER_INTERVAL), 3600000);
	/* relative paths from conf_set stay relative to the working directory */
	assert_int_equal(conf_set(cfg, "db", "x.db", &cause), 0);
	assert_string_equal(conf_get_str(cfg, OPT_DB), "x.db");

	assert_int_equal(conf_set(cfg, "lanes-gen2", "0", &cause), -1);
	assert_string_equal(cause, "lanes-gen2: 0 is out of range (1 to 3)");
	free(cause);
	assert_int_equal(conf_set(cfg, "listen", "127.0.0.1:99999", &cause), -1);
	assert_string_equal(cause, "listen: invalid port in \"127.0.0.1:99999\" (expected 0 to 65535)");
	free(cause);
	assert_int_equal(conf_set(cfg, "listen", "\x1b[2J:80", &cause), -1);
	assert_null(strchr(cause, '\x1b'));
	free(cause);
	assert_int_equal(conf_set(cfg, "nope\x07", "1", &cause), -1);
	assert_string_equal(cause, "unknown option \"nope\" (see --list-options)");
	free(cause);
	assert_int_equal(conf_set(cfg, "history-retention", "3651d", &cause), -1);
	assert_string_equal(cause, "history-retention: 3651d is out of range (1ms to 3650d)");
	free(cause);
	assert_int_equal(conf_get_enum(cfg, OPT_LOG_LEVEL), LOG_OFF);
	conf_free(cfg);
}

static void
test_list_options(void **state)
{
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *fp;
	int id, lines = 0;

	(void)state;
	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	conf_list_options(fp);
	fclose(fp);
	for (line = buf; *line != '\0'; line = strchr(line, '\n') + 1)
		lines++;
	assert_int_equal(lines, OPT__COUNT);
	/* line i describes option i */
	for (id = 0, line = buf; id < OPT__COUNT; id++, line = strchr(line, '\n') + 1) {
		const char *name = conf_option_info(id)->name;

		assert_memory_equal(line, name, strlen(name));
		assert_int_equal(line[strlen(name)], ' ');
	}
	assert_non_null(strstr(buf, "poll-interval-gen1     duration 30s             Time between "
				    "two status polls of a Gen1 device\n"));
	assert_non_null(strstr(buf, "tls-mode               enum     tofu            "));
	assert_non_null(strstr(buf, "(one of tofu, ca, insecure)\n"));
	assert_non_null(strstr(buf, "db                     path     \"\"              "));
	free(buf);
}

static void
test_default_path(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	char *path, *dir, *cause = NULL, *want;
	const char *old_home = getenv("HOME");
	char *saved_home = old_home != NULL ? xstrdup(old_home) : NULL;

	/* XDG_CONFIG_HOME first */
	setenv("XDG_CONFIG_HOME", f->dir, 1);
	path = conf_default_path();
	want = xasprintf("%s/shelly-tui/config", f->dir);
	assert_string_equal(path, want);
	free(want);
	/* a missing default file is fine */
	assert_int_equal(conf_load(cfg, NULL, &cause), 0);
	assert_null(cause);
	/* an existing one is read */
	dir = xasprintf("%s/shelly-tui", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	free(put(f, "shelly-tui/config", "set offline-after 11\n"));
	assert_int_equal(conf_load(cfg, NULL, &cause), 0);
	assert_int_equal(conf_get_int(cfg, OPT_OFFLINE_AFTER), 11);
	free(path);

	/* then ~/.config */
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/someone", 1);
	path = conf_default_path();
	assert_string_equal(path, "/home/someone/.config/shelly-tui/config");
	free(path);
	/* a relative XDG_CONFIG_HOME is ignored, as the spec says */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	path = conf_default_path();
	assert_string_equal(path, "/home/someone/.config/shelly-tui/config");
	free(path);
	if (saved_home != NULL)
		setenv("HOME", saved_home, 1);
	free(saved_home);

	/* a missing explicit file is an error */
	path = xasprintf("%s/none", f->dir);
	cause = load_bad(cfg, path);
	want = xasprintf("%s: cannot read: No such file or directory", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	free(path);
	/* so is a directory */
	cause = load_bad(cfg, dir);
	want = xasprintf("%s: cannot read: is a directory", dir);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	free(dir);
	conf_free(cfg);
}

static void
test_big_file(void **state)
{
	struct fixture *f = *state;
	struct conf *cfg = conf_new();
	char *path = xasprintf("%s/big", f->dir), *cause, *want;
	FILE *fp = fopen(path, "w");
	int i;

	assert_non_null(fp);
	for (i = 0; i < 70000; i++)
		fputs("# padding line\n", fp);
	fclose(fp);
	cause = load_bad(cfg, path);
	want = xasprintf("%s: cannot read: larger than 1048576 bytes", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	free(path);
	conf_free(cfg);
}

/* Command-line overrides survive a reload; request targets are built from one place. */
static void
test_overrides_and_target(void **state)
{
	struct conf *cfg = conf_new(), *again;
	struct shelly_target t;
	const char *text = "set request-timeout 9s\nset connect-timeout 3s\nset lanes-gen2 3\n";
	char *cause = NULL;

	(void)state;
	assert_int_equal(conf_override(cfg, "request-timeout", "1500ms", &cause), 0);
	assert_int_equal(conf_override(cfg, "tls-mode", "insecure", &cause), 0);
	assert_int_not_equal(conf_override(cfg, "no-such-option", "1", &cause), 0);
	free(cause);
	cause = NULL;
	again = conf_new_like(cfg);
	assert_int_equal(conf_load_buffer(again, "mem", text, strlen(text), &cause), 0);
	memset(&t, 0, sizeof t);
	conf_target(again, &t);
	assert_int_equal(t.timeout_ms, 1500); /* the override beats the file */
	assert_int_equal(t.connect_timeout_ms, 1500); /* never longer than the request */
	assert_int_equal(t.tls, HTTP_TLS_INSECURE);
	assert_int_equal(t.lane_limit, 3);
	assert_int_equal(t.max_body, conf_get_size(again, OPT_RESPONSE_MAX));
	assert_null(t.ca_file);
	conf_free(again);
	conf_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_setup_teardown(test_design_example, setup, teardown),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test_setup_teardown(test_errors_collected, setup, teardown),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test_setup_teardown(test_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_secret, setup, teardown),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_device_address),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_bind_color),
		cmocka_unit_test(test_config_set),
		cmocka_unit_test(test_overrides_and_target),
		cmocka_unit_test(test_list_options),
		cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
