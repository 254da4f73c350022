/*
 * The TOML reader against the toml-lang conformance suite (tests/toml-test, TOML 1.0.0 cases
 * listed in files-toml-1.0.0): every valid case must decode to its expected JSON, every invalid
 * case must be rejected. Plus errors with line/column and the writing helpers round-tripping.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exchange/toml.h"
#include "fixtures.h"
#include "util/json.h"
#include "util/str.h"

#define SUITE "tests/toml-test"

/* Date-times compare after normalising what TOML leaves open: 'T'/'t'/' ', 'z', and trailing
 * zeros of the fraction ("56.6" and "56.600" are one instant). */
static void
norm_datetime(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = in; *p != '\0' && n + 1 < size; p++) {
		char c = *p;

		if (c == 't' || c == ' ')
			c = 'T';
		if (c == 'z')
			c = 'Z';
		out[n++] = c;
		if (c == '.') {
			size_t start = n - 1, last = n - 1;

			while (p[1] >= '0' && p[1] <= '9' && n + 1 < size) {
				out[n++] = *++p;
				if (*p != '0')
					last = n;
			}
			n = last == start ? start : last;
		}
	}
	out[n] = '\0';
}

/*
 * cJSON strings end at a NUL, and the suite has "\u0000" in values and keys: the expected JSON
 * gets U+10FFFE (a noncharacter no case uses) for each \u0000 escape, and our strings are
 * compared with NUL mapped to the same bytes.
 */
#define NUL_MARK "\xf4\x8f\xbf\xbe"

static char *
mark_nuls(const char *s, size_t len)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (size_t k = 0; k < len; k++) {
		if (s[k] == '\0')
			strbuf_append(&sb, NUL_MARK);
		else
			strbuf_append_char(&sb, s[k]);
	}
	return strbuf_steal(&sb);
}

/* Rewrites \u0000 escapes of JSON text (outside escaped backslashes) to U+10FFFE. */
static char *
mark_json_nuls(const char *json)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (const char *p = json; *p != '\0'; p++) {
		if (*p == '\\' && strncmp(p, "\\u0000", 6) == 0) {
			strbuf_append(&sb, "\\udbff\\udffe");
			p += 5;
		} else if (*p == '\\' && p[1] != '\0') {
			strbuf_append_char(&sb, *p++);
			strbuf_append_char(&sb, *p);
		} else {
			strbuf_append_char(&sb, *p);
		}
	}
	return strbuf_steal(&sb);
}

static const struct toml_value *
find_marked(const struct toml_value *tbl, const char *key)
{
	for (size_t k = 0; k < tbl->n; k++) {
		char *m = mark_nuls(tbl->keys[k], tbl->keylens[k]);
		int eq = strcmp(m, key) == 0;

		free(m);
		if (eq)
			return tbl->items[k];
	}
	return NULL;
}

static int
type_is(const struct toml_value *v, const char *want)
{
	if (strcmp(want, "datetime-local") == 0)
		return v->type == TOML_DATETIME_LOCAL;
	if (strcmp(want, "date-local") == 0)
		return v->type == TOML_DATE_LOCAL;
	if (strcmp(want, "time-local") == 0)
		return v->type == TOML_TIME_LOCAL;
	return strcmp(toml_type_name(v->type), want) == 0;
}

static int
same_scalar(const struct toml_value *v, const char *type, const char *val)
{
	char a[128], b[128];
	double f;

	if (!type_is(v, type))
		return 0;
	switch (v->type) {
	case TOML_STRING: {
		char *m = mark_nuls(v->str, v->len);
		int eq = strcmp(m, val) == 0;

		free(m);
		return eq;
	}
	case TOML_INTEGER:
		return v->i == strtoll(val, NULL, 10);
	case TOML_BOOL:
		return v->i == (strcmp(val, "true") == 0);
	case TOML_FLOAT:
		f = strtod(val, NULL);
		if (isnan(f) || isnan(v->f))
			return isnan(f) && isnan(v->f);
		return f == v->f;
	default:
		norm_datetime(v->str, a, sizeof a);
		norm_datetime(val, b, sizeof b);
		return strcmp(a, b) == 0;
	}
}

/* 1 if v decodes to want (toml-test's tagged JSON). */
static int
same(const struct toml_value *v, const cJSON *want)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(want, "type");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(want, "value");
	int n = 0;

	if (cJSON_IsObject(want) && cJSON_IsString(t) && cJSON_IsString(val) &&
	    cJSON_GetArraySize(want) == 2)
		return same_scalar(v, t->valuestring, val->valuestring);
	if (cJSON_IsObject(want)) {
		if (v->type != TOML_TABLE || (size_t)cJSON_GetArraySize(want) != v->n)
			return 0;
		for (const cJSON *m = want->child; m != NULL; m = m->next, n++) {
			const struct toml_value *got = find_marked(v, m->string);

			if (got == NULL || !same(got, m))
				return 0;
		}
		return 1;
	}
	if (cJSON_IsArray(want)) {
		if (v->type != TOML_ARRAY || (size_t)cJSON_GetArraySize(want) != v->n)
			return 0;
		for (const cJSON *m = want->child; m != NULL; m = m->next, n++)
			if (!same(v->items[n], m))
				return 0;
		return 1;
	}
	return 0;
}

static int failures, valid_run, invalid_run;

static void
run_case(const char *name)
{
	char path[1024], *buf, *jbuf, *marked, *cause = NULL;
	size_t len, jlen, nl = strlen(name);
	struct toml_value *doc;
	cJSON *want;

	snprintf(path, sizeof path, SUITE "/%s", name);
	buf = fixture_slurp(path, &len);
	doc = toml_parse(buf, len, &cause);
	if (strncmp(name, "invalid/", 8) == 0) {
		invalid_run++;
		if (doc != NULL) {
			print_message("accepted invalid case %s\n", name);
			failures++;
		} else if (strncmp(cause, "line ", 5) != 0) {
			print_message("%s: error without a line: %s\n", name, cause);
			failures++;
		}
	} else {
		valid_run++;
		snprintf(path + strlen(path) - 5, 6, ".json");
		jbuf = fixture_slurp(path, &jlen);
		marked = mark_json_nuls(jbuf);
		want = cJSON_Parse(marked);
		free(marked);
		assert_non_null(want);
		if (doc == NULL) {
			print_message("rejected valid case %s: %s\n", name, cause);
			failures++;
		} else if (!same(doc, want)) {
			print_message("wrong decoding of %s\n", name);
			failures++;
		}
		cJSON_Delete(want);
		free(jbuf);
	}
	(void)nl;
	free(cause);
	toml_free(doc);
	free(buf);
}

static void
test_conformance(void **state)
{
	char *list, *line, *save = NULL;
	size_t len;

	(void)state;
	list = fixture_slurp(SUITE "/files-toml-1.0.0", &len);
	for (line = strtok_r(list, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);

		if (n > 5 && strcmp(line + n - 5, ".toml") == 0)
			run_case(line);
	}
	free(list);
	print_message("toml-test: %d valid, %d invalid cases, %d failures\n", valid_run,
	    invalid_run, failures);
	assert_true(valid_run >= 200);
	assert_true(invalid_run >= 400);
	assert_int_equal(failures, 0);
}

static void
expect_error(const char *doc, const char *want)
{
	char *cause = NULL;

	assert_null(toml_parse(doc, strlen(doc), &cause));
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("error '%s' lacks '%s'", cause, want);
	free(cause);
}

static void
test_error_positions(void **state)
{
	(void)state;
	expect_error("a = 1\nb = \"x\n", "line 2, column 7");
	expect_error("[t]\nx = 1\n[t]\n", "line 3");
	expect_error("# ok\n\nkey = 0x\n", "line 3, column 9");
	expect_error("s = \"\xc3\xa9\xc3\xa9\x01\"", "line 1, column 8");
	expect_error("x = 1 2", "line 1, column 7");
}

/* A document n levels deep by dotted keys: prefix, n keys joined by '.', suffix. */
static char *
dotted(const char *prefix, int n, const char *suffix)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_append(&sb, prefix);
	for (int i = 0; i < n; i++)
		strbuf_append(&sb, i ? ".a" : "a");
	strbuf_append(&sb, suffix);
	return strbuf_steal(&sb);
}

/*
 * Dotted keys and table headers nest too: TOML_MAX_DEPTH bounds them as it bounds arrays and
 * inline tables (a header of 3 million parts made toml_free recurse until the stack ran out).
 */
static void
test_dotted_depth(void **state)
{
	static const char *const shapes[][2] = {{"[", "]\n"}, {"[[", "]]\n"}, {"", " = 1\n"},
	    {"x = {", " = 1}\n"}, {"[t]\n", " = [1]\n"}};
	struct toml_value *v;
	char *doc, *header, *cause = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		doc = dotted(shapes[i][0], 100000, shapes[i][1]);
		expect_error(doc, "nested deeper than");
		free(doc);
		/* within the bound: read, whatever the shape adds around the key */
		doc = dotted(shapes[i][0], TOML_MAX_DEPTH - 2, shapes[i][1]);
		if ((v = toml_parse(doc, strlen(doc), &cause)) == NULL)
			fail_msg("%s: %s", shapes[i][0], cause);
		toml_free(v);
		free(doc);
	}
	/* the levels add up: a header 40 deep, then a dotted key 40 deep under it */
	header = dotted("[", 40, "]\n");
	doc = dotted(header, 40, " = 1\n");
	expect_error(doc, "nested deeper than");
	free(doc);
	free(header);
}

/* A table of many keys (the settings of a large fleet): every key is found, in insertion
 * order, and a duplicate is refused wherever it comes, also once the table has its index. */
static void
test_large_table(void **state)
{
	enum { N = 20000 };
	struct strbuf sb;
	struct toml_value *root;
	const struct toml_value *t;
	char *cause = NULL, key[32];

	(void)state;
	strbuf_init(&sb);
	strbuf_append(&sb, "[settings]\n");
	for (int i = 0; i < N; i++)
		strbuf_appendf(&sb, "\"k%d\" = \"v%d\"\n", i, i);
	strbuf_append(&sb, "\"\" = \"empty key\"\n");
	root = toml_parse(strbuf_str(&sb), sb.len, &cause);
	if (root == NULL)
		fail_msg("%s", cause);
	t = toml_get(root, "settings");
	assert_non_null(t);
	assert_int_equal(t->n, N + 1);
	for (int i = 0; i < N; i += 997) {
		char val[32];

		snprintf(key, sizeof key, "k%d", i);
		snprintf(val, sizeof val, "v%d", i);
		assert_non_null(toml_get(t, key));
		assert_string_equal(toml_get(t, key)->str, val);
		assert_string_equal(t->keys[i], key);
	}
	assert_string_equal(toml_get(t, "")->str, "empty key");
	assert_null(toml_get(t, "k20000"));
	toml_free(root);
	/* the same key again, late in the table: refused with its line */
	strbuf_append(&sb, "\"k12345\" = \"again\"\n");
	assert_null(toml_parse(strbuf_str(&sb), sb.len, &cause));
	snprintf(key, sizeof key, "line %d", N + 3);
	if (strstr(cause, key) == NULL)
		fail_msg("error '%s' lacks '%s'", cause, key);
	free(cause);
	strbuf_done(&sb);
}

static void
test_writer_round_trip(void **state)
{
	static const char *const hostile[] = {
	    "plain",
	    "",
	    "with space",
	    "quote\"and\\back",
	    "\x1b[31mred\x1b[0m",
	    "new\nline",
	    "tab\there",
	    "del\x7f",
	    "c1\xc2\x9b",
	    "rlo\xe2\x80\xae" "lri\xe2\x81\xa6" "alm\xd8\x9c",
	    "caf\xc3\xa9 \xe2\x98\x83",
	    "bad\xffutf8",
	    "{brace}; semi",
	    "'single'",
	    "a.b",
	    "''' \"\"\"",
	};
	struct strbuf sb;
	struct toml_value *doc;
	char *cause = NULL;

	(void)state;
	for (size_t k = 0; k < sizeof hostile / sizeof hostile[0]; k++) {
		strbuf_init(&sb);
		toml_append_key(&sb, hostile[k]);
		strbuf_append(&sb, " = ");
		toml_append_string(&sb, hostile[k]);
		strbuf_append(&sb, "\n");
		doc = toml_parse(sb.buf, sb.len, &cause);
		if (doc == NULL)
			fail_msg("writer output rejected: %s: %s", strbuf_str(&sb), cause);
		assert_int_equal(doc->n, 1);
		if (strcmp(hostile[k], "bad\xffutf8") == 0) {
			assert_string_equal(doc->keys[0], "bad\xef\xbf\xbdutf8");
		} else {
			assert_string_equal(doc->keys[0], hostile[k]);
			assert_string_equal(doc->items[0]->str, hostile[k]);
		}
		toml_free(doc);
		strbuf_done(&sb);
	}
	/* Bidi controls are written escaped, so a terminal showing the file keeps its order. */
	strbuf_init(&sb);
	toml_append_string(&sb, "a\xe2\x80\xae" "b\xe2\x81\xa9" "c\xe2\x80\x94");
	assert_string_equal(strbuf_str(&sb), "\"a\\u202Eb\\u2069c\xe2\x80\x94\"");
	strbuf_done(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conformance),
	    cmocka_unit_test(test_error_positions),
	    cmocka_unit_test(test_dotted_depth),
	    cmocka_unit_test(test_large_table),
	    cmocka_unit_test(test_writer_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
