/*
 * exchange/: derived host names (RFC 1123 labels, unique, whatever the device names), the
 * positioned JSON reader (errors with line and column, strict RFC 8259), and import
 * validation errors naming line and field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "exchange/hostfmt.h"
#include "exchange/cfgdoc.h"
#include "exchange/export.h"
#include "exchange/import.h"
#include "exchange/jsondoc.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/sqlite.h"

static int
is_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static void
test_names(void **state)
{
	static const char *const names[] = {"Kitchen", "kitchen", "KITCHEN!", NULL, "",
	    "\x1b]0;title\x07", "123", "caf\xc3\xa9", "-", "kitchen-ddee04",
	    "x-very-long-name-that-goes-on-and-on-past-the-sixty-three-characters-allowed",
	    "x-very-long-name-that-goes-on-and-on-past-the-sixty-three-characters-allowed!",
	    "localhost", "LocalHost.localdomain", "ip6-allnodes", "local", "WPAD", "localhostel"};
	enum { N = sizeof names / sizeof names[0] };
	struct store_device devs[N];
	const struct store_device *ptrs[N];
	char macs[N][13];
	char **out;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		memset(&devs[i], 0, sizeof devs[i]);
		snprintf(macs[i], sizeof macs[i], "aabbccddee%02zx", i);
		memcpy(devs[i].mac, macs[i], 13);
		devs[i].name = names[i];
		ptrs[i] = &devs[i];
	}
	out = hostfmt_names(EXPORT_HOSTS, ptrs, N);
	for (size_t i = 0; i < N; i++) {
		if (!is_label(out[i]))
			fail_msg("not a label: '%s'", out[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(out[i], out[j]) == 0)
				fail_msg("duplicate: '%s'", out[i]);
	}
	assert_string_equal(out[0], "kitchen");
	assert_string_equal(out[1], "kitchen-ddee01");
	assert_string_equal(out[3], "shelly-aabbccddee03");
	assert_string_equal(out[6], "shelly-123");
	/* names /etc/hosts and resolvers keep for themselves are never a device's */
	for (size_t i = 12; i < N; i++) {
		char want[32];

		snprintf(want, sizeof want, "shelly-%s", macs[i]);
		assert_string_equal(out[i], want);
	}
	for (size_t i = 0; i < N; i++)
		free(out[i]);
	free(out);
}

/* A device named after a dnsmasq dhcp-host keyword would not get its reservation (ignore) or
 * get a lease time (infinite): in the dnsmasq file such a name becomes shelly-MAC. */
static void
test_dnsmasq_keywords(void **state)
{
	static const char *const names[] = {"ignore", "Infinite", "deprecated", "ignored"};
	struct store_device devs[4];
	const struct store_device *ptrs[4];
	char ips[4][16], **out;
	struct strbuf sb;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		memset(&devs[i], 0, sizeof devs[i]);
		snprintf(devs[i].mac, sizeof devs[i].mac, "aabbccddee%02zx", i);
		snprintf(ips[i], sizeof ips[i], "10.0.0.%zu", i + 1);
		devs[i].name = names[i];
		devs[i].host = ips[i];
		ptrs[i] = &devs[i];
	}
	strbuf_init(&sb);
	hostfmt_render(EXPORT_DNSMASQ, ptrs, 4, &sb, NULL);
	assert_string_equal(strbuf_str(&sb),
	    "# shelly-tui dnsmasq export\n"
	    "dhcp-host=aa:bb:cc:dd:ee:00,10.0.0.1,shelly-aabbccddee00\n"
	    "dhcp-host=aa:bb:cc:dd:ee:01,10.0.0.2,shelly-aabbccddee01\n"
	    "dhcp-host=aa:bb:cc:dd:ee:02,10.0.0.3,shelly-aabbccddee02\n"
	    "dhcp-host=aa:bb:cc:dd:ee:03,10.0.0.4,ignored\n");
	strbuf_done(&sb);
	/* the words mean nothing to a hosts file */
	out = hostfmt_names(EXPORT_HOSTS, ptrs, 4);
	assert_string_equal(out[0], "ignore");
	for (size_t i = 0; i < 4; i++)
		free(out[i]);
	free(out);
}

/* An IPv4-mapped IPv6 host (::ffff:a.b.c.d) is its IPv4 address in every host and DHCP
 * format, as in the OPNsense sync; of two devices of one name, the one registered first keeps
 * it (util/hostname's order), whatever the MACs. */
static void
test_hosts_mapped_first(void **state)
{
	struct store_device devs[2];
	const struct store_device *ptrs[2] = {&devs[0], &devs[1]};
	struct strbuf sb;

	(void)state;
	memset(devs, 0, sizeof devs);
	memcpy(devs[0].mac, "000000000001", 13);
	memcpy(devs[1].mac, "000000000005", 13);
	devs[0].name = devs[1].name = "Kitchen";
	devs[0].host = "::ffff:192.168.20.31";
	devs[1].host = "192.168.20.35";
	devs[0].first_seen_ms = 2000;
	devs[1].first_seen_ms = 1000;
	strbuf_init(&sb);
	hostfmt_render(EXPORT_DNSMASQ, ptrs, 2, &sb, NULL);
	assert_string_equal(strbuf_str(&sb),
	    "# shelly-tui dnsmasq export\n"
	    "dhcp-host=00:00:00:00:00:01,192.168.20.31,kitchen-000001\n"
	    "dhcp-host=00:00:00:00:00:05,192.168.20.35,kitchen\n");
	strbuf_done(&sb);
	strbuf_init(&sb);
	hostfmt_render(EXPORT_HOSTS, ptrs, 2, &sb, NULL);
	assert_non_null(strstr(strbuf_str(&sb), "192.168.20.31\tkitchen-000001\n"));
	assert_null(strstr(strbuf_str(&sb), "ffff"));
	strbuf_done(&sb);
}

/* Two devices whose MACs end alike keep apart (a counter after the MAC tail), as in the
 * OPNsense sync: one rule, util/hostname. */
static void
test_names_same_tail(void **state)
{
	static const char *const macs[] = {"3494546a0001", "aabbcc000009", "c45bbe6a0001"};
	static const char *const names[] = {"Plug", "plug-6a0001", "Plug"};
	struct store_device devs[3];
	const struct store_device *ptrs[3];
	char **out;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		memset(&devs[i], 0, sizeof devs[i]);
		memcpy(devs[i].mac, macs[i], 13);
		devs[i].name = names[i];
		ptrs[i] = &devs[i];
	}
	out = hostfmt_names(EXPORT_HOSTS, ptrs, 3);
	assert_string_equal(out[0], "plug");
	assert_string_equal(out[1], "plug-6a0001");
	assert_string_equal(out[2], "plug-6a0001-2");
	for (size_t i = 0; i < 3; i++)
		free(out[i]);
	free(out);
}

/* A device a hosts file cannot hold is left out with a note saying which and why. */
static void
test_left_out(void **state)
{
	static const char *const hosts[] = {"10.0.0.1", "fe80::1%lo", "host.example", NULL, "::1"};
	enum { N = sizeof hosts / sizeof hosts[0] };
	struct store_device devs[N];
	const struct store_device *ptrs[N];
	struct strbuf out, notes;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		memset(&devs[i], 0, sizeof devs[i]);
		snprintf(devs[i].mac, sizeof devs[i].mac, "aabbccddee%02zx", i);
		devs[i].host = hosts[i];
		devs[i].name = i == 1 ? "Hall\x1b[2J" : NULL;
		ptrs[i] = &devs[i];
	}
	strbuf_init(&out);
	strbuf_init(&notes);
	hostfmt_render(EXPORT_HOSTS, ptrs, N, &out, &notes);
	assert_null(strstr(strbuf_str(&out), "fe80"));
	assert_non_null(strstr(strbuf_str(&out), "::1\t"));
	assert_string_equal(strbuf_str(&notes),
	    "aabbccddee01 (Hall): left out: host fe80::1%lo: a link-local address with a zone "
	    "(%IFACE) cannot go in a hosts or DHCP file\n"
	    "aabbccddee02: left out: host host.example: a host name, not an address\n"
	    "aabbccddee03: left out: host -: it has no address\n");
	strbuf_done(&out);
	strbuf_done(&notes);
}

static void
json_rejects(const char *doc, const char *want)
{
	char *cause = NULL;
	struct toml_value *v = jsondoc_parse(doc, strlen(doc), &cause);

	if (v != NULL)
		fail_msg("accepted: %s", doc);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s': error '%s' lacks '%s'", doc, cause, want);
	free(cause);
}

static void
test_jsondoc(void **state)
{
	const char *ok = "{\n \"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\ud83d\\ude00\"],\n"
	                 " \"b\": {}\n}";
	char *cause = NULL;
	struct toml_value *v = jsondoc_parse(ok, strlen(ok), &cause);
	const struct toml_value *a;

	(void)state;
	assert_non_null(v);
	a = toml_get(v, "a");
	assert_int_equal(a->line, 2);
	assert_int_equal(a->n, 6);
	assert_int_equal(a->items[0]->type, TOML_INTEGER);
	assert_int_equal(a->items[1]->type, TOML_FLOAT);
	assert_true(jsondoc_is_null(a->items[4]));
	assert_string_equal(a->items[5]->str, "\xc3\xa9\xf0\x9f\x98\x80");
	toml_free(v);

	json_rejects("{\"a\": 1,\n \"a\": 2}", "line 2, column 2: duplicate member");
	/* columns count characters, on one long line as on many (counted on from the last) */
	json_rejects("{\"\xc3\xa9\": \"\xc3\xbc\", \"b\": 1, \"\xc3\xa9\": 2}",
	    "line 1, column 20: duplicate member");
	json_rejects("{\"\xc3\xa9\": \"\xc3\xbc\", \"b\": [1, 2,]}", "line 1, column 23");
	json_rejects("{\"a\": \"\xc3\xa9\",\n\"b\": \"\xc3\xa9\", \"c\": 0x}", "line 2, column 17");
	json_rejects("{\"a\": 01}", "line 1");
	json_rejects("[1,]", "line 1, column 4");
	json_rejects("{\"a\": \"\\ud800\"}", "surrogate");
	json_rejects("{\"a\": \"x\ny\"}", "control character");
	json_rejects("{} {}", "after the document");
	json_rejects("{\"a\": tru}", "invalid value");
	json_rejects("", "unexpected end");
}

static void
import_rejects(const char *doc, const char *want)
{
	struct import_doc *d = NULL;
	char *cause = NULL;

	if (import_parse("f", doc, strlen(doc), &d, &cause) == 0)
		fail_msg("accepted: %s", doc);
	if (strstr(cause, want) == NULL)
		fail_msg("error '%s' lacks '%s'", cause, want);
	free(cause);
}

/* A toml export of version 4 without its closing table was cut short: the error names the
 * file's last line (a final newline starts none), where the table is missing. */
static void
test_import_cut_short(void **state)
{
	(void)state;
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 4\n"
	               "[devices.aabbccddeeff]\nname = \"x\"\n",
	    "f: line 4: end: missing: the file ends early");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 4\n\n[end]",
	    "f: line 4: end: expected only complete = true");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 4\n[end]\n"
	               "complete = false\n",
	    "f: line 4: end: expected only complete = true");
}

static void
test_import_errors(void **state)
{
	struct import_doc *d = NULL;
	char *cause = NULL;
	const char *good = "format = \"shelly-tui-fleet\"\nformat_version = 1\n"
	                   "[devices.aabbccddeeff]\nname = \"x\"\nport = 80\n";

	(void)state;
	assert_int_equal(import_parse("f", good, strlen(good), &d, &cause), 0);
	import_doc_free(d);
	/* a UTF-8 byte order mark before either format: skipped, JSON still told from TOML (as
	 * TOML the JSON text fails: "invalid character in a key") */
	{
		const char *bom_json = "\xef\xbb\xbf{\"format\": \"shelly-tui-backup\", "
		                       "\"format_version\": 1, \"devices\": []}";
		const char *bom_toml = "\xef\xbb\xbf"
		                       "format = \"shelly-tui-fleet\"\n"
		                       "format_version = 1\n";

		if (import_parse("f", bom_json, strlen(bom_json), &d, &cause) != 0)
			fail_msg("BOM + JSON: %s", cause);
		import_doc_free(d);
		if (import_parse("f", bom_toml, strlen(bom_toml), &d, &cause) != 0)
			fail_msg("BOM + TOML: %s", cause);
		import_doc_free(d);
	}
	import_rejects("format = \"other\"\nformat_version = 1\n", "f: line 1: format:");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n[devices.x]\n",
	    "f: line 3: devices.x: the table name must be the MAC");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n"
	               "[devices.aabbccddeeff]\n\ngen = 100\n",
	    "f: line 5: devices.aabbccddeeff.gen: expected an integer 0..99");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n"
	               "[devices.aabbccddeeff]\ncolour = \"red\"\n",
	    "line 4: devices.aabbccddeeff.colour: unknown field");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n[settings]\n"
	               "\"secret:aabbccddeeff\" = \"pw\"\n",
	    "line 4: settings.secret:aabbccddeeff: passwords belong in the secrets section");
	/* a password for a device the file does not bring, or under no MAC at all */
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n"
	               "[devices.aabbccddee02]\n[secrets]\n\"secret:aabbccddee01\" = \"x\"\n",
	    "f: line 5: secrets.secret:aabbccddee01: aabbccddee01 is not a device of this file");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n"
	               "[devices.aabbccddee02]\n[secrets]\n\"secret:AABBCCDDEE02\" = \"x\"\n",
	    "f: line 5: secrets.secret:AABBCCDDEE02: AABBCCDDEE02 is not a device of this file");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n[secrets]\n"
	               "\"secret:\" = \"x\"\n",
	    "f: line 4: secrets.secret::  is not a device of this file");
	import_rejects("{\"format\": \"shelly-tui-backup\", \"format_version\": 1,\n"
	               "\"devices\": [{\"name\": \"no mac\"}]}",
	    "f: line 2: devices[0]: mac is missing");
	import_rejects("{\"format\": \"shelly-tui-backup\", \"format_version\": 1,\n"
	               "\"devices\": [{\"mac\": \"aabbccddeeff\",\n\"name\": \"a\\u0000b\"}]}",
	    "f: line 3: devices[0].name: expected a string");
}

/* Removes the database s.db of dir (with its WAL files) and dir. */
/* A new store in the temporary directory made from the template dir (path: its file). */
static struct store *
temp_store(char *dir, char *path, size_t len)
{
	struct store *s = NULL;
	char *cause = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, len, "%s/s.db", dir);
	if (store_open(path, &s, &cause) != 0)
		fail_msg("%s", cause);
	return s;
}

static void
remove_db(const char *dir)
{
	char path[64];

	for (size_t i = 0; i < 3; i++) {
		snprintf(
		    path, sizeof path, "%s/s.db%s", dir, (const char *[]){"", "-wal", "-shm"}[i]);
		unlink(path);
	}
	rmdir(dir);
}

#define J3(dev)                                                                                \
	"{\"format\": \"shelly-tui-backup\", \"format_version\": 3,\n\"devices\": [{\"mac\": " \
	"\"aabbccddeef1\",\n" dev "}]}"

/*
 * Where the poller connects and what it sends: host and scheme as --add takes them, a stored
 * password only the device's own, a password file held back unless the operator trusts it.
 */
static void
test_import_connection(void **state)
{
	struct import_doc *d = NULL;
	char *cause = NULL;
	const char *own = J3("\"host\": \"fe80::1\", \"scheme\": \"https\", "
	                     "\"credentials\": \"store:secret:aabbccddeef1\"");
	const char *file = J3("\"credentials\": \"file:/etc/shadow\"");
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64];
	struct store *s = NULL;
	struct store_device *got;
	struct import_result res;

	(void)state;
	assert_int_equal(import_parse("f", own, strlen(own), &d, &cause), 0);
	import_doc_free(d);
	import_rejects(J3("\"host\": \"127.0.0.1; rm -rf /\""),
	    "f: line 3: devices[0].host: expected an IPv4 address");
	/* A link-local address with its zone is a device's address on a LAN, as --add takes it;
	 * a zone belongs to a link-local address only, and is an interface name. */
	{
		const char *zoned = J3("\"host\": \"fe80::1%lo\"");
		assert_int_equal(import_parse("f", zoned, strlen(zoned), &d, &cause), 0);
		import_doc_free(d);
	}
	import_rejects(J3("\"host\": \"2001:db8::1%lo\""), "devices[0].host: expected");
	import_rejects(J3("\"host\": \"fe80::1%lo;rm\""), "devices[0].host: expected");
	import_rejects(
	    J3("\"scheme\": \"gopher\""), "f: line 3: devices[0].scheme: expected http or https");
	import_rejects(J3("\"credentials\": \"store:secret:441793000001\""),
	    "f: line 3: devices[0].credentials: a stored password must be this device's own "
	    "(store:secret:aabbccddeef1)");
	import_rejects(
	    J3("\"credentials\": \"store:ui.theme\""), "devices[0].credentials: a stored");
	import_rejects(J3("\"credentials\": \"env:HOME\""),
	    "devices[0].credentials: expected store:secret:aabbccddeef1 or file:PATH");
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n[devices.aabbccddeeff]\n"
	               "credentials = \"store:secret:aabbccddee00\"\n",
	    "f: line 4: devices.aabbccddeeff.credentials: a stored password");

	/* A password file is held back: the new device has none, unless the file is trusted. */
	s = temp_store(dir, path, sizeof path);
	assert_int_equal(import_parse("f", file, strlen(file), &d, &cause), 0);
	assert_int_equal(import_apply(s, d, 0, 0, &res, &cause), 0);
	assert_int_equal(res.held, 1);
	assert_string_equal(res.held_mac, "aabbccddeef1");
	got = store_device_find_mac(s, "aabbccddeef1");
	assert_non_null(got);
	assert_true(got->cred_ref == NULL || got->cred_ref[0] == '\0');
	store_device_free(got);
	import_trust_credentials(d);
	assert_int_equal(import_apply(s, d, 0, 0, &res, &cause), 0);
	assert_int_equal(res.held, 0);
	got = store_device_find_mac(s, "aabbccddeef1");
	assert_string_equal(got->cred_ref, "file:/etc/shadow");
	store_device_free(got);
	import_doc_free(d);
	/* The same reference again is what the store has: nothing is held back. */
	assert_int_equal(import_parse("f", file, strlen(file), &d, &cause), 0);
	assert_int_equal(import_apply(s, d, 0, 1, &res, &cause), 0);
	assert_int_equal(res.held, 0);
	import_doc_free(d);
	store_free(s);
	remove_db(dir);
}

/* Applies the json document doc to s: 0, or -1 with the cause in why. */
static int
apply_json(struct store *s, const char *doc, int replace, char *why, size_t len)
{
	struct import_doc *d = NULL;
	struct import_result res;
	char *cause = NULL;
	int rc;

	if (import_parse("f", doc, strlen(doc), &d, &cause) != 0)
		fail_msg("%s", cause);
	rc = import_apply(s, d, replace, 0, &res, &cause);
	snprintf(why, len, "%s", rc != 0 ? cause : "");
	free(cause);
	import_doc_free(d);
	return rc;
}

#define J2(a, b) \
	"{\"format\": \"shelly-tui-backup\", \"format_version\": 3, \"devices\": [\n" a b "]}"
#define DEV(mac, id) "{\"mac\": \"" mac "\", \"id\": " id "}"

/* A device's id is its own: a file or a merge that gives two devices one id is refused. */
static void
test_import_ids(void **state)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64], why[256];
	struct store *s = NULL;

	(void)state;
	import_rejects(
	    J2(DEV("aabbccddee01", "\"shelly1-X\"") ",\n", DEV("aabbccddee02", "\"SHELLY1-x\"")),
	    "f: line 3: devices[1]: id SHELLY1-x is the id of aabbccddee01 too");
	s = temp_store(dir, path, sizeof path);
	assert_int_equal(
	    apply_json(s, J2(DEV("aabbccddee01", "\"shelly1-X\""), ""), 0, why, sizeof why), 0);
	/* merge: the registered device keeps its id, so the newcomer cannot have it */
	assert_int_equal(
	    apply_json(s, J2(DEV("aabbccddee02", "\"shelly1-X\""), ""), 0, why, sizeof why), -1);
	assert_non_null(strstr(
	    why, "device aabbccddee02 has id shelly1-X, the id of registered device aabbccddee01"));
	/* nor when the file names the registered one but keeps its id (null) */
	assert_int_equal(
	    apply_json(s,
	        J2(DEV("aabbccddee01", "null") ",\n", DEV("aabbccddee02", "\"shelly1-X\"")), 0, why,
	        sizeof why),
	    -1);
	/* the file gives the registered one another id, or replace removes it: fine */
	assert_int_equal(apply_json(s,
	                     J2(DEV("aabbccddee01", "\"shelly1-Y\"") ",\n",
	                         DEV("aabbccddee02", "\"shelly1-X\"")),
	                     0, why, sizeof why),
	    0);
	assert_int_equal(
	    apply_json(s, J2(DEV("aabbccddee03", "\"shelly1-X\""), ""), 1, why, sizeof why), 0);
	store_free(s);
	remove_db(dir);
}

/* A poller's write that lands while the export reads (done by the trace hook below). */
struct late_write {
	const char *path;
	int done;
};

/*
 * When the export starts reading the settings, another connection registers a device and
 * names it, as a poller would between two of the export's statements.
 */
static int
late_write_cb(unsigned type, void *arg, void *p, void *x)
{
	struct late_write *w = arg;
	sqlite3 *other = NULL;

	(void)type;
	if (w->done || strstr(sqlite3_sql(p), "FROM settings") == NULL)
		return 0;
	(void)x;
	w->done = 1;
	assert_int_equal(sqlite3_open(w->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other,
	                     "INSERT INTO devices (mac, gen, host, port) VALUES "
	                     "('aabbccddee99', 2, '10.0.0.99', 80);"
	                     "INSERT INTO settings (key, value) VALUES "
	                     "('device-name:aabbccddee99', 'Late');",
	                     NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(other);
	return 0;
}

/* One export is one read snapshot: a write between its reads is in none of its parts. */
static void
test_export_snapshot(void **state)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64], why[256];
	struct export_opts o = {
	    .format = EXPORT_JSON, .now_ms = 1, .templates_dir = "/nonexistent"};
	struct late_write w = {path, 0};
	struct store *s = NULL;
	struct strbuf out;
	char *cause = NULL;

	(void)state;
	strbuf_init(&out);
	s = temp_store(dir, path, sizeof path);
	assert_int_equal(
	    apply_json(s, J2(DEV("aabbccddee01", "\"shelly1-X\""), ""), 0, why, sizeof why), 0);
	sqlite3_trace_v2(
	    store_sqlite_conn(store_backend_handle(s)), SQLITE_TRACE_STMT, late_write_cb, &w);
	if (export_render(s, &o, &out, NULL, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(w.done, 1);
	assert_non_null(strstr(strbuf_str(&out), "aabbccddee01"));
	assert_null(strstr(strbuf_str(&out), "aabbccddee99"));
	/* the write did land: the next export has the device and its name */
	strbuf_reset(&out);
	if (export_render(s, &o, &out, NULL, &cause) != 0)
		fail_msg("%s", cause);
	assert_non_null(strstr(strbuf_str(&out), "\"device-name:aabbccddee99\": \"Late\""));
	assert_non_null(strstr(strbuf_str(&out), "\"mac\": \"aabbccddee99\""));
	sqlite3_trace_v2(store_sqlite_conn(store_backend_handle(s)), 0, NULL, NULL);
	strbuf_done(&out);
	store_free(s);
	remove_db(dir);
}

/* The CSV state column: each device's latest stored state, none for one never polled. */
static void
test_export_csv_state(void **state)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64], why[256];
	struct export_opts o = {.format = EXPORT_CSV, .now_ms = 1, .columns = "mac,state"};
	struct store_status st = {.ts_ms = 1000};
	struct store *s = NULL;
	struct strbuf out;
	char *cause = NULL;

	(void)state;
	strbuf_init(&out);
	s = temp_store(dir, path, sizeof path);
	assert_int_equal(
	    apply_json(s,
	        J2(DEV("aabbccddee01", "\"a\"") ",\n" DEV("aabbccddee02", "\"b\"") ",\n",
	            DEV("aabbccddee03", "\"c\"")),
	        0, why, sizeof why),
	    0);
	strcpy(st.mac, "aabbccddee03");
	st.state = "offline";
	assert_int_equal(store_queue_status(s, &st), 0);
	strcpy(st.mac, "aabbccddee02");
	st.state = "online";
	assert_int_equal(store_queue_status(s, &st), 0);
	if (store_flush(s, &cause) != 0)
		fail_msg("%s", cause);
	if (export_render(s, &o, &out, NULL, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(strbuf_str(&out),
	    "mac,state\r\naabbccddee01,\r\naabbccddee02,online\r\naabbccddee03,offline\r\n");
	strbuf_done(&out);
	store_free(s);
	remove_db(dir);
}

#define V2 "format = \"shelly-tui-fleet\"\nformat_version = 2\n[devices.aabbccddeeff]\n"

/* The configuration sections of version 2: accepted, and each error names line and field. */
static void
test_import_config(void **state)
{
	struct import_doc *d = NULL;
	char *cause = NULL;
	const char *good = V2 "[groups.g]\ntemplate = \"t\"\nfields = \"sys.timezone = UTC\\n\"\n"
	                      "members = [\"aabbccddeeff\"]\n[templates]\nt = \"cloud.enabled = "
	                      "false\\n\"\n[configs.aabbccddeeff]\ndesired = \"sntp.server = x\"\n"
	                      "[configs.aabbccddeeff.actual]\ngen = 2\ncfg_rev = 3\nbody = \"\"\n";

	(void)state;
	assert_int_equal(import_parse("f", good, strlen(good), &d, &cause), 0);
	import_doc_free(d);
	import_rejects("format = \"shelly-tui-fleet\"\nformat_version = 1\n[groups.g]\n",
	    "f: line 3: groups: unknown section");
	import_rejects(V2 "[groups.\"@g\"]\n", "f: line 4: groups.@g: a group name");
	import_rejects(V2 "[groups.g]\nmembers = [\"aabbccddee00\"]\n",
	    "f: line 5: groups.g.members: aabbccddee00 is not a device of this file");
	import_rejects(V2 "[groups.g]\ncolour = 1\n", "f: line 5: groups.g.colour: unknown field");
	import_rejects(V2 "[templates]\nt = \"\\nnope = 1\"\n", "f: line 5: templates.t: line 2: ");
	import_rejects(
	    V2 "[configs.aabbccddee00]\n", "f: line 4: configs.aabbccddee00: aabbccddee00 is not");
	import_rejects(V2 "[configs.aabbccddeeff.actual]\ngen = 2\n",
	    "configs.aabbccddeeff.actual.body: missing");
	import_rejects(V2 "[configs.aabbccddeeff.actual]\ncfg_rev = \"x\"\nbody = \"\"\n",
	    "f: line 5: configs.aabbccddeeff.actual.cfg_rev: expected a number");
}

#define V3 "format = \"shelly-tui-fleet\"\nformat_version = 3\n[devices.aabbccddeeff]\n"
#define SNAP(ts, body) "ts_ms = " #ts "\ngen = 2\nbody = \"" body "\"\n"
/* actual 3000 "c", history 2000 "b", 1000 "b" (two equal bodies) */
#define HISTORY                                                        \
	"[configs.aabbccddeeff.actual]\n" SNAP(                        \
	    3000, "c") "[[configs.aabbccddeeff.history]]\n" SNAP(2000, \
	    "b") "[[configs.aabbccddeeff.history]]\n" SNAP(1000, "b")

static int
ts_cb(const struct cfgstore_row *r, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 64, "%lld:%s ", (long long)r->ts_ms, r->body);
	return 0;
}

/* Applies doc to s; the snapshots of aabbccddeeff newest first as "ts:body ..." into out. */
static void
apply_history(struct store *s, const char *doc, char *out, size_t *added)
{
	struct import_doc *d = NULL;
	struct import_result res;
	char *cause = NULL;

	if (import_parse("f", doc, strlen(doc), &d, &cause) != 0)
		fail_msg("%s", cause);
	if (import_apply(s, d, 0, 0, &res, &cause) != 0)
		fail_msg("%s", cause);
	*added = res.snapshots;
	import_doc_free(d);
	out[0] = '\0';
	assert_int_equal(cfgstore_snapshots(s, "aabbccddeeff", 50, ts_cb, out, &cause), 0);
}

/* Version 3: the history restores oldest first, twice adds nothing, an older one stays out. */
static void
test_import_history(void **state)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64], out[512];
	struct store *s = NULL;
	size_t n = 0;

	(void)state;
	s = temp_store(dir, path, sizeof path);
	apply_history(s, V3 HISTORY, out, &n);
	assert_int_equal(n, 3);
	assert_string_equal(out, "3000:c 2000:b 1000:b ");
	apply_history(s, V3 HISTORY, out, &n);
	assert_string_equal(out, "3000:c 2000:b 1000:b ");
	/* a file whose newest snapshot is older than the stored one adds nothing */
	apply_history(s, V3 "[configs.aabbccddeeff.actual]\n" SNAP(2500, "x"), out, &n);
	assert_string_equal(out, "3000:c 2000:b 1000:b ");
	apply_history(s, V3 "[configs.aabbccddeeff.actual]\n" SNAP(4000, "d"), out, &n);
	assert_string_equal(out, "4000:d 3000:c 2000:b 1000:b ");
	store_free(s);
	remove_db(dir);

	import_rejects(V2 "[configs.aabbccddeeff.actual]\n" SNAP(
	                   3000, "c") "[[configs.aabbccddeeff.history]]\n" SNAP(2000, "b"),
	    "configs.aabbccddeeff.history: unknown field");
	import_rejects(V3 "[[configs.aabbccddeeff.history]]\n" SNAP(2000, "b"),
	    "configs.aabbccddeeff.history: a history needs the latest snapshot");
	import_rejects(V3 "[configs.aabbccddeeff.actual]\n" SNAP(
	                   3000, "c") "[[configs.aabbccddeeff.history]]\n" SNAP(4000, "b"),
	    "f: line 9: configs.aabbccddeeff.history[0].ts_ms: newer than the snapshot before");
	import_rejects(V3 "[configs.aabbccddeeff.actual]\ngen = 2\nbody = \"\"\n"
	                  "[[configs.aabbccddeeff.history]]\n" SNAP(4000, "b"),
	    "configs.aabbccddeeff.history: the latest snapshot (actual) needs its ts_ms");
	import_rejects(V3 "[configs.aabbccddeeff]\nhistory = 1\n",
	    "configs.aabbccddeeff.history: expected an array of snapshots");
	import_rejects(V3 "[configs.aabbccddeeff.actual]\n" SNAP(
	                   3000, "c") "[configs.aabbccddeeff]\nhistory = [1]\n",
	    "configs.aabbccddeeff.history[0]: expected a table");
}

/* The cfg_rev of every snapshot of aabbccddeeff, newest first, "-" for none, into out. */
static int
rev_cb(const struct cfgstore_row *r, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 32, r->has_rev ? "%g " : "- ", r->rev);
	return 0;
}

static void
revs_of(struct store *s, char *out)
{
	char *cause = NULL;

	out[0] = '\0';
	assert_int_equal(cfgstore_snapshots(s, "aabbccddeeff", 50, rev_cb, out, &cause), 0);
}

/* Exports s as format into out and checks that --import reads it back into a new store. */
static void
export_reads_back(struct store *s, enum export_format format, struct strbuf *out, char *revs)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64], why[256];
	struct export_opts o = {.format = format, .now_ms = 1, .templates_dir = "/nonexistent"};
	struct store *back = temp_store(dir, path, sizeof path);
	char *cause = NULL;

	strbuf_reset(out);
	if (export_render(s, &o, out, NULL, &cause) != 0)
		fail_msg("%s", cause);
	if (apply_json(back, strbuf_str(out), 0, why, sizeof why) != 0)
		fail_msg("%s", why);
	revs_of(back, revs);
	store_free(back);
	remove_db(dir);
}

/*
 * A cfg_rev that is no number (inf, -inf, nan: only by editing the database) is unknown: json
 * has no such numbers, so it is null there and left out of toml, and --import reads it (and a
 * toml inf an older export wrote) as unknown too.
 */
static void
test_export_rev_not_finite(void **state)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", dir2[] = "/tmp/test_exchange.XXXXXX";
	char path[64], why[256], revs[128];
	struct store *s = temp_store(dir, path, sizeof path);
	struct strbuf out;
	const char *p;
	char *cause = NULL;
	size_t n = 0;

	(void)state;
	strbuf_init(&out);
	assert_int_equal(apply_json(s, J2(DEV("aabbccddeeff", "null"), ""), 0, why, sizeof why), 0);
	for (int i = 1; i <= 4; i++) {
		char body[32];

		snprintf(body, sizeof body, "sys.name = n%d\n", i);
		assert_int_equal(
		    cfgstore_snapshot_add(s, "aabbccddeeff", i * 1000, 2, 1, i, NULL, body, &cause),
		    0);
	}
	assert_int_equal(store_sqlite_exec(s,
	                     "UPDATE config_snapshots SET cfg_rev = CASE ts WHEN 4000 THEN 1e999 "
	                     "WHEN 3000 THEN -1e999 WHEN 2000 THEN 'nan' ELSE cfg_rev END",
	                     &cause),
	    0);
	revs_of(s, revs);
	assert_string_equal(revs, "inf -inf nan 1 ");

	export_reads_back(s, EXPORT_JSON, &out, revs);
	assert_string_equal(revs, "- - - 1 ");
	for (p = strbuf_str(&out), n = 0; (p = strstr(p, "\"cfg_rev\": null")) != NULL; p++)
		n++;
	assert_int_equal(n, 3);
	export_reads_back(s, EXPORT_TOML, &out, revs);
	assert_string_equal(revs, "- - - 1 ");
	assert_null(strstr(strbuf_str(&out), "inf"));
	assert_null(strstr(strbuf_str(&out), "nan"));
	store_free(s);
	remove_db(dir);

	s = temp_store(dir2, path, sizeof path);
	apply_history(s,
	    V3 "[configs.aabbccddeeff.actual]\nts_ms = 2000\ncfg_rev = -inf\nbody = \"b\"\n"
	       "[[configs.aabbccddeeff.history]]\nts_ms = 1000\ncfg_rev = nan\nbody = \"a\"\n",
	    why, &n);
	assert_int_equal(n, 2);
	revs_of(s, revs);
	assert_string_equal(revs, "- - ");
	strbuf_done(&out);
	store_free(s);
	remove_db(dir2);
}

/* Secret fields (DCF_SECRET) leave a text on export and come back from the stored one. */
static void
test_secret_lines(void **state)
{
	const char *text = "# c\nsntp.server = x\n  wifi.sta.pass = \"a b\"\nmqtt.pass=y\n"
	                   "wifi.sta.ssid = n";
	char *strip, *kept;
	int had = 0;

	(void)state;
	strip = cfgdoc_strip_secrets(text, &had);
	assert_string_equal(strip, "# c\nsntp.server = x\nwifi.sta.ssid = n");
	assert_int_equal(had, 1);
	kept = cfgdoc_keep_secrets(strip, text);
	assert_string_equal(kept, "# c\nsntp.server = x\nwifi.sta.ssid = n\n  wifi.sta.pass = "
	                          "\"a b\"\nmqtt.pass=y\n");
	assert_null(cfgdoc_keep_secrets(strip, "sntp.server = z\n"));
	assert_null(cfgdoc_keep_secrets(strip, NULL));
	free(strip);
	free(kept);
	strip = cfgdoc_strip_secrets("sys.name = a\n", &had);
	assert_string_equal(strip, "sys.name = a\n");
	assert_int_equal(had, 0);
	free(strip);
}

/* Every way a template (a stored snapshot) can set a secret is a secret line to export: what
 * is left reads back without any secret field, and every other line stays. */
static void
test_secret_lines_as_read(void **state)
{
	const char *text = "sys.name = keep\n"
	                   "\v\f wifi.sta.pass=S3cr3t-vt\n"
	                   "wifi.sta1.pass\t\v= \"S3cr3t \\\"q\\\" \\\\\"\r\n"
	                   "\twifi.ap.pass = S3cr3t-tab  # c\n"
	                   "# mqtt.pass = comment\n"
	                   "mqtt.pass = S3cr3t-last";
	struct devconfig c;
	char *strip, *cause = NULL;
	int had = 0;

	(void)state;
	assert_int_equal(devconfig_template_parse(text, strlen(text), &c, &cause), 0);
	assert_int_equal(c.n, 5); /* the text is a template as it stands */
	devconfig_done(&c);
	strip = cfgdoc_strip_secrets(text, &had);
	assert_int_equal(had, 1);
	/* the comment names a secret field: it may hold an old password, so it stays home too */
	assert_string_equal(strip, "sys.name = keep\n");
	assert_int_equal(devconfig_template_parse(strip, strlen(strip), &c, &cause), 0);
	assert_int_equal(c.n, 1);
	devconfig_done(&c);
	free(strip);

	/* Lines the template reader refuses (an imported snapshot is stored as given, a template
	 * file is written by hand) stay home when they name a secret field in any spelling;
	 * valid lines of other fields stay whatever their value says, and so do refused lines
	 * that name no secret. */
	strip = cfgdoc_strip_secrets(
	    "sys.name = keep\nwifi.sta.pass S3cr3t-sp\n"
	    "wifi.sta1.pass\tS3cr3t-tab\nwifi.ap.pass S3cr3t x = y\n"
	    "mqtt.pass: S3cr3t-colon\n  mqtt.pass\nsys.name x\n"
	    "WIFI.STA.PASS = S3cr3t-upper\n\"mqtt.pass\" = \"S3cr3t-q\"\n"
	    "\"wifi.sta.pass\": \"S3cr3t-json\",\n# wifi.ap.pass = S3cr3t-old\n"
	    "wifi.sta.pass,S3cr3t-comma\n\xc2\xa0wifi.sta.pass = S3cr3t-nbsp\n"
	    "sys.name = a\rwifi.sta.pass = S3cr3t-cr\n[mqtt.pass] S3cr3t-b\n"
	    "sys.name = wifi.sta.pass\nmqtt.user = u\n",
	    &had);
	assert_int_equal(had, 1);
	assert_string_equal(
	    strip, "sys.name = keep\nsys.name x\nsys.name = wifi.sta.pass\nmqtt.user = u\n");
	assert_null(strstr(strip, "S3cr3t"));
	free(strip);
}

/* --import with --include-secrets keeps the stored secret lines of a template it replaces:
 * only valid ones, so that the file it writes reads as a template. */
static void
test_keep_secrets_valid_only(void **state)
{
	const char *stored = "sys.name = a\nmqtt.pass = S3cr3t-ok\nwifi.sta.pass: S3cr3t-bad\n"
	                     "# wifi.ap.pass = old\n";
	struct devconfig c;
	char *kept, *cause = NULL;

	(void)state;
	kept = cfgdoc_keep_secrets("sys.name = b\n", stored);
	assert_non_null(kept);
	assert_string_equal(kept, "sys.name = b\nmqtt.pass = S3cr3t-ok\n");
	assert_int_equal(devconfig_template_parse(kept, strlen(kept), &c, &cause), 0);
	devconfig_done(&c);
	free(kept);
	assert_null(cfgdoc_keep_secrets("sys.name = b\n", "wifi.sta.pass: S3cr3t-bad\n"));
}

/* Template files: a missing one is told apart (1), an oversized or binary one is refused
 * with the reason (the limit, or where the NUL byte is), a directory with the system's
 * reason (EISDIR), a good one is read whole. */
static void
test_text_read(void **state)
{
	char dir[] = "/tmp/test_exchange.XXXXXX", path[64], *out = NULL, *cause = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.tmpl", dir);
	assert_int_equal(cfgdoc_text_read(path, &out, &len, &cause), 1);
	assert_non_null(fp = fopen(path, "w"));
	for (int i = 0; i <= CFGDOC_TEXT_MAX / 16; i++)
		fputs("sys.name = abcd\n", fp);
	fclose(fp);
	assert_int_equal(cfgdoc_text_read(path, &out, &len, &cause), -1);
	assert_non_null(strstr(cause, "larger than 262144 bytes"));
	free(cause);
	assert_non_null(fp = fopen(path, "w"));
	fwrite("sys.name = a\0b\n", 1, 16, fp);
	fclose(fp);
	assert_int_equal(cfgdoc_text_read(path, &out, &len, &cause), -1);
	assert_non_null(strstr(cause, "NUL byte at offset 12"));
	free(cause);
	assert_non_null(fp = fopen(path, "w"));
	fputs("sys.name = a\n", fp);
	fclose(fp);
	assert_int_equal(cfgdoc_text_read(path, &out, &len, &cause), 0);
	assert_int_equal(len, 13);
	assert_string_equal(out, "sys.name = a\n");
	free(out);
	unlink(path);
	/* A directory opens but does not read: the system's reason is kept. */
	assert_int_equal(cfgdoc_text_read(dir, &out, &len, &cause), -1);
	assert_non_null(strstr(cause, strerror(EISDIR)));
	assert_non_null(strstr(cause, dir));
	free(cause);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_names_same_tail),
	    cmocka_unit_test(test_hosts_mapped_first),
	    cmocka_unit_test(test_dnsmasq_keywords),
	    cmocka_unit_test(test_left_out),
	    cmocka_unit_test(test_jsondoc),
	    cmocka_unit_test(test_import_errors),
	    cmocka_unit_test(test_import_connection),
	    cmocka_unit_test(test_import_ids),
	    cmocka_unit_test(test_import_cut_short),
	    cmocka_unit_test(test_export_snapshot),
	    cmocka_unit_test(test_export_csv_state),
	    cmocka_unit_test(test_import_config),
	    cmocka_unit_test(test_import_history),
	    cmocka_unit_test(test_export_rev_not_finite),
	    cmocka_unit_test(test_secret_lines),
	    cmocka_unit_test(test_secret_lines_as_read),
	    cmocka_unit_test(test_text_read),
	    cmocka_unit_test(test_keep_secrets_valid_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
