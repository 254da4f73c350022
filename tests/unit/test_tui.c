/*
 * The console's deterministic layer: a virtual terminal, keys fed through the same input path
 * as a real terminal, and the screen read back as text. The store is an in-memory database
 * with devices and statuses written the way the poller writes them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "engine/creds.h"
#include "store/cfgstore.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "tui/keymap.h"
#include "tui/source.h"
#include "tui/theme.h"
#include "tui/tui.h"
#include "tui/view.h"
#include "util/cells.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#include "fixtures.h"

struct fx {
	struct app app;
	struct tui *t;
};

/* add_device with firmware fw, and fw_update (1: an update is offered). */
static void
add_device_fw(struct store *st, const char *mac, const char *name, const char *model, int gen,
    const char *host, const char *state, double power, const char *json, const char *fw,
    int fw_update)
{
	struct store_device d;
	struct store_status s;
	char *cause = NULL;

	memset(&d, 0, sizeof d);
	strcpy(d.mac, mac);
	d.id = mac;
	d.name = name;
	d.model = model;
	d.gen = gen;
	d.host = host;
	d.fw = fw;
	d.last_seen_ms = loop_wall_ms();
	assert_int_equal(store_device_upsert(st, &d, &cause), 0);
	if (state == NULL)
		return;
	memset(&s, 0, sizeof s);
	strcpy(s.mac, mac);
	s.ts_ms = loop_wall_ms();
	s.state = state;
	s.power_w = power;
	s.energy_wh = NAN;
	s.temperature_c = NAN;
	s.rssi_dbm = -60;
	s.uptime_s = strcmp(state, "online") == 0 ? 200000 : STORE_NULL_INT; /* 2d */
	s.outputs_on = STORE_NULL_INT;
	s.fw_update = fw_update;
	s.cfg_rev = STORE_NULL_INT;
	s.json = json;
	assert_int_equal(store_queue_status(st, &s), 0);
	assert_int_equal(store_flush(st, &cause), 0);
}

static void
add_device(struct store *st, const char *mac, const char *name, const char *model, int gen,
    const char *host, const char *state, double power, const char *json)
{
	add_device_fw(st, mac, name, model, gen, host, state, power, json,
	    "20241011-114455/1.4.4-g6d2a586", 0);
}

static int setup_columns(void **state, int rows, int cols, int empty, const char *columns);
/* When set, the virtual terminal's bytes go here (setup_capture). */
static FILE *capture;

static int
setup_fleet(void **state, int rows, int cols, int empty)
{
	return setup_columns(state, rows, cols, empty, NULL);
}

static int
setup_columns(void **state, int rows, int cols, int empty, const char *columns)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char *cause = NULL;

	setenv("LC_ALL", "C.UTF-8", 1);
	unsetenv("NO_COLOR");
	f->app.cfg = conf_new();
	if (columns != NULL && conf_set(f->app.cfg, "console-columns", columns, &cause) != 0)
		fail_msg("conf_set: %s", cause);
	f->app.loop = loop_new();
	assert_int_equal(store_open(":memory:", &f->app.store, &cause), 0);
	if (!empty) {
		add_device(f->app.store, "aabbcc000001", "Kitchen counter", "SNPL-00112EU", 2,
		    "10.0.20.31", "online", 1203.5,
		    "{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":1203.5,"
		    "\"voltage\":230.1}}");
		add_device(f->app.store, "aabbcc000002", "Garage door", "SNSW-001X16EU", 2,
		    "10.0.20.32", "offline", NAN, NULL);
		add_device(f->app.store, "aabbcc000003", "Attic fan", "SNSW-001P16EU", 2,
		    "10.0.20.33", "online", 42.0,
		    "{\"switch:0\":{\"id\":0,\"output\":false,\"apower\":42}}");
		add_device(f->app.store, "aabbcc000004", "Evil\x1b]0;pwned\x07\x1b[2J name",
		    "SHSW-1", 1, "10.0.20.34", "online", NAN, NULL);
		{
			struct store_event ev = {0, loop_wall_ms(), "aabbcc000002", "offline",
			    "3 failed polls: timeout"};
			assert_int_equal(store_queue_event(f->app.store, &ev), 0);
			assert_int_equal(store_flush(f->app.store, &cause), 0);
		}
	}
	f->t = tui_new_virtual(&f->app, rows, cols, capture, &cause);
	if (f->t == NULL)
		fail_msg("tui_new_virtual: %s", cause);
	*state = f;
	return 0;
}

/*
 * Covers as the real captures report them (tests/fixtures gen2/plus-2pm/cover-mode,
 * gen3/shutter-gen3, gen2/pro-dual-cover-pm; Gen1 rollers report state open/close/stop and
 * positioning): calibrated ones with a position, the others with a state only.
 */
static int
setup_covers(void **state)
{
	struct fx *f;
	char *cause = NULL;
	int rc = setup_fleet(state, 30, 100, 1);

	f = *state;
	add_device(f->app.store, "aabbcc0000c1", "Calibrated half", "SNSW-102P16EU", 2,
	    "10.0.20.41", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"stopped\",\"current_pos\":50,"
	    "\"pos_control\":true,\"last_direction\":\"open\"}}");
	add_device(f->app.store, "aabbcc0000c2", "Uncal stopped", "S3SH-0A2P4EU", 3,
	    "10.0.20.42", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"stopped\",\"current_pos\":null,"
	    "\"pos_control\":false,\"last_direction\":\"close\"}}");
	add_device(f->app.store, "aabbcc0000c3", "Uncal opening", "SNSW-102P16EU", 2,
	    "10.0.20.43", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"opening\",\"pos_control\":false}}");
	add_device(f->app.store, "aabbcc0000c4", "Roller closing", "SHSW-25", 1, "10.0.20.44",
	    "online", NAN,
	    "{\"rollers\":[{\"state\":\"close\",\"current_pos\":101,"
	    "\"positioning\":false,\"last_direction\":\"close\"}]}");
	add_device(f->app.store, "aabbcc0000c5", "Roller moving", "SHSW-25", 1, "10.0.20.45",
	    "online", NAN,
	    "{\"rollers\":[{\"state\":\"open\",\"current_pos\":30,"
	    "\"positioning\":true}]}");
	add_device(f->app.store, "aabbcc0000c6", "Cover closed", "SNSW-102P16EU", 2,
	    "10.0.20.46", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"closed\",\"pos_control\":false}}");
	/* Two covers (Pro Dual Cover): the capture (tests/fixtures/gen2/pro-dual-cover-pm,
	 * both uncalibrated and stopped), then calibrated ones, one moving. */
	add_device(f->app.store, "aabbcc0000c8", "Dual capture", "SPSH-002PE16EU", 2,
	    "10.0.20.48", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"stopped\",\"current_pos\":null,"
	    "\"pos_control\":false},\"cover:1\":{\"id\":1,\"state\":\"stopped\","
	    "\"current_pos\":null,\"pos_control\":false}}");
	add_device(f->app.store, "aabbcc0000c9", "Dual halves", "SPSH-002PE16EU", 2,
	    "10.0.20.49", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"stopped\",\"current_pos\":30,"
	    "\"pos_control\":true},\"cover:1\":{\"id\":1,\"state\":\"stopped\","
	    "\"current_pos\":50,\"pos_control\":true}}");
	add_device(f->app.store, "aabbcc0000ca", "Dual moving", "SPSH-002PE16EU", 2,
	    "10.0.20.50", "online", NAN,
	    "{\"cover:0\":{\"id\":0,\"state\":\"opening\",\"current_pos\":30,"
	    "\"pos_control\":true},\"cover:1\":{\"id\":1,\"state\":\"closed\","
	    "\"pos_control\":false}}");
	/* A switch whose output comes as the wrong type (the simulator's wrongtypes fault). */
	add_device(f->app.store, "aabbcc0000c7", "Odd switch", "SNSW-001X16EU", 2, "10.0.20.47",
	    "online", NAN, "{\"switch:0\":{\"id\":0,\"output\":{\"value\":true}}}");
	tui_free(f->t);
	f->t = tui_new_virtual(&f->app, 30, 100, NULL, &cause);
	if (f->t == NULL)
		fail_msg("tui_new_virtual: %s", cause);
	return rc;
}

static int
setup(void **state)
{
	return setup_fleet(state, 30, 100, 0);
}

/* The bytes sent to the terminal are kept in capture. */
static int
setup_capture(void **state)
{
	capture = tmpfile();
	assert_non_null(capture);
	return setup_fleet(state, 30, 100, 0);
}

static int
setup_tall(void **state)
{
	return setup_fleet(state, 200, 120, 0);
}

/* Tall enough for the whole help view: one line per action and view heading. */
static int
setup_help(void **state)
{
	return setup_fleet(state, 400, 120, 0);
}

static int
setup_small(void **state)
{
	return setup_fleet(state, 24, 80, 0);
}

/* Below the 80x24 the console is made for: it must still keep to its frames. */
static int
setup_tiny(void **state)
{
	return setup_fleet(state, 12, 50, 0);
}

static int
setup_empty(void **state)
{
	return setup_fleet(state, 30, 100, 1);
}

static int
setup_ip_first(void **state)
{
	return setup_columns(state, 30, 100, 0, "ip, name,power,bogus");
}

static int
setup_wide(void **state)
{
	return setup_fleet(state, 30, 220, 0);
}

static int
setup_mac_named(void **state)
{
	return setup_columns(state, 30, 100, 0, "name,mac,state");
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tui_free(f->t);
	creds_free(f->app.creds); /* made by the console's source, owned by the app */
	store_free(f->app.store);
	loop_free(f->app.loop);
	conf_free(f->app.cfg);
	free(f);
	return 0;
}

/* The screen, also printed when TUI_DUMP is set (to see what a failing test saw). */
static char *
dump(struct tui *t)
{
	char *s = tui_dump(t);

	if (getenv("TUI_DUMP") != NULL)
		fprintf(stderr, "%s----\n", s);
	return s;
}

/* The line of the screen that contains needle, or NULL (owned by screen). */
static const char *
line_with(const char *screen, const char *needle)
{
	return strstr(screen, needle);
}

static char *feed_expect(struct tui *t, const char *keys, const char *needle);
static int in_line(const char *line, const char *needle);
static void assert_line_matches(const char *screen, const char *needle, const char *re);

static void
test_table(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);

	assert_non_null(line_with(s, "fleet 4"));
	assert_non_null(line_with(s, "online 3"));
	assert_non_null(line_with(s, "offline 1"));
	assert_non_null(line_with(s, "Kitchen counter"));
	assert_non_null(line_with(s, "1203.5W"));
	assert_non_null(line_with(s, "Garage door"));
	assert_non_null(line_with(s, "10.0.20.33"));
	assert_non_null(line_with(s, "1.4.4"));
	/* Unknown is "-", never 0: the offline device shows no power. */
	{
		const char *g = strstr(s, "Garage door");
		const char *eol = strchr(g, '\n');
		assert_null(memmem(g, (size_t)(eol - g), "0.0W", 4));
	}
	assert_non_null(line_with(s, "F1 Help"));
	free(s);
}

/* The OUT cell of the row whose name is name: the word after the state word "online". */
static void
assert_out(const char *screen, const char *name, const char *want)
{
	const char *l = strstr(screen, name), *eol, *on;
	char got[32];

	assert_non_null(l);
	eol = strchr(l, '\n');
	on = strstr(l, "online");
	assert_true(on != NULL && on < eol);
	if (sscanf(on + strlen("online"), " %*s %31s", got) != 1) /* the DRIFT cell, then OUT */
		fail_msg("no OUT cell in '%.*s'", (int)(eol - l), l);
	if (strcmp(got, want) != 0)
		fail_msg("%s: OUT '%s', want '%s'", name, got, want);
}

static void
test_cover_out(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);

	assert_out(s, "Calibrated half", "50%");
	assert_out(s, "Uncal stopped", "stopped");
	assert_out(s, "Uncal opening", "opening");
	assert_out(s, "Roller closing", "closing");
	assert_out(s, "Roller moving", "30%\u2191");
	assert_out(s, "Cover closed", "closed");
	/* Two covers: both, as "a/b"; compact when the full words would not fit the column. */
	assert_out(s, "Dual halves", "30%/50%");
	assert_out(s, "Dual capture", "st/st");
	assert_out(s, "Dual moving", "30\u2191/cl");
	/* An output the reply does not tell is not "off". */
	assert_out(s, "Odd switch", "?");
	free(s);
	/* Sorted by OUT: positions first (ascending), then the uncalibrated ones by state. */
	s = feed_expect(f->t, ": s o r t Space o u t p u t s Enter", "sort: outputs");
	{
		const char *order[] = {"Roller moving", "Calibrated half", "Cover closed",
		    "Uncal opening", "Roller closing", "Uncal stopped"};
		for (size_t i = 1; i < sizeof order / sizeof order[0]; i++)
			if (strstr(s, order[i - 1]) > strstr(s, order[i]))
				fail_msg("'%s' sorts after '%s':\n%s", order[i - 1], order[i], s);
	}
	free(s);
	/* has=cover finds every cover, whatever its name says. */
	s = feed_expect(f->t, ": f i l t e r Space h a s = c o v e r Enter", "9 of 10");
	free(s);
	/* Covers and a switch marked: on/off are dimmed, and the menu says how to mark only the
	 * devices that can. */
	s = feed_expect(f->t, "Esc a b", "Bulk action");
	assert_non_null(strstr(s, "9 marked devices have no output"));
	assert_non_null(strstr(s, "mark only those that can: filter has=output/cover/update, a"));
	free(s);
}

static void
test_hostile_name(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);

	assert_null(strchr(s, '\x1b'));
	assert_null(strchr(s, '\x07'));
	assert_null(strstr(s, "pwned"));
	assert_non_null(strstr(s, "Evil"));
	free(s);
}

/*
 * Format characters in a device's name (zero-width space and joiner, word joiner, BOM, the
 * Mongolian vowel separator) never reach the terminal: the name shows without them and the
 * bytes written hold none of them.
 */
static void
test_zero_width_name(void **state)
{
	struct fx *f = *state;
	static const char *const zw[] = {"\xE2\x80\x8B", "\xE2\x80\x8D", "\xE2\x81\xA0",
	    "\xEF\xBB\xBF", "\xE1\xA0\x8E"};
	char *s, *bytes;
	size_t len;

	add_device(f->app.store, "aabbcc000008",
	    "Zero\xE2\x80\x8B" "width\xE2\x80\x8D\xE2\x81\xA0\xEF\xBB\xBF" "name\xE1\xA0\x8E" "x",
	    "SNSW-001P16EU", 2, "10.0.20.38", "online", 5.0, NULL);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_non_null(strstr(s, "Zerowidthnamex"));
	free(s);
	tui_feed(f->t, "/ Z e r o");
	fflush(capture);
	len = (size_t)ftell(capture);
	bytes = xmalloc(len + 1);
	rewind(capture);
	assert_int_equal(fread(bytes, 1, len, capture), len);
	assert_non_null(memmem(bytes, len, "Zerowidthnamex", 14));
	for (size_t i = 0; i < sizeof zw / sizeof zw[0]; i++)
		assert_null(memmem(bytes, len, zw[i], strlen(zw[i])));
	free(bytes);
	fclose(capture);
	capture = NULL;
}

static void
test_filter(void **state)
{
	struct fx *f = *state;
	char *s;

	tui_feed(f->t, "/ k i t");
	s = dump(f->t);
	assert_non_null(strstr(s, "filter: kit"));
	assert_non_null(strstr(s, "1 of 4"));
	assert_non_null(strstr(s, "Kitchen counter"));
	assert_null(strstr(s, "Attic fan"));
	free(s);
	tui_feed(f->t, "Enter");
	tui_feed(f->t, ": f i l t e r Space s t a t e = o f f Enter");
	s = dump(f->t);
	assert_non_null(strstr(s, "Garage door"));
	assert_null(strstr(s, "Kitchen counter"));
	free(s);
	/* has= keeps devices by what their reply shows: the two plugs have a switch, nobody a
	 * cover (and the empty table says what has= takes). */
	s = feed_expect(f->t, ": f i l t e r Space h a s = s w i t c h Enter", "2 of 4");
	assert_non_null(strstr(s, "Kitchen counter"));
	assert_non_null(strstr(s, "Attic fan"));
	free(s);
	s = feed_expect(f->t, ": f i l t e r Space h a s = c o v e r Enter", "0 of 4");
	assert_non_null(strstr(s, "has= takes: cover light switch output update"));
	free(s);
	/* Esc in the filter prompt clears it. */
	tui_feed(f->t, "/ Esc");
	s = dump(f->t);
	assert_non_null(strstr(s, "4 of 4"));
	free(s);
	/* A filter that matches nothing says so, and a state= typo gets the words it takes. */
	s = feed_expect(f->t, ": f i l t e r Space s t a t e = o f l i n e Enter",
	    "no device matches the filter (Esc clears it)");
	assert_non_null(strstr(s, "0 of 4"));
	assert_non_null(strstr(s, "state= takes: online offline asleep auth? authfail error new"));
	free(s);
	/* Esc in the table clears a filter already entered (q there leaves the console). */
	free(feed_expect(f->t, "Esc / k i t Enter", "1 of 4"));
	s = feed_expect(f->t, "Esc", "filter cleared");
	assert_non_null(strstr(s, "4 of 4"));
	assert_null(strstr(s, "filter: kit"));
	free(s);
}

static void
test_sort(void **state)
{
	struct fx *f = *state;
	char *s;

	/* By name: Attic before Kitchen. */
	s = dump(f->t);
	assert_true(strstr(s, "Attic fan") < strstr(s, "Kitchen counter"));
	free(s);
	/* By power, largest first: Kitchen (1203.5 W) before Attic (42 W), and Garage door
	 * (no power known, "-") after both. */
	tui_feed(f->t, ": s o r t Space p o w e r Enter");
	s = dump(f->t);
	assert_non_null(strstr(s, "sort: power"));
	assert_true(strstr(s, "Kitchen counter") < strstr(s, "Attic fan"));
	assert_true(strstr(s, "Attic fan") < strstr(s, "Garage door"));
	free(s);
	/* By outputs: the switch that is off, the one that is on, then those showing "-" (the
	 * offline device, the one without a parsed reply) in name order. */
	s = feed_expect(f->t, ": s o r t Space o u t p u t s Enter", "sort: outputs");
	assert_true(strstr(s, "Attic fan") < strstr(s, "Kitchen counter"));
	assert_true(strstr(s, "Kitchen counter") < strstr(s, "Evil"));
	assert_true(strstr(s, "Evil") < strstr(s, "Garage door"));
	free(s);
	tui_feed(f->t, ": s o r t Space p o w e r Enter");
	/* Reversed: the known values swap, the unknown one stays last. */
	tui_feed(f->t, "r");
	s = dump(f->t);
	assert_true(strstr(s, "Kitchen counter") > strstr(s, "Attic fan"));
	assert_true(strstr(s, "Kitchen counter") < strstr(s, "Garage door"));
	free(s);
}

static void
test_marks(void **state)
{
	struct fx *f = *state;
	char *s;

	tui_feed(f->t, "Space Space");
	s = dump(f->t);
	assert_non_null(strstr(s, "2 marked"));
	free(s);
	tui_feed(f->t, "i");
	s = dump(f->t);
	assert_non_null(strstr(s, "2 marked"));
	free(s);
	tui_feed(f->t, "a");
	s = dump(f->t);
	assert_non_null(strstr(s, "4 marked"));
	free(s);
	/* The bulk menu offers only what every marked reachable device supports; the rest is
	 * dimmed with why. The offline device is skipped, and the question says so; the device
	 * whose outputs are unknown (no parsed status) is tried. */
	tui_feed(f->t, "b");
	s = dump(f->t);
	assert_non_null(strstr(s, "Bulk action"));
	assert_non_null(strstr(s, "r  reboot  Reboot 3 devices"));
	assert_non_null(strstr(s, "o  on      Turn ON output 0 of 3 devices"));
	assert_non_null(strstr(s, "-  open    2 marked devices have no cover"));
	assert_non_null(strstr(s, "-  update  3 marked devices have no update offered"));
	assert_non_null(strstr(s, "4 marked: which action? (oftr;"));
	/* Nobody marked has a cover or an update: no hint to mark "only those that can". */
	assert_null(strstr(s, "mark only those that can"));
	free(s);
	tui_feed(f->t, "O"); /* not offered: cancels */
	s = dump(f->t);
	assert_null(strstr(s, "[y/N]"));
	assert_null(strstr(s, "Bulk action"));
	free(s);
	tui_feed(f->t, "b r");
	s = dump(f->t);
	assert_non_null(strstr(s, "Reboot 3 devices (1 offline will be skipped)? [y/N]"));
	free(s);
	tui_feed(f->t, "n");
	s = dump(f->t);
	assert_non_null(strstr(s, "nothing done"));
	free(s);
	/* The two switches alone: no unknown device, no cover. */
	tui_feed(f->t, "A Home Space j j j Space b");
	s = dump(f->t);
	assert_non_null(strstr(s, "o  on      Turn ON output 0 of 2 devices"));
	assert_non_null(strstr(s, "-  open    2 marked devices have no cover"));
	free(s);
	tui_feed(f->t, "o");
	s = dump(f->t);
	assert_non_null(strstr(s, "Turn ON output 0 of 2 devices? [y/N]"));
	free(s);
	tui_feed(f->t, "n");
	tui_feed(f->t, "A");
	s = dump(f->t);
	assert_null(strstr(s, "marked"));
	free(s);
}

/*
 * A device that stopped answering after a good poll: the table shows its last known output
 * and power (not "-"), the detail lists its switch under "last known, ... ago".
 */
static void
test_stale_values(void **state)
{
	struct fx *f = *state;
	struct store_status st;
	char *cause = NULL, *s, line[512];
	const char *row, *eol;

	add_device(f->app.store, "aabbcc0000f1", "Stale plug", "SNPL-00112EU", 2, "10.0.20.61",
	    "online", 57.5, "{\"switch:0\":{\"id\":0,\"output\":true,\"apower\":57.5}}");
	memset(&st, 0, sizeof st);
	strcpy(st.mac, "aabbcc0000f1");
	st.ts_ms = loop_wall_ms() + 1000;
	st.state = "offline";
	st.error = "timeout: no answer";
	st.power_w = st.energy_wh = st.temperature_c = st.rssi_dbm = NAN;
	st.uptime_s = st.outputs_on = st.fw_update = st.cfg_rev = STORE_NULL_INT;
	st.keep_reply = 1;
	assert_int_equal(store_queue_status(f->app.store, &st), 0);
	assert_int_equal(store_flush(f->app.store, &cause), 0);
	tui_refresh(f->t);
	s = dump(f->t);
	row = strstr(s, "Stale plug");
	assert_non_null(row);
	eol = strchr(row, '\n');
	assert_non_null(eol);
	snprintf(line, sizeof line, "%.*s", (int)(eol - row), row);
	assert_non_null(strstr(line, "offline"));
	assert_non_null(strstr(line, " on "));
	assert_non_null(strstr(line, "57.5W"));
	free(s);
	s = feed_expect(f->t, "End Enter", "Outputs and sensors: last known, ");
	assert_true(strstr(s, "Stale plug") != NULL && strstr(s, "switch:0") != NULL);
	free(s);
}

/* The column of an event line's detail, for an event of kind. */
static long
detail_column(struct tui *t, const char *kind, char *line, size_t size)
{
	struct source_event e;
	const char *at;

	memset(&e, 0, sizeof e);
	e.ts_ms = loop_wall_ms();
	snprintf(e.kind, sizeof e.kind, "%s", kind);
	snprintf(e.detail, sizeof e.detail, "THE-DETAIL");
	event_line(t, &e, 0, line, size);
	at = strstr(line, "THE-DETAIL");
	assert_non_null(at);
	return at - line;
}

/*
 * The kind column is as wide as the widest kind written (device_name_changed): the detail
 * starts in one column whatever the kind, and a kind nobody listed is cut rather than pushing it.
 */
static void
test_event_kind_column(void **state)
{
	struct fx *f = *state;
	char line[512];
	long col = detail_column(f->t, "online", line, sizeof line);
	char *s;

	assert_true(event_kind_width() >= (int)strlen("device_name_changed"));
	assert_int_equal(detail_column(f->t, "device_name_changed", line, sizeof line), col);
	assert_non_null(strstr(line, "device_name_changed THE-DETAIL"));
	assert_int_equal(detail_column(f->t, "auth_required", line, sizeof line), col);
	assert_int_equal(
	    detail_column(f->t, "a_kind_wider_than_every_listed_one", line, sizeof line), col);
	/* On the screen: the events view and a device's detail pane. */
	{
		struct store_event ev = {
		    0, loop_wall_ms(), "aabbcc000002", "device_name_changed", "'old' -> 'new'"};
		char *cause = NULL;
		assert_int_equal(store_queue_event(f->app.store, &ev), 0);
		assert_int_equal(store_flush(f->app.store, &cause), 0);
	}
	tui_refresh(f->t);
	tui_feed(f->t, "Down Down Enter");
	s = dump(f->t);
	{
		const char *a = strstr(s, "device_name_changed"), *b = strstr(s, "offline  ");
		const char *da = strstr(s, "'old' -> 'new'"), *db = strstr(s, "3 failed polls");
		const char *la, *lb;

		assert_non_null(a);
		assert_non_null(b);
		assert_non_null(da);
		assert_non_null(db);
		for (la = a; la > s && la[-1] != '\n'; la--)
			continue;
		for (lb = db; lb > s && lb[-1] != '\n'; lb--)
			continue;
		/* Same column in the detail's events pane (bytes: both lines are ASCII there). */
		assert_int_equal(da - la, db - lb);
	}
	free(s);
}

/* The terminal cells of the first n bytes of s. */
static int
cells_of(const char *s, size_t n)
{
	wchar_t w[512];
	char *cut = strndup(s, n);
	size_t k = mbstowcs(w, cut, 511);

	free(cut);
	assert_true(k != (size_t)-1);
	return wcswidth(w, k);
}

/*
 * Columns are cut and padded in terminal cells, never in bytes: a name of 19 ASCII letters
 * and an u-umlaut keeps the whole character in 20 cells, wide characters are never halved,
 * and an event line's detail starts in the same cell whatever script the device's name is in.
 */
static void
test_cells(void **state)
{
	struct fx *f = *state;
	char out[128], line[512], line2[512];
	struct source_event e;
	const char *a, *b;

	assert_string_equal(draw_cells(out, sizeof out, "abcdefghijklmnopqrs\xc3\xbc-more", 20),
	    "abcdefghijklmnopqrs\xc3\xbc");
	assert_string_equal(draw_cells(out, sizeof out, "\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 5),
	    "\xe6\xbc\xa2\xe5\xad\x97 ");
	assert_string_equal(draw_cells(out, sizeof out, "K\xc3\xbc", 4), "K\xc3\xbc  ");
	/* The last guard: an escape, a bidi override, a zero-width joiner and a byte that is not
	 * UTF-8 each show as one '?' of one cell. */
	assert_string_equal(
	    draw_cells(out, sizeof out, "a\x1b[1m\xe2\x80\xae\xe2\x80\x8d\xff.", 10), "a?[1m???. ");
	/* One count of cells for the console and the command line (util/cells). */
	{
		const char *texts[] = {"abc",
		    "K\xc3\xbc"
		    "che",
		    "\xe6\xbc\xa2\xe5\xad\x97", "e\xcc\x81", "\xf0\x9f\x92\xa1 lamp",
		    "x\x07\xe2\x80\xaey"};
		for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
			int used;
			cells_fit(texts[i], 1000, &used);
			assert_int_equal(draw_width(texts[i]), used);
		}
		assert_int_equal(draw_width("\xe6\xbc\xa2\xe5\xad\x97"), 4);
		assert_int_equal(draw_width("e\xcc\x81"), 1);
	}
	add_device(f->app.store, "aabbcc000009", "K\xc3\xbc" "che \xc3\x96" "fen \xc3\x84rger \xc3\x9c" "bel \xc3\xa4\xc3\xb6",
	    "SNSW-001P16EU", 2, "10.0.20.39", NULL, NAN, NULL);
	tui_refresh(f->t);
	memset(&e, 0, sizeof e);
	e.ts_ms = loop_wall_ms();
	snprintf(e.kind, sizeof e.kind, "online");
	snprintf(e.detail, sizeof e.detail, "THE-DETAIL");
	snprintf(e.mac, sizeof e.mac, "aabbcc000009");
	event_line(f->t, &e, 0, line, sizeof line);
	snprintf(e.mac, sizeof e.mac, "aabbcc000001");
	event_line(f->t, &e, 0, line2, sizeof line2);
	a = strstr(line, "THE-DETAIL");
	b = strstr(line2, "THE-DETAIL");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(cells_of(line, (size_t)(a - line)), cells_of(line2, (size_t)(b - line2)));
}

/* Adds an online device with firmware fw and an update offered. */
static void
add_updatable(struct store *st, const char *mac, const char *name, const char *fw)
{
	add_device_fw(st, mac, name, "SNSW-001P16EU", 2, "10.0.20.60", "online", NAN, NULL, fw, 1);
}

/*
 * The FW column keeps the update arrow's cell: a version too long for both is cut, never the
 * arrow (1.14.1-rc1, 2.0.0-beta1 and a firmware string without a version, shown as it is,
 * are wider than the column).
 */
static void
test_fw_arrow(void **state)
{
	struct fx *f = *state;
	static const char *const fw[][2] = {
	    {"fwlong", "20230913-112003/1.14.1-rc1-gbf5d2c4"},
	    {"fwbeta", "20240101-000000/2.0.0-beta1"},
	    {"fwdate", "20191217-123456/v1.5.6@7dd58a1b"},
	    {"fwshort", "20241011-114455/1.4.0-g6d2a586"},
	    {"fwraw", "20191217-144530/custom-build"},
	};
	char *s;

	for (size_t i = 0; i < sizeof fw / sizeof fw[0]; i++) {
		char mac[16];
		snprintf(mac, sizeof mac, "aabbcc0000f%zu", i);
		add_updatable(f->app.store, mac, fw[i][0], fw[i][1]);
	}
	tui_refresh(f->t);
	s = dump(f->t);
	for (size_t i = 0; i < sizeof fw / sizeof fw[0]; i++) {
		const char *row = line_with(s, fw[i][0]);
		assert_non_null(row);
		assert_true(in_line(row, "\xE2\x86\x91"));
	}
	assert_true(in_line(line_with(s, "fwlong"), "1.14.1-r\xE2\x86\x91"));
	assert_true(in_line(line_with(s, "fwshort"), "1.4.0 \xE2\x86\x91"));
	free(s);
}

/*
 * A Gen2+ dev build's fw_id has no version (the power-strip-gen4 capture): the FW column
 * shows the version it said it runs (/shelly "ver", stored), not the fw_id's date.
 */
static void
test_fw_ver(void **state)
{
	struct fx *f = *state;
	struct store_device d;
	char *cause = NULL, *s;
	const char *row;

	memset(&d, 0, sizeof d);
	strcpy(d.mac, "aabbcc0000e1");
	d.id = d.mac;
	d.name = "strip";
	d.model = "S4PL-00416EU";
	d.gen = 4;
	d.host = "10.0.20.61";
	d.fw = "20250819-150404/ga0def2d";
	d.fw_version = "1.7.99-powerstripg4prod1";
	assert_int_equal(store_device_upsert(f->app.store, &d, &cause), 0);
	tui_refresh(f->t);
	s = dump(f->t);
	row = line_with(s, "strip");
	assert_non_null(row);
	assert_true(in_line(row, "1.7.99"));
	assert_false(in_line(row, "20250819"));
	free(s);
}

/* Adds a device whose stored reply is the capture at path. */
static void
add_captured(struct store *st, const char *mac, const char *name, const char *model, int gen,
    const char *path)
{
	size_t len;
	char *json = fixture_slurp(path, &len);

	add_device(st, mac, name, model, gen, "10.0.20.50", "online", NAN, json);
	free(json);
}

/* The detail view of the device filtered by name: its screen (caller frees). */
static char *
detail_of(struct tui *t, const char *name)
{
	char keys[128];

	snprintf(keys, sizeof keys, ": f i l t e r Space %s Enter Home Enter", name);
	tui_feed(t, keys);
	return dump(t);
}

/* Each captured device's detail and what it must show, in the order they are opened. */
static const struct {
	const char *name;
	const char *want[5];
} readings[] = {
    {"emthree", {"phase a", "phase b", "phase c", "0.03A" /* a_current 0.028 */,
                    "0.07A" /* c_current 0.068 */}},
    {"emgenone", {"phase c", "238.8V", "0.07A", "pf 0.39"}},
    {"htplus", {"battery       78 %  5.58 V  external power no"}},
    {"trvone", {"battery       52 %"}},
    {"rgbwtwo", {"rgb 0,255,0"}},
    /* energy returned to the grid: the meter's total 1026.61 Wh, phase c's 985.91 Wh */
    {"emsolar", {"pf -  returned 1.0kWh", "pf 0.53  returned 1.0kWh"}},
    {"gasone", {"gas           alarm none", "sensor normal", "0 ppm", "valve not_connected"}},
};

/*
 * The detail view shows what the parser reads (captures in tests/fixtures): a Pro 3EM's
 * phases with power, voltage and current, a Gen1 3EM's emeters[] likewise, the
 * battery of a Plus H&T and a TRV, and an RGBW2's colour.
 */
static void
test_detail_readings(void **state)
{
	struct fx *f = *state;
	char *s;

	add_captured(f->app.store, "aabbcc000011", "emthree", "SPEM-003CEBEU", 2,
	    "tests/fixtures/gen2/pro-3em/Shelly.GetStatus.json");
	add_captured(f->app.store, "aabbcc000012", "htplus", "SNSN-0013A", 2,
	    "tests/fixtures/gen2/plus-ht/Shelly.GetStatus.json");
	add_captured(f->app.store, "aabbcc000013", "trvone", "SHTRV-01", 1,
	    "tests/fixtures/gen1/shelly-trv/status.json");
	add_captured(f->app.store, "aabbcc000014", "rgbwtwo", "SHRGBW2", 1,
	    "tests/fixtures/gen1/shelly-rgbw2/status.json");
	add_captured(f->app.store, "aabbcc000015", "emgenone", "SHEM-3", 1,
	    "tests/fixtures/gen1/shelly-3em/status.json");
	add_captured(f->app.store, "aabbcc000016", "emsolar", "SPEM-003CEBEU", 2,
	    "tests/fixtures/gen2/pro-3em/aioshelly-fw-1.1.0/Shelly.GetStatus.json");
	add_captured(f->app.store, "aabbcc000017", "gasone", "SHGS-1", 1,
	    "tests/fixtures/gen1/shelly-gas/status.json");
	tui_refresh(f->t);
	for (size_t d = 0; d < sizeof readings / sizeof readings[0]; d++) {
		if (d > 0)
			tui_feed(f->t, "q");
		s = detail_of(f->t, readings[d].name);
		for (size_t k = 0; k < 5 && readings[d].want[k] != NULL; k++)
			assert_non_null(strstr(s, readings[d].want[k]));
		free(s);
	}
}

/* At 80 columns the drift list sizes its columns from the width: ACTUAL keeps its value. */
static void
test_drift_narrow(void **state)
{
	struct fx *f = *state;
	struct store *st = f->app.store;
	char *cause = NULL, *s;

	assert_int_equal(
	    cfgstore_desired_set(st, "aabbcc000001", "sys.timezone = Europe/Sofia\n", &cause), 0);
	assert_int_equal(cfgstore_snapshot_add(st, "aabbcc000001", loop_wall_ms(), 2, 1, 7, "test",
	                     "sys.timezone = America/Argentina/Salta\n", &cause),
	    0);
	tui_refresh(f->t);
	tui_feed(f->t, "d");
	s = dump(f->t);
	assert_non_null(strstr(s, "ACTUAL"));
	assert_line_matches(s, "Kitchen", "sys.timezone +Europe/Sofia +America/Argentina/Salta");
	free(s);
}

static void
test_detail(void **state)
{
	struct fx *f = *state;
	char *s;

	tui_feed(f->t, "Down Down Enter");
	s = dump(f->t);
	assert_non_null(strstr(s, "Garage door"));
	assert_non_null(strstr(s, "aabbcc000002"));
	/* Offline: not "no status stored", which reads as if it had never been polled. */
	assert_non_null(strstr(s, "no reply while offline: outputs and sensors show when it"));
	free(s);
	/* Its events key shows this device's events alone. */
	s = feed_expect(f->t, "e", "Events of Garage door - 1");
	assert_non_null(strstr(s, "3 failed polls: timeout"));
	free(s);
	tui_feed(f->t, "q q Home Enter");
	s = feed_expect(f->t, "e", "Events of Attic fan - 0");
	assert_null(strstr(s, "3 failed polls: timeout"));
	free(s);
	tui_feed(f->t, "q q Home Enter");
	s = dump(f->t);
	assert_non_null(strstr(s, "Attic fan"));
	assert_non_null(strstr(s, "switch:0"));
	assert_non_null(strstr(s, "42.0W"));
	/* The registry name is the operator's; the name the device gives itself is not lost. */
	assert_null(strstr(s, "the device calls itself"));
	free(s);
	assert_int_equal(store_setting_set(f->app.store, "device-name:aabbcc000003",
	                     "Fan as the device names it", NULL), 0);
	tui_feed(f->t, "q Home Enter");
	s = dump(f->t);
	assert_non_null(strstr(s, "the device calls itself \"Fan as the device names it\""));
	free(s);
	/* A cover key on a device with a switch and no cover says so (Tab would not help). */
	tui_feed(f->t, "O");
	s = dump(f->t);
	assert_non_null(strstr(s, "this device has no cover"));
	free(s);
	tui_feed(f->t, "J");
	s = dump(f->t);
	assert_non_null(strstr(s, "Raw reply"));
	/* nested two levels: cJSON_Print's two tabs show as four spaces after the frame's one */
	assert_non_null(strstr(s, "     \"apower\""));
	free(s);
	tui_feed(f->t, "Esc Esc");
	s = dump(f->t);
	assert_non_null(strstr(s, "Devices"));
	free(s);
}

/* A 120-character name is cut in the detail header (at a character), which keeps the state,
 * address and model in view. */
static void
test_long_name_detail(void **state)
{
	struct fx *f = *state;
	char name[300] = "Long", want[160], *s;

	for (int i = 0; i < 58; i++)
		strcat(name, "\xc3\xa9x"); /* e-acute, x */
	add_device(f->app.store, "aabbcc000009", name, "SNSW-001X16EU", 2, "10.0.20.99", "online",
	    NAN, NULL);
	tui_refresh(f->t);
	s = feed_expect(f->t, "End Enter", "10.0.20.99");
	/* 40 characters: "Long", then 18 pairs of e-acute and x, then the model */
	strcpy(want, " Long");
	for (int i = 0; i < 18; i++)
		strcat(want, "\xc3\xa9x");
	strcat(want, "  -  online  -  10.0.20.99  -  Shelly Plus 1");
	assert_non_null(strstr(s, want));
	free(s);
}

/* Feeds keys, then the screen must show needle; returns the screen (caller frees). */
static char *
feed_expect(struct tui *t, const char *keys, const char *needle)
{
	char *s;

	tui_feed(t, keys);
	s = dump(t);
	if (strstr(s, needle) == NULL)
		fail_msg("after '%s' the screen lacks '%s':\n%s", keys, needle, s);
	return s;
}

/* The help view lists every action of the table with its keys (the same as --list-keys). */
static void
test_help_matches_table(void **state)
{
	struct fx *f = *state;
	char *s;

	tui_feed(f->t, "?");
	s = dump(f->t);
	for (int a = 1; a < TA__COUNT; a++)
		if (strstr(s, keymap_action((enum tui_action)a)->name) == NULL)
			fail_msg("help lacks %s", keymap_action((enum tui_action)a)->name);
	assert_non_null(strstr(s, "F4 >"));
	free(s);
	/* At its end, every `:` command with its argument and help (from the command table). */
	s = feed_expect(
	    f->t, "End", ":bind      VIEW KEY ACTION          Bind a key for this session");
	assert_non_null(strstr(s, ":opnsense"));
	free(s);
}

static void
test_small_terminal(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t), *p;
	size_t lines = 0;

	for (p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 24);
	assert_non_null(strstr(s, "Kitchen counter"));
	assert_non_null(strstr(s, "POWER"));
	/* An operator at 80 columns still sees the model and the (cover state wide) outputs. */
	assert_non_null(strstr(s, "MODEL"));
	assert_non_null(strstr(s, "OUT"));
	/* Who polls is never cut: the title goes first. */
	assert_non_null(strstr(s, "poller: none (read-only)"));
	free(s);
	/* Nor by a count that is not 0 (an auth problem stays, asleep 0 goes). */
	add_device(f->app.store, "aabbcc000005", "Zeta locked", "SNSW-001X16EU", 2, "10.0.20.35",
	    "auth_required", NAN, NULL);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_non_null(strstr(s, "auth 1  power"));
	assert_null(strstr(s, "asleep 0"));
	assert_non_null(strstr(s, "poller: none (read-only)"));
	assert_null(strstr(s, "SEEN"));
	free(s);
	/* Too short for the events pane: once the hint goes, the status line shows the newest. */
	tui_feed(f->t, "j");
	s = dump(f->t);
	{
		/* The kind column is as wide as the widest kind. */
		char want[128];
		snprintf(want, sizeof want, "Garage door           %-*s 3 failed polls: timeout",
		    event_kind_width(), "offline");
		assert_non_null(strstr(s, want));
	}
	free(s);
}

/*
 * 50 columns hold fewer than the columns that are never dropped: the rows are cut at the
 * frame, not written past it (which wrapped onto the next line over its border).
 */
static void
test_tiny_terminal(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);
	const char *p = strstr(s, "Devices"), *eol;
	int rows = 0;

	assert_non_null(p);
	for (p = strchr(p, '\n') + 1; *p != '\0' && *p != 'm'; p = eol + 1, rows++) {
		eol = strchr(p, '\n');
		if (p[0] != 'x')
			fail_msg("a table line does not start with the frame: '%.*s'\n%s",
			    (int)(eol - p), p, s);
	}
	assert_true(rows >= 3);
	assert_non_null(strstr(s, "Attic fa 10.0.20.33"));
	free(s);
}

static void
test_welcome(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);

	assert_non_null(strstr(s, "Welcome"));
	assert_non_null(strstr(s, "make demo"));
	free(s);
}

/* The `:` commands: ones that are a key action open the same view, the others check their
 * argument. */
static void
test_commands(void **state)
{
	struct fx *f = *state;
	char *s;

	free(feed_expect(f->t, ": s o r t Space n o s u c h Enter", "unknown column 'nosuch'"));
	free(feed_expect(
	    f->t, ": b i n d Space d e v i c e s Enter", "usage: bind VIEW KEY ACTION"));
	s = feed_expect(f->t, ": e v e n t s Enter", "3 failed polls: timeout");
	assert_null(strstr(s, "POWER")); /* the devices table is covered */
	free(s);
	/* Its live filter: nothing matches, then Esc clears it. */
	free(feed_expect(f->t, "/ z z z", "no events"));
	free(feed_expect(f->t, "Esc", "3 failed polls: timeout"));
	free(feed_expect(f->t, "q : o p n Enter", "OPNsense - not configured"));
}

/* Power and energy switch units at their thresholds; unknown is "-". */
static void
test_units(void **state)
{
	static const struct {
		void (*fmt)(char *, size_t, double);
		double v;
		const char *want;
	} cases[] = {
	    {fmt_power, 5, "5.0W"},
	    {fmt_power, -9999.94, "-9999.9W"},
	    {fmt_power, 12345, "12.35kW"},
	    {fmt_power, NAN, "-"},
	    {fmt_energy, 1500, "1.5kWh"},
	    {fmt_energy, 2e6, "2.0MWh"},
	    {fmt_energy, NAN, "-"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cases[i].fmt(buf, sizeof buf, cases[i].v);
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_theme_and_quit(void **state)
{
	struct fx *f = *state;
	char *s;

	tui_feed(f->t, ": t h e m e Space n o s u c h Enter");
	s = dump(f->t);
	assert_non_null(strstr(s, "theme 'nosuch' not found"));
	free(s);
	/* Tab completes the command name. */
	tui_feed(f->t, ": q u Tab");
	s = dump(f->t);
	assert_non_null(strstr(s, ":quit"));
	free(s);
	tui_feed(f->t, "Enter");
	assert_true(tui_quit_requested(f->t));
}

/* console-columns picks and orders the columns; an unknown name is reported. */
static void
test_columns(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t), *ip = strstr(s, " IP "), *name = strstr(s, " NAME ");

	assert_non_null(ip);
	assert_non_null(name);
	assert_true(ip < name);
	assert_non_null(strstr(s, "POWER"));
	assert_null(strstr(s, "MODEL"));
	assert_non_null(strstr(s, "unknown column 'bogus'"));
	free(s);
}

/* 1 when the line that starts at line holds needle. */
static int
in_line(const char *line, const char *needle)
{
	const char *eol = strchr(line, '\n');

	return memmem(line, eol != NULL ? (size_t)(eol - line) : strlen(line), needle,
	           strlen(needle)) != NULL;
}

/* 200 columns and more: voltage, uptime and MAC appear; narrower, only when named. */
static void
test_extra_columns(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);
	const char *kc = line_with(s, "Kitchen counter");

	assert_non_null(line_with(s, " VOLT "));
	assert_non_null(line_with(s, " UPTIME "));
	assert_non_null(line_with(s, " MAC"));
	assert_non_null(kc);
	assert_true(in_line(kc, "230.1V"));
	assert_true(in_line(kc, " 2d "));
	assert_true(in_line(kc, "aa:bb:cc:00:00:01"));
	free(s);
	/* A battery device (a Plus H&T's capture) shows its charge in BATT. */
	add_captured(f->app.store, "aabbcc000012", "htplus", "SNSN-0013A", 2,
	    "tests/fixtures/gen2/plus-ht/Shelly.GetStatus.json");
	tui_refresh(f->t);
	s = dump(f->t);
	assert_non_null(line_with(s, " BATT"));
	assert_true(in_line(line_with(s, "htplus"), " 78%"));
	free(s);
	/* The same console made narrow loses them. */
	tui_resize_virtual(f->t, 30, 120);
	s = dump(f->t);
	assert_null(strstr(s, " VOLT "));
	assert_null(strstr(s, "aa:bb:cc:00:00:01"));
	assert_non_null(line_with(s, "Kitchen counter"));
	free(s);
}

static void
test_extra_named(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);

	assert_non_null(line_with(s, " MAC "));
	assert_non_null(strstr(s, "aa:bb:cc:00:00:03"));
	assert_null(strstr(s, " VOLT "));
	free(s);
}

/* The OPNsense view without opnsense-url says what to configure; apply has nothing to do. */
static void
test_opnsense_unconfigured(void **state)
{
	struct fx *f = *state;
	char *s = dump(f->t);

	assert_non_null(strstr(s, "F9 Exp"));
	assert_non_null(strstr(s, "F11 OPN")); /* every key on the bar, labels cut to fit */
	free(s);
	tui_feed(f->t, "F11");
	s = dump(f->t);
	assert_non_null(strstr(s, "OPNsense - not configured"));
	assert_non_null(strstr(s, "set opnsense-url https://FIREWALL"));
	free(s);
	tui_feed(f->t, "a");
	s = dump(f->t);
	assert_non_null(strstr(s, "OPNsense is not configured"));
	assert_null(strstr(s, "[y/N]"));
	free(s);
	tui_feed(f->t, "q");
	s = dump(f->t);
	assert_non_null(strstr(s, "Devices"));
	free(s);
}

static int
file_exists(const char *path)
{
	FILE *fp = fopen(path, "r");

	if (fp != NULL)
		fclose(fp);
	return fp != NULL;
}

/* Export from the console: format, path, passwords only after a second yes; then the same
 * file imported back shows the dry run's counts before it applies. A broken file names its
 * line and changes nothing. */
static void
test_export_import(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/test_tui_xXXXXXX", path[128], keys[256], *s;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/fleet.json", dir);
	tui_feed(f->t, "x");
	s = dump(f->t);
	assert_non_null(strstr(s, "Export as: j json  t toml"));
	free(s);
	tui_feed(f->t, "j");
	s = dump(f->t);
	assert_non_null(strstr(s, "Export to file: ./shelly-fleet.json"));
	free(s);
	/* Passwords asked for, then refused at the second question: nothing written. */
	snprintf(keys, sizeof keys, "C-u %s Enter y", path);
	tui_feed(f->t, keys);
	s = dump(f->t);
	assert_non_null(strstr(s, "device passwords in clear text. Include them? [y/N]"));
	free(s);
	tui_feed(f->t, "n");
	s = dump(f->t);
	assert_non_null(strstr(s, "nothing exported"));
	assert_false(file_exists(path));
	free(s);
	/* Without passwords. */
	snprintf(keys, sizeof keys, "F9 j C-u %s Enter n", path);
	tui_feed(f->t, keys);
	s = dump(f->t);
	assert_non_null(strstr(s, "exported 4 devices as json to"));
	assert_true(file_exists(path));
	free(s);
	/* Import: the dry run first; the fleet it was exported from is unchanged by it. */
	snprintf(keys, sizeof keys, "I %s Enter m", path);
	tui_feed(f->t, keys);
	s = dump(f->t);
	assert_non_null(strstr(s, "Dry run (json): add 0, update 0, remove 0 devices (4 unchanged)"));
	free(s);
	tui_feed(f->t, "y");
	s = dump(f->t);
	assert_non_null(strstr(s, "imported "));
	assert_non_null(strstr(s, "4 devices (0 added, 0 updated, 4 unchanged, "));
	free(s);
	/* A broken file: its line, nothing asked. */
	snprintf(path, sizeof path, "%s/broken.toml", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("kind = \"shelly-tui-fleet\"\nformat_version = 1\n[devices.aabbcc000009]\nport = "
	      "\"eighty\"\n",
	    fp);
	fclose(fp);
	snprintf(keys, sizeof keys, ": import Space %s Enter", path);
	tui_feed(f->t, keys);
	s = dump(f->t);
	assert_non_null(strstr(s, "import: "));
	assert_non_null(strstr(s, "line "));
	assert_null(strstr(s, "[y/N]"));
	free(s);
	unlink(path);
	snprintf(path, sizeof path, "%s/fleet.json", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_keymap(void **state)
{
	struct keymap *km = keymap_new();
	char *cause = NULL, buf[64];

	(void)state;
	assert_int_equal(keymap_lookup(km, TV_KIND_DEVICES, 'q'), TA_LEAVE);
	assert_int_equal(keymap_lookup(km, TV_KIND_DETAIL, 'q'), TA_BACK);
	assert_int_equal(keymap_lookup(km, TV_KIND_DEVICES, '\r'), TA_OPEN);
	assert_int_equal(keymap_bind(km, "devices", "x", "toggle", &cause), 0);
	assert_int_equal(keymap_lookup(km, TV_KIND_DEVICES, 'x'), TA_TOGGLE);
	assert_int_equal(keymap_bind(km, "all", "F5", "none", &cause), 0);
	assert_int_equal(keymap_lookup(km, TV_KIND_DEVICES, keymap_parse_key("F5")), TA_NONE);
	assert_string_equal(keymap_keys(km, TV_KIND_DEVICES, TA_TOGGLE, buf, sizeof buf), "t x");
	assert_int_equal(keymap_bind(km, "nowhere", "x", "toggle", &cause), -1);
	assert_non_null(strstr(cause, "unknown view"));
	free(cause);
	assert_int_equal(keymap_bind(km, "devices", "C-", "toggle", &cause), -1);
	free(cause);
	assert_int_equal(keymap_bind(km, "devices", "x", "explode", &cause), -1);
	assert_non_null(strstr(cause, "unknown action"));
	free(cause);
	assert_int_equal(keymap_parse_key("C-l"), 12);
	assert_string_equal(keymap_key_name(keymap_parse_key("PgDn"), buf, sizeof buf), "PageDown");
	keymap_free(km);
}

/* The compiled-in default theme is the text of themes/default. */
static void
test_default_theme_file(void **state)
{
	size_t len;
	char *text = fixture_slurp("themes/default", &len);
	struct theme *th = theme_new();
	char *cause = NULL;

	(void)state;
	assert_string_equal(text, theme_default_text());
	free(text);
	/* Every shipped theme loads and names only known elements. */
	setenv("SHELLY_TUI_THEMES", "themes", 1);
	assert_int_equal(theme_load(th, "light", &cause), 0);
	assert_int_equal(theme_load(th, "mono", &cause), 0);
	assert_int_equal(theme_load(th, "high-contrast", &cause), 0);
	assert_string_equal(theme_name(th), "high-contrast");
	assert_int_equal(theme_load(th, "nosuch", &cause), -1);
	free(cause);
	/* An installed tree: the data directory's themes/ (make install, SHELLY_TUI_DATADIR). */
	unsetenv("SHELLY_TUI_THEMES");
	setenv("SHELLY_TUI_DATADIR", ".", 1);
	assert_int_equal(theme_load(th, "mono", &cause), 0);
	setenv("SHELLY_TUI_DATADIR", "/nonexistent", 1);
	assert_int_equal(theme_load(th, "light", &cause), -1);
	if (strstr(cause, "/nonexistent/themes") == NULL)
		fail_msg("cause: %s", cause);
	free(cause);
	unsetenv("SHELLY_TUI_DATADIR");
	theme_free(th);
}

/* The line of screen holding needle matches the extended regular expression re. */
static void
assert_line_matches(const char *screen, const char *needle, const char *re)
{
	const char *l = line_with(screen, needle);
	char line[512];
	regex_t rx;
	size_t n;

	if (l == NULL)
		fail_msg("no line with '%s' in:\n%s", needle, screen);
	n = strcspn(l, "\n");
	snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), l);
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&rx, line, 0, NULL, 0) != 0) {
		regfree(&rx);
		fail_msg("'%s' does not match /%s/", line, re);
	}
	regfree(&rx);
}

/* The DRIFT column and the drift and groups views, from the store alone (no device asked). */
static void
test_config_drift(void **state)
{
	struct fx *f = *state;
	struct store *st = f->app.store;
	const char *kitchen[] = {"aabbcc000001"};
	char *cause = NULL, *s;

	/* Kitchen counter: desired Europe/Sofia, its snapshot says UTC. Attic fan: desired, no
	 * snapshot. Garage door: nothing desired. */
	assert_int_equal(cfgstore_desired_set(st, "aabbcc000001",
	                     "sys.timezone = Europe/Sofia\nmqtt.enable = false\n", &cause),
	    0);
	assert_int_equal(
	    cfgstore_snapshot_add(st, "aabbcc000001", loop_wall_ms(), 2, 1, 7, "test",
	        "sys.timezone = UTC\nmqtt.enable = false\nsys.location.lat = \"\"\n", &cause),
	    0);
	assert_int_equal(
	    cfgstore_desired_set(st, "aabbcc000003", "sys.eco_mode = true\n", &cause), 0);
	assert_int_equal(cfgstore_group_add(st, "lab", kitchen, 1, &cause), 0);
	assert_int_equal(cfgstore_pending_add(st, "aabbcc000002", loop_wall_ms(),
	                     "sys.timezone = UTC\nsys.eco_mode = true\n", 0, &cause),
	    0);
	/* As the console does after its own configuration writes (the column is otherwise
	 * computed again at most every 2 s when the database changed). */
	vdevices_config_changed(f->t->devices);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_non_null(strstr(s, "DRIFT"));
	assert_line_matches(s, "Kitchen counter", "online +1 ");
	assert_line_matches(s, "Attic fan", "online +\\? ");
	assert_line_matches(s, "Garage door", "offline +- ");
	free(s);

	tui_feed(f->t, "d");
	s = dump(f->t);
	assert_non_null(strstr(s, "Drift of every device"));
	assert_line_matches(s, "Kitchen counter", "sys.timezone +Europe/Sofia +UTC");
	assert_null(strstr(s, "mqtt.enable")); /* the same on both sides: no drift */
	assert_line_matches(s, "Attic fan", "no snapshot");
	/* Nothing desired, but a change queued while it was offline. */
	assert_line_matches(s, "Garage door", "queued since .*: 2 field\\(s\\)");
	assert_non_null(strstr(s, "allow reboot (B): no"));
	free(s);
	tui_feed(f->t, "B");
	s = dump(f->t);
	assert_non_null(strstr(s, "allow reboot (B): yes"));
	free(s);

	tui_feed(f->t, "q m");
	s = dump(f->t);
	assert_non_null(strstr(s, "Groups and templates"));
	assert_line_matches(s, "lab", "lab +1 member\\(s\\) +template: -");
	free(s);
	/* A new group without marked devices is refused before a name is asked for. */
	s = feed_expect(f->t, "n", "mark devices first (Space in the devices view)");
	assert_null(strstr(s, "New group:"));
	free(s);
	/* Group names follow the command line's rule (no spaces), and so do template names. */
	tui_feed(f->t, "q Home Space m");
	free(feed_expect(f->t, "n m y Space l a b Enter", "a group name is 1-64 printable"));
	free(feed_expect(f->t, "t . x Enter", "a template name is 1-64 printable"));
	/* A group's drift: only its members. */
	tui_feed(f->t, "d");
	s = dump(f->t);
	assert_non_null(strstr(s, "Drift of group lab"));
	assert_non_null(strstr(s, "Kitchen counter"));
	assert_null(strstr(s, "Attic fan"));
	free(s);
	/* Enter on a group: its members are the marks (others cleared), back in the table, where
	 * the bulk menu acts on them. */
	tui_feed(f->t, "q q Home Space m");
	s = feed_expect(f->t, "Enter", "1 member(s) of group lab marked");
	assert_non_null(strstr(s, "Devices - sort: name"));
	assert_non_null(strstr(s, " - 1 marked"));
	assert_non_null(strstr(s, "* Kitchen counter"));
	assert_null(strstr(s, "* Attic fan"));
	free(s);
	free(feed_expect(f->t, "b", "1 marked: which action?"));
}

/* A snapshot's empty value shows as "", not as a blank that reads as nothing shown. */
static void
test_snapshot_empty_value(void **state)
{
	struct fx *f = *state;
	char *cause = NULL, *s;

	assert_int_equal(cfgstore_snapshot_add(f->app.store, "aabbcc000001", loop_wall_ms(), 2, 1,
	                     7, "x", "sys.timezone = \"\"\nsys.name = Kitchen\n", &cause),
	    0);
	free(feed_expect(f->t, "End Enter H", "Snapshots - Kitchen counter - 1, newest first"));
	s = feed_expect(f->t, "Enter", "sys.timezone");
	assert_line_matches(s, "sys.timezone", "sys.timezone +\"\" ");
	assert_line_matches(s, "sys.name", "sys.name +Kitchen ");
	free(s);
}

/* The snapshot list is read again when the device's newest snapshot is another one, not on
 * every commit of the store (the poller commits every cycle). */
static void
test_snapshots_follow_store(void **state)
{
	struct fx *f = *state;
	struct store *st = f->app.store;
	char *cause = NULL, *s;

	assert_int_equal(cfgstore_snapshot_add(st, "aabbcc000001", loop_wall_ms(), 2, 1, 7, "first",
	                     "sys.timezone = UTC\n", &cause),
	    0);
	free(feed_expect(f->t, "End Enter H", "Snapshots - Kitchen counter - 1, newest first"));
	/* A commit that adds no snapshot (it rewrites the listed one's source): not read again. */
	assert_int_equal(
	    store_sqlite_exec(st, "UPDATE config_snapshots SET reason = 'rewritten'", &cause), 0);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_line_matches(s, "cfg_rev 7", "cfg_rev 7 +first");
	assert_null(strstr(s, "rewritten"));
	free(s);
	/* A new snapshot lands: the list is read again, the rewritten source with it. */
	assert_int_equal(cfgstore_snapshot_add(st, "aabbcc000001", loop_wall_ms(), 2, 1, 8,
	                     "second", "sys.timezone = Europe/Sofia\n", &cause),
	    0);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_non_null(strstr(s, "Snapshots - Kitchen counter - 2, newest first"));
	assert_line_matches(s, "cfg_rev 8", "cfg_rev 8 +second");
	assert_line_matches(s, "cfg_rev 7", "cfg_rev 7 +rewritten");
	free(s);
	/* The device's snapshots are gone: read again. */
	assert_int_equal(store_sqlite_exec(st, "DELETE FROM config_snapshots", &cause), 0);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_non_null(strstr(s, "Snapshots - Kitchen counter - 0, newest first"));
	assert_null(strstr(s, "cfg_rev 7"));
	free(s);
	/* SQLite gives the id of a deleted newest row out again: a snapshot replaced between two
	 * refreshes under the same id is still another one. */
	assert_int_equal(cfgstore_snapshot_add(st, "aabbcc000001", loop_wall_ms(), 2, 1, 7, "first",
	                     "sys.timezone = UTC\n", &cause),
	    0);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_line_matches(s, "cfg_rev 7", "cfg_rev 7 +first");
	free(s);
	assert_int_equal(store_sqlite_exec(st, "DELETE FROM config_snapshots", &cause), 0);
	assert_int_equal(cfgstore_snapshot_add(st, "aabbcc000001", loop_wall_ms() + 1000, 2, 1, 9,
	                     "third", "sys.timezone = Asia/Tokyo\n", &cause),
	    0);
	tui_refresh(f->t);
	s = dump(f->t);
	assert_line_matches(s, "cfg_rev 9", "cfg_rev 9 +third");
	assert_null(strstr(s, "cfg_rev 7"));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_drift, setup_tall, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshots_follow_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_empty_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_width_name, setup_capture, teardown),
	    cmocka_unit_test_setup_teardown(test_cover_out, setup_covers, teardown),
	    cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drift_narrow, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_fw_arrow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fw_ver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_detail_readings, setup_tall, teardown),
	    cmocka_unit_test_setup_teardown(test_event_kind_column, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cells, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_name_detail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help_matches_table, setup_help, teardown),
	    cmocka_unit_test_setup_teardown(test_small_terminal, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_tiny_terminal, setup_tiny, teardown),
	    cmocka_unit_test_setup_teardown(test_welcome, setup_empty, teardown),
	    cmocka_unit_test_setup_teardown(test_theme_and_quit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_columns, setup_ip_first, teardown),
	    cmocka_unit_test_setup_teardown(test_extra_columns, setup_wide, teardown),
	    cmocka_unit_test_setup_teardown(test_extra_named, setup_mac_named, teardown),
	    cmocka_unit_test_setup_teardown(test_opnsense_unconfigured, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export_import, setup, teardown),
	    cmocka_unit_test(test_keymap),
	    cmocka_unit_test(test_units),
	    cmocka_unit_test(test_default_theme_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
