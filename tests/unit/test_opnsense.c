/*
 * integrations/opnsense: the URL the firewall is reached at (https only, host, port, path
 * prefix; credentials in the URL refused without echoing them) and the options checked before
 * any request (key, secret, alias name). The sync itself runs against a fake firewall in
 * tests/integration/opnsense_*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "integrations/opnsense.h"

static void
url_ok(const char *url, const char *host, uint16_t port, const char *prefix)
{
	char *h = NULL, *p = NULL, *cause = NULL;
	uint16_t n = 0;

	if (opnsense_parse_url(url, &h, &n, &p, &cause) != 0)
		fail_msg("%s: %s", url, cause);
	assert_string_equal(h, host);
	assert_int_equal(n, port);
	assert_string_equal(p, prefix);
	free(h);
	free(p);
}

static void
url_bad(const char *url, const char *want)
{
	char *h = NULL, *p = NULL, *cause = NULL;
	uint16_t n = 0;

	assert_int_equal(opnsense_parse_url(url, &h, &n, &p, &cause), -1);
	assert_null(h);
	assert_null(p);
	if (strstr(cause, want) == NULL)
		fail_msg("%s: cause \"%s\" lacks \"%s\"", url, cause, want);
	free(cause);
}

static void
test_url(void **state)
{
	char *cause = NULL;

	(void)state;
	url_ok("https://fw.example.net", "fw.example.net", 443, "");
	url_ok("https://10.0.0.1:8443/", "10.0.0.1", 8443, "");
	url_ok("HTTPS://[fd00::1]:444/opn/", "fd00::1", 444, "/opn");
	url_bad("http://10.0.0.1", "must start with https://");
	url_bad("https://", "is not https://");
	url_bad("https://10.0.0.1:0", "is not https://");
	url_bad("https://10.0.0.1:65536", "is not https://");
	url_bad("https://[fd00::1", "is not https://");
	url_bad("https://a b", "is not https://");
	url_bad("", "not set");
	url_bad("https://admin:hunter2@fw", "must not hold credentials");
	assert_int_equal(opnsense_parse_url("https://admin:hunter2@fw", &(char *){NULL},
	                     &(uint16_t){0}, &(char *){NULL}, &cause),
	    -1);
	assert_null(strstr(cause, "hunter2"));
	free(cause);
}

static void
done_cb(struct opnsense_sync *sync, void *arg)
{
	(void)sync;
	(void)arg;
	fail_msg("no sync may start");
}

static void
test_options_refused(void **state)
{
	struct opnsense_options o = {.url = "https://127.0.0.1", .key = "k", .secret = "s"};
	char *cause = NULL;

	(void)state;
	o.secret = "";
	assert_null(opnsense_sync_start(NULL, NULL, &o, NULL, 0, 1, done_cb, NULL, &cause));
	assert_non_null(strstr(cause, "key and secret"));
	free(cause);
	o.secret = "s";
	o.alias = "9lives";
	assert_null(opnsense_sync_start(NULL, NULL, &o, NULL, 0, 1, done_cb, NULL, &cause));
	assert_non_null(strstr(cause, "opnsense-alias"));
	free(cause);
	o.alias = NULL;
	o.url = "http://127.0.0.1";
	assert_null(opnsense_sync_start(NULL, NULL, &o, NULL, 0, 1, done_cb, NULL, &cause));
	assert_non_null(strstr(cause, "https://"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_options_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
