#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/str.h"

/* Asserts that str_sanitize(in, 0) gives want, and str_is_safe(in) agrees. */
static void
check_sanitize(const char *in, const char *want)
{
	char *out = str_sanitize(in, 0);

	assert_string_equal(out, want);
	assert_int_equal(str_is_safe(in), strcmp(in, want) == 0);
	assert_true(str_is_safe(out));
	free(out);
}

static void
test_strbuf(void **state)
{
	struct strbuf sb;
	char *s;
	int i;

	(void)state;
	strbuf_init(&sb);
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_append(&sb, "abc");
	strbuf_append_len(&sb, "defgh", 2);
	strbuf_append_char(&sb, '!');
	strbuf_appendf(&sb, " %d-%s", 42, "x");
	assert_string_equal(strbuf_str(&sb), "abcde! 42-x");
	assert_int_equal(sb.len, 11);
	/* grows past the first allocation, also through appendf */
	for (i = 0; i < 100; i++)
		strbuf_appendf(&sb, "%08d", i);
	assert_int_equal(sb.len, 11 + 800);
	assert_memory_equal(sb.buf + 11 + 99 * 8, "00000099", 8);
	s = strbuf_steal(&sb);
	assert_int_equal(strlen(s), 811);
	free(s);
	/* stolen: empty again, and stealing an empty buffer gives "" */
	assert_null(sb.buf);
	s = strbuf_steal(&sb);
	assert_string_equal(s, "");
	free(s);
	strbuf_append(&sb, "x");
	strbuf_reset(&sb);
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_done(&sb);
}

static void
test_sanitize_keeps_text(void **state)
{
	(void)state;
	check_sanitize("", "");
	check_sanitize("Kitchen light", "Kitchen light");
	/* valid UTF-8 of every length stays: é, €, 😀, CJK */
	check_sanitize("Caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE5\x8F\xB0", "Caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE5\x8F\xB0");
	check_sanitize("~!@#$%^&*()[]{}", "~!@#$%^&*()[]{}");
	assert_true(str_is_safe(NULL));
	{
		char *s = str_sanitize(NULL, 0);

		assert_string_equal(s, "");
		free(s);
	}
}

static void
test_sanitize_controls(void **state)
{
	(void)state;
	/* C0, tab, newline, DEL */
	check_sanitize("a\x01" "b\tc\nd\re\x7f" "f", "abcdef");
	/* C1 controls as UTF-8 (U+0085 NEL, U+009C ST) */
	check_sanitize("a\xC2\x85" "b\xC2\x9C" "c", "abc");
}

static void
test_sanitize_escapes(void **state)
{
	(void)state;
	/* CSI: colour, cursor movement, private modes, with their parameters */
	check_sanitize("\x1b[31mred\x1b[0m", "red");
	check_sanitize("a\x1b[2J\x1b[H\x1b[?1049hb", "ab");
	/* OSC with BEL and with ST: the title payload goes too */
	check_sanitize("x\x1b]0;evil title\x07y", "xy");
	check_sanitize("x\x1b]52;c;ZXZpbA==\x1b\\y", "xy");
	/* OSC 8 hyperlink: the link text stays, the URL goes */
	check_sanitize("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", "click");
	/* DCS, APC, PM, SOS with payloads */
	check_sanitize("a\x1bPq#0;2;0;0;0\x1b\\b", "ab");
	check_sanitize("a\x1b_apc payload\x1b\\b", "ab");
	check_sanitize("a\x1b^pm\x1b\\b\x1bXsos\x1b\\c", "abc");
	/* an unterminated OSC swallows the rest */
	check_sanitize("ok\x1b]0;never ends", "ok");
	/* two-byte and nF escapes */
	check_sanitize("a\x1b" "cb\x1b(Bc\x1b#8d", "abcd");
	/* 8-bit CSI and OSC written in UTF-8 (U+009B, U+009D) */
	check_sanitize("a\xC2\x9B" "31mb", "ab");
	check_sanitize("a\xC2\x9D" "0;t\xC2\x9C" "b", "ab");
	/* ESC at the end, CSI cut by a control */
	check_sanitize("a\x1b", "a");
	check_sanitize("a\x1b[12\nb", "ab");
}

static void
test_sanitize_utf8(void **state)
{
	(void)state;
	/* lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF, 0xFF */
	check_sanitize("a\x80z", "a\xEF\xBF\xBDz");
	check_sanitize("a\xE2\x82z", "a\xEF\xBF\xBDz");
	check_sanitize("a\xC0\xAFz", "a\xEF\xBF\xBD\xEF\xBF\xBDz");
	check_sanitize("a\xED\xA0\x80z", "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
	check_sanitize("a\xF4\x90\x80\x80z",
	    "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz");
	check_sanitize("a\xFFz", "a\xEF\xBF\xBDz");
	check_sanitize("\xF0\x9F\x98", "\xEF\xBF\xBD");
	/* a raw 8-bit CSI byte is invalid UTF-8, replaced, not interpreted */
	check_sanitize("\x9b" "31m", "\xEF\xBF\xBD" "31m");
}

static void
test_sanitize_bidi(void **state)
{
	(void)state;
	/* RLO (U+202E), LRE (U+202A), PDF (U+202C), LRI..PDI (U+2066..U+2069), U+2028 */
	check_sanitize("abc\xE2\x80\xAE" "fdp.exe", "abcfdp.exe");
	check_sanitize("\xE2\x80\xAA" "x\xE2\x80\xAC", "x");
	check_sanitize("\xE2\x81\xA6" "a\xE2\x81\xA7" "b\xE2\x81\xA8" "c\xE2\x81\xA9", "abc");
	check_sanitize("line\xE2\x80\xA8" "two", "linetwo");
	/* the marks: LRM U+200E, RLM U+200F, ALM U+061C */
	check_sanitize("a\xE2\x80\x8E" "b\xE2\x80\x8F" "c\xD8\x9C" "d", "abcd");
	/* a neighbour stays: U+202F (narrow no-break space) */
	check_sanitize("\xE2\x80\xAF", "\xE2\x80\xAF");
}

/* Format characters (category Cf) are invisible and width 0 or unknown to a terminal: gone. */
static void
test_sanitize_format(void **state)
{
	(void)state;
	/* ZWSP U+200B, ZWNJ U+200C, ZWJ U+200D, WJ U+2060, BOM U+FEFF */
	check_sanitize("a\xE2\x80\x8B" "b\xE2\x80\x8C" "c\xE2\x80\x8D" "d", "abcd");
	check_sanitize("\xEF\xBB\xBF" "Kitchen\xE2\x81\xA0", "Kitchen");
	/* Mongolian vowel separator U+180E, soft hyphen U+00AD, a tag U+E0041 */
	check_sanitize("x\xE1\xA0\x8E" "y\xC2\xAD" "z\xF3\xA0\x81\x81", "xyz");
	/* neighbours stay: U+200A (hair space), U+2010 (hyphen), CGJ U+034F (a combining mark) */
	check_sanitize("\xE2\x80\x8A\xE2\x80\x90", "\xE2\x80\x8A\xE2\x80\x90");
	check_sanitize("e\xCD\x8F", "e\xCD\x8F");
	assert_true(str_is_format(0x200B));
	assert_false(str_is_format(0x200E)); /* a bidi mark: str_is_bidi's */
	assert_false(str_is_format('a'));
}

static void
test_sanitize_max(void **state)
{
	char *s;

	(void)state;
	s = str_sanitize("abcdef", 4);
	assert_string_equal(s, "abcd");
	free(s);
	/* never cut inside a character: "é" is 2 bytes */
	s = str_sanitize("ab\xC3\xA9z", 3);
	assert_string_equal(s, "ab");
	free(s);
	s = str_sanitize("ab\xC3\xA9z", 4);
	assert_string_equal(s, "ab\xC3\xA9");
	free(s);
	/* a replacement needs 3 bytes */
	s = str_sanitize("a\xFF", 2);
	assert_string_equal(s, "a");
	free(s);
	/* removed bytes do not count */
	s = str_sanitize("\x1b[31mabc", 3);
	assert_string_equal(s, "abc");
	free(s);
}

static void
test_sanitize_inplace(void **state)
{
	char buf[64];

	(void)state;
	strcpy(buf, "\x1b[1mbold\x1b[0m \xFF\xE2\x80\xAE" "x\x07");
	str_sanitize_inplace(buf);
	assert_string_equal(buf, "bold ?x");
	strcpy(buf, "plain \xC3\xA9");
	str_sanitize_inplace(buf);
	assert_string_equal(buf, "plain \xC3\xA9");
	strcpy(buf, "\xE2\x82");
	str_sanitize_inplace(buf);
	assert_string_equal(buf, "?");
	str_sanitize_inplace(NULL);
}

static void
test_mac(void **state)
{
	char out[13];

	(void)state;
	assert_int_equal(str_mac_normalise("AA:BB:CC:DD:EE:FF", out), 0);
	assert_string_equal(out, "aabbccddeeff");
	assert_int_equal(str_mac_normalise("a8:03:2a:b1:23:45", out), 0);
	assert_string_equal(out, "a8032ab12345");
	assert_int_equal(str_mac_normalise("A8-03-2A-B1-23-45", out), 0);
	assert_string_equal(out, "a8032ab12345");
	assert_int_equal(str_mac_normalise("A8032AB12345", out), 0);
	assert_string_equal(out, "a8032ab12345");
	assert_int_equal(str_mac_normalise("a8032ab12345", out), 0);
	assert_string_equal(out, "a8032ab12345");

	assert_int_equal(str_mac_normalise("A803.2AB1.2345", out), 0); /* as OPNsense takes it */
	assert_string_equal(out, "a8032ab12345");
	assert_int_equal(str_mac_normalise("0000.0000.0002", out), 0);
	assert_string_equal(out, "000000000002");

	assert_int_equal(str_mac_normalise("A8:03-2A:B1:23:45", out), -1); /* mixed */
	assert_string_equal(out, "");
	assert_int_equal(str_mac_normalise("A803.2AB1:2345", out), -1);
	assert_int_equal(str_mac_normalise("A80.32AB1.2345", out), -1);
	assert_int_equal(str_mac_normalise("A803.2AB1.234G", out), -1);
	assert_int_equal(str_mac_normalise("A803-2AB1-2345", out), -1);
	assert_int_equal(str_mac_normalise("A8032.AB1.2345", out), -1);
	assert_string_equal(out, "");
	assert_int_equal(str_mac_normalise("A8:03:2A:B1:23:4", out), -1);
	assert_int_equal(str_mac_normalise("A8032AB1234G", out), -1);
	assert_int_equal(str_mac_normalise("A8032AB123456", out), -1);
	assert_int_equal(str_mac_normalise("A8.03.2A.B1.23.45", out), -1);
	assert_int_equal(str_mac_normalise("A803:2AB1:2345", out), -1);
	assert_int_equal(str_mac_normalise("", out), -1);
	assert_int_equal(str_mac_normalise(NULL, out), -1);
}

static void
test_urlencode(void **state)
{
	char *s;

	(void)state;
	s = str_urlencode("Az09-._~");
	assert_string_equal(s, "Az09-._~");
	free(s);
	s = str_urlencode("a b&c=d/e?f%");
	assert_string_equal(s, "a%20b%26c%3Dd%2Fe%3Ff%25");
	free(s);
	s = str_urlencode("\xC3\xA9\"+");
	assert_string_equal(s, "%C3%A9%22%2B");
	free(s);
	s = str_urlencode("");
	assert_string_equal(s, "");
	free(s);
}

static void
test_case(void **state)
{
	(void)state;
	assert_int_equal(str_casecmp("ShellyPlus1PM-A8032AB12345", "shellyplus1pm-a8032ab12345"), 0);
	assert_true(str_casecmp("abc", "ABD") < 0);
	assert_true(str_casecmp("b", "A") > 0);
	assert_true(str_casecmp("ab", "abc") < 0);
	assert_true(str_caseeq("Localhost", "LOCALHOST"));
	assert_false(str_caseeq("localhost", "localhost."));
	assert_true(str_caseeq(NULL, NULL));
	assert_false(str_caseeq("a", NULL));
	/* ASCII only: bytes >= 0x80 compare exactly */
	assert_false(str_caseeq("\xC3\xA9", "\xC3\x89"));
	assert_true(str_has_prefix("file:/x", "file:"));
	assert_false(str_has_prefix("fil", "file:"));
	assert_true(str_has_caseprefix("SHELLY1-abc", "shelly1-"));
	assert_false(str_has_caseprefix("shel", "shelly"));
	assert_true(str_has_prefix("x", ""));
}

static void
test_copy(void **state)
{
	char buf[6];

	(void)state;
	assert_int_equal(str_copy(buf, sizeof buf, "hello"), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(str_copy(buf, sizeof buf, "hello world"), 11);
	assert_string_equal(buf, "hello");
	/* "abcé€": the cut at 5 bytes would split é (bytes 3-4) -> "abcé" fits, € does not */
	assert_int_equal(str_copy(buf, sizeof buf, "abc\xC3\xA9\xE2\x82\xAC"), 8);
	assert_string_equal(buf, "abc\xC3\xA9");
	assert_int_equal(str_copy(buf, sizeof buf, "abcd\xC3\xA9"), 6);
	assert_string_equal(buf, "abcd");
	assert_int_equal(str_copy(buf, 1, "xyz"), 3);
	assert_string_equal(buf, "");
	buf[0] = 'Q';
	assert_int_equal(str_copy(buf, 0, "xyz"), 3);
	assert_int_equal(buf[0], 'Q');
}

static void
test_seconds(void **state)
{
	double v = -1;

	(void)state;
	assert_int_equal(str_parse_seconds("2", 10, &v), 0);
	assert_true(v == 2.0);
	assert_int_equal(str_parse_seconds("0.25", 10, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(str_parse_seconds("1e-3", 10, &v), 0);
	assert_true(v == 0.001);
	assert_int_equal(str_parse_seconds("10", 10, &v), 0); /* max itself */
	assert_true(v == 10.0);
	v = -1;
	assert_int_equal(str_parse_seconds("10.5", 10, &v), -1);
	assert_int_equal(str_parse_seconds("0", 10, &v), -1);
	assert_int_equal(str_parse_seconds("-1", 10, &v), -1);
	assert_int_equal(str_parse_seconds("", 10, &v), -1);
	assert_int_equal(str_parse_seconds("5s", 10, &v), -1);
	assert_int_equal(str_parse_seconds("nan", 10, &v), -1);
	assert_int_equal(str_parse_seconds("inf", 1e308, &v), -1);
	assert_int_equal(str_parse_seconds("1e-400", 10, &v), -1); /* underflows */
	assert_int_equal(str_parse_seconds(NULL, 10, &v), -1);
	assert_true(v == -1); /* untouched on error */
}

static void
test_duration(void **state)
{
	uint64_t ms = 0;
	char buf[32];

	(void)state;
	assert_int_equal(str_parse_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(str_parse_duration_ms("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(str_parse_duration_ms("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(str_parse_duration_ms("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(str_parse_duration_ms("1d", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(str_parse_duration_ms("30", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(str_parse_duration_ms("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(str_parse_duration_ms("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(str_parse_duration_ms("0.25m", &ms), 0);
	assert_int_equal(ms, 15000);
	assert_int_equal(str_parse_duration_ms("0.0001s", &ms), 0);
	assert_int_equal(ms, 0);

	ms = 7;
	assert_int_equal(str_parse_duration_ms("", &ms), -1);
	assert_int_equal(str_parse_duration_ms("s", &ms), -1);
	assert_int_equal(str_parse_duration_ms("-1s", &ms), -1);
	assert_int_equal(str_parse_duration_ms(" 1s", &ms), -1);
	assert_int_equal(str_parse_duration_ms("1s ", &ms), -1);
	assert_int_equal(str_parse_duration_ms("1S", &ms), -1);
	assert_int_equal(str_parse_duration_ms("1x", &ms), -1);
	assert_int_equal(str_parse_duration_ms("1.s", &ms), -1);
	assert_int_equal(str_parse_duration_ms(".5s", &ms), -1);
	assert_int_equal(str_parse_duration_ms("1.2.3s", &ms), -1);
	assert_int_equal(str_parse_duration_ms("0x10", &ms), -1);
	assert_int_equal(str_parse_duration_ms("1.0000000001s", &ms), -1);
	/* overflow: 2^64 ms, and days that overflow after scaling */
	assert_int_equal(str_parse_duration_ms("18446744073709551616ms", &ms), -1);
	assert_int_equal(str_parse_duration_ms("213503982335d", &ms), -1);
	assert_int_equal(str_parse_duration_ms(NULL, &ms), -1);
	assert_int_equal(ms, 7);
	assert_int_equal(str_parse_duration_ms("18446744073709551615ms", &ms), 0);
	assert_true(ms == UINT64_MAX);

	assert_string_equal(str_format_duration_ms(30000, buf, sizeof buf), "30s");
	assert_string_equal(str_format_duration_ms(300000, buf, sizeof buf), "5m");
	assert_string_equal(str_format_duration_ms(48 * 3600000ull, buf, sizeof buf), "2d");
	assert_string_equal(str_format_duration_ms(3600000, buf, sizeof buf), "1h");
	assert_string_equal(str_format_duration_ms(1500, buf, sizeof buf), "1500ms");
	assert_string_equal(str_format_duration_ms(0, buf, sizeof buf), "0");
}

static void
test_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(str_parse_size("1048576", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(str_parse_size("1MiB", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(str_parse_size("512k", &v), 0);
	assert_int_equal(v, 524288);
	assert_int_equal(str_parse_size("512K", &v), 0);
	assert_int_equal(v, 524288);
	assert_int_equal(str_parse_size("2KB", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(str_parse_size("3M", &v), 0);
	assert_int_equal(v, 3 * 1048576);
	assert_int_equal(str_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1073741824);
	assert_int_equal(str_parse_size("7b", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(str_parse_size("0", &v), 0);
	assert_int_equal(v, 0);

	v = 9;
	assert_int_equal(str_parse_size("", &v), -1);
	assert_int_equal(str_parse_size("k", &v), -1);
	assert_int_equal(str_parse_size("-1", &v), -1);
	assert_int_equal(str_parse_size("1.5M", &v), -1);
	assert_int_equal(str_parse_size("1 MiB", &v), -1);
	assert_int_equal(str_parse_size("1T", &v), -1);
	assert_int_equal(str_parse_size("1Mi", &v), -1);
	assert_int_equal(str_parse_size("17179869184G", &v), -1); /* 2^34 GiB = 2^64 */
	assert_int_equal(str_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(v, 9);
	assert_int_equal(str_parse_size("17179869183G", &v), 0);
}

/* The one parser of whole numbers in a range (command-line options, console prompts, keys). */
static void
test_int(void **state)
{
	static const char *const bad[] = {
		NULL, "", " ", "0", "65536", "12x", "x12", "1.5", "99999999999999999999", "-",
	};
	long long v = -1;

	(void)state;
	assert_int_equal(str_parse_int("1", 1, 65535, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(str_parse_int("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(str_parse_int("-3", -5, 5, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(str_parse_int("9223372036854775807", 1, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);
	/* Anything else is refused and leaves *out as it was. */
	v = 42;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(str_parse_int(bad[i], 1, 65535, &v), -1);
		assert_int_equal(v, 42);
	}
}

/* A table lookup gives the index; a list of owned strings answers whether s is one of them. */
static void
test_lists(void **state)
{
	static const char *const table[] = {"debug", "info", "warn"};
	char a[] = "kitchen", b[] = "hall";
	char *const list[] = {a, b};

	(void)state;
	assert_int_equal(str_table_find(table, 3, "warn"), 2);
	assert_int_equal(str_table_find(table, 3, "Warn"), -1);
	assert_int_equal(str_table_find(table, 3, NULL), -1);
	assert_int_equal(str_list_has(list, 2, "hall"), 1);
	assert_int_equal(str_list_has(list, 1, "hall"), 0);
	assert_int_equal(str_list_has(list, 2, "hal"), 0);
	assert_int_equal(str_list_has(NULL, 0, "hall"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_sanitize_keeps_text),
		cmocka_unit_test(test_sanitize_controls),
		cmocka_unit_test(test_sanitize_escapes),
		cmocka_unit_test(test_sanitize_utf8),
		cmocka_unit_test(test_sanitize_bidi),
		cmocka_unit_test(test_sanitize_format),
		cmocka_unit_test(test_sanitize_max),
		cmocka_unit_test(test_sanitize_inplace),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
