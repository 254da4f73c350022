#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "shelly/models.h"
#include "util/json.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct walk {
	const char *file;	/* "shelly.json" or "settings.json" */
	int checked;
};

/* Checks one /shelly (or Gen1 /settings) capture: its model code resolves, with the right gen. */
static void
check_capture(const char *path, const char *file)
{
	char *cause = NULL, *buf;
	size_t len;
	cJSON *root;
	const char *code;
	const struct model_info *m;
	long long gen = 1;

	buf = fixture_slurp(path, &len);
	root = json_parse(buf, len, 0, &cause);
	if (root == NULL)
		fail_msg("%s: %s", path, cause);
	if (strcmp(file, "settings.json") == 0) {
		code = json_get_string(json_get_object(root, "device"), "type");
	} else {
		code = json_get_string(root, "model");
		if (code == NULL)
			code = json_get_string(root, "type");
		if (json_get(root, "gen") != NULL)
			assert_int_equal(json_get_int(root, "gen", 1, 9, &gen), 0);
	}
	if (code == NULL)
		fail_msg("%s: no model code", path);
	m = models_find(code);
	if (m == NULL)
		fail_msg("%s: model %s is not in the catalogue", path, code);
	if (m->gen != (int)gen)
		fail_msg("%s: model %s is gen %d in the catalogue, gen %lld on the device", path, code,
		    m->gen, gen);
	assert_non_null(models_name(code));
	assert_int_equal(models_gen(code), (int)gen);
	cJSON_Delete(root);
	free(buf);
}

static void
walk(const char *dir, struct walk *w)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(path, w);
		} else if (strcmp(e->d_name, w->file) == 0) {
			check_capture(path, w->file);
			w->checked++;
		}
	}
	closedir(d);
}

/* Every fixture's /shelly model code is in the catalogue with the generation the device reports. */
static void
test_fixture_shelly_json(void **state)
{
	static const char *const gens[] = {"gen1", "gen2", "gen3", "gen4"};
	struct walk w = {"shelly.json", 0};
	char dir[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof gens / sizeof gens[0]; i++) {
		snprintf(dir, sizeof dir, "tests/fixtures/%s", gens[i]);
		walk(dir, &w);
	}
	/* 82 captures when this test was written; more may come, fewer means files went missing. */
	assert_true(w.checked >= 82);
}

/* Gen1 models captured without /shelly (Shelly 1PM, EM) are found through /settings device.type. */
static void
test_fixture_gen1_settings(void **state)
{
	struct walk w = {"settings.json", 0};

	(void)state;
	walk("tests/fixtures/gen1", &w);
	assert_true(w.checked >= 24);
}

static void
test_spot_names(void **state)
{
	const struct model_info *m;

	(void)state;
	assert_string_equal(models_name("SHSW-1"), "Shelly 1");
	assert_string_equal(models_name("SHSW-PM"), "Shelly 1PM");
	assert_string_equal(models_name("shsw-25"), "Shelly 2.5");
	assert_string_equal(models_name("SHSW-21"), "Shelly 2");
	assert_string_equal(models_name("SHEM"), "Shelly EM");
	assert_string_equal(models_name("SHEM-3"), "Shelly 3EM");
	assert_string_equal(models_name("SHPLG-S"), "Shelly Plug S");
	assert_string_equal(models_name("SHDM-2"), "Shelly Dimmer 2");
	assert_string_equal(models_name("SHHT-1"), "Shelly H&T");
	assert_string_equal(models_name("SNSW-001P16EU"), "Shelly Plus 1PM");
	assert_string_equal(models_name("snsw-001p16eu"), "Shelly Plus 1PM");
	assert_string_equal(models_name("SPSW-202PE16EU"), "Shelly Pro 2PM");
	assert_string_equal(models_name("SPEM-003CEBEU"), "Shelly Pro 3EM");
	assert_string_equal(models_name("S3SW-002P16EU"), "Shelly 2PM Gen3");
	assert_string_equal(models_name("S4SW-002P16EU"), "Shelly 2PM Gen4");
	assert_string_equal(models_name("SAWD-0A1XX10EU1"), "Shelly Wall Display");
	assert_string_equal(models_name("SNPL-00116US"), "Shelly Plus Plug US");

	assert_int_equal(models_gen("SHSW-1"), 1);
	assert_int_equal(models_gen("SNSW-001X16EU"), 2);
	assert_int_equal(models_gen("S3SW-001X16EU"), 3);
	assert_int_equal(models_gen("S4SW-001X16EU"), 4);

	m = models_find("SHHT-1");
	assert_non_null(m);
	assert_true(m->battery);
	assert_int_equal(m->cls, MODEL_CLASS_SENSOR);
	m = models_find("SNSN-0013A");
	assert_true(m->battery);
	m = models_find("SHTRV-01");
	assert_true(m->battery);
	assert_int_equal(m->cls, MODEL_CLASS_THERMOSTAT);
	m = models_find("SHSW-1");
	assert_false(m->battery);
	assert_int_equal(m->cls, MODEL_CLASS_RELAY);
	assert_int_equal(models_find("SHPLG-S")->cls, MODEL_CLASS_PLUG);
	assert_int_equal(models_find("SHDM-2")->cls, MODEL_CLASS_DIMMER);
	assert_int_equal(models_find("SHRGBW2")->cls, MODEL_CLASS_RGBW);
	assert_int_equal(models_find("SPSH-002PE16EU")->cls, MODEL_CLASS_COVER);
	assert_int_equal(models_find("SPEM-003CEBEU")->cls, MODEL_CLASS_METER);
	assert_int_equal(models_find("SAWD-0A1XX10EU1")->cls, MODEL_CLASS_DISPLAY);
	assert_int_equal(models_find("SNGW-BT01")->cls, MODEL_CLASS_GATEWAY);

	/* Any case; a code is matched whole, never as a prefix of a longer one or the reverse. */
	assert_ptr_equal(models_find("shsw-pm"), models_find("SHSW-PM"));
	assert_ptr_equal(models_find("sNsW-001x16Eu"), models_find("SNSW-001X16EU"));
	assert_null(models_find("SHSW-"));
	assert_null(models_find("SHSW-PM2"));
	assert_null(models_find("SHSW-1 "));
}

static void
test_unknown(void **state)
{
	(void)state;
	assert_null(models_find("SHXX-9"));
	assert_null(models_name("SHXX-9"));
	assert_int_equal(models_gen("SHXX-9"), 0);
	assert_null(models_find(NULL));
	assert_null(models_find(""));
	assert_null(models_name(NULL));
	assert_int_equal(models_gen(NULL), 0);
	/* No prefix matching. */
	assert_null(models_find("SHSW"));
	assert_null(models_find("SHSW-1 "));
}

/* The table is consistent: unique codes, generation agrees with the code prefix, sane names. */
static void
test_table(void **state)
{
	size_t i, j, n = models_count();

	(void)state;
	assert_true(n > 100);
	assert_null(models_at(n));
	for (i = 0; i < n; i++) {
		const struct model_info *m = models_at(i);
		int want;

		assert_non_null(m);
		assert_ptr_equal(models_find(m->code), m);
		for (j = i + 1; j < n; j++)
			assert_int_not_equal(strcasecmp(m->code, models_at(j)->code), 0);
		if (strncmp(m->code, "SH", 2) == 0)
			want = 1;
		else if (strncmp(m->code, "S3", 2) == 0)
			want = 3;
		else if (strncmp(m->code, "S4", 2) == 0)
			want = 4;
		else
			want = 2; /* SN (Plus), SP (Pro), SA (Wall Display) */
		if (m->gen != want)
			fail_msg("%s: gen %d, prefix says %d", m->code, m->gen, want);
		assert_true(strncmp(m->name, "Shelly ", 7) == 0);
		assert_int_not_equal(m->cls, MODEL_CLASS_UNKNOWN);
		assert_true(m->cls < MODEL_CLASS__COUNT);
	}
}

static void
test_class_names(void **state)
{
	(void)state;
	assert_string_equal(models_class_name(MODEL_CLASS_RELAY), "relay");
	assert_string_equal(models_class_name(MODEL_CLASS_THERMOSTAT), "thermostat");
	assert_string_equal(models_class_name(MODEL_CLASS__COUNT), "unknown");
	assert_string_equal(models_class_name((enum model_class)-1), "unknown");
}

static void
check_describe(const char *code, const char *app, const char *want)
{
	char *s = models_describe(code, app);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_describe(void **state)
{
	char longapp[200];

	(void)state;
	check_describe("SNSW-001P16EU", "Plus1PM", "Shelly Plus 1PM");
	check_describe("SNSW-999P16EU", "Plus1PM", "Shelly Plus1PM");
	check_describe("S5SW-001X16EU", "S1G5", "Shelly S1G5");
	check_describe("S5SW-001X16EU", NULL, "Shelly S5SW-001X16EU");
	check_describe("S5SW-001X16EU", "", "Shelly S5SW-001X16EU");
	check_describe(NULL, NULL, "Shelly device");
	check_describe("", "  ", "Shelly device");
	/* Terminal escapes and control characters from the network never survive. */
	check_describe("X", "\x1b[31mEvil\r\n", "Shelly [31mEvil");
	check_describe("X", "Pl\xc3\xbcs", "Shelly Pls");
	memset(longapp, 'A', sizeof longapp - 1);
	longapp[sizeof longapp - 1] = '\0';
	{
		char *s = models_describe(NULL, longapp);

		assert_int_equal(strlen(s), strlen("Shelly ") + 48);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_shelly_json),
		cmocka_unit_test(test_fixture_gen1_settings),
		cmocka_unit_test(test_spot_names),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
