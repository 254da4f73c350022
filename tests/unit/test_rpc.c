#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"

#include "shelly/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
check_describe(int code, const char *msg, const char *want)
{
	char *s = rpc_error_describe(code, msg);

	assert_string_equal(s, want);
	free(s);
}

static void
test_describe(void **state)
{
	(void)state;
	check_describe(-105, "Argument 'id', value 1 not found!",
	    "not found: the device has no such component (Argument 'id', value 1 not found!)");
	check_describe(-103, "Missing required 'id'",
	    "invalid argument: the device rejected a parameter of the request (Missing required 'id')");
	check_describe(-104, "http request timed out",
	    "deadline exceeded: the device gave up waiting (timeout) (http request timed out)");
	check_describe(-108, NULL,
	    "resource exhausted: a device limit was reached (too many items or requests)");
	check_describe(-109, "", "failed precondition: the device is not in a state that allows this");
	check_describe(-114, "Method Script.GetCode failed: Method not found!",
	    "unavailable: the device cannot do this now, or does not know the method (Method "
	    "Script.GetCode failed: Method not found!)");
	check_describe(401, NULL, "unauthorized: the device needs a password, or the one given is wrong");
	/* The JSON challenge a 401 frame carries is protocol data, not shown. */
	check_describe(401, "{\"auth_type\": \"digest\", \"nonce\": 1725185413}",
	    "unauthorized: the device needs a password, or the one given is wrong");
	check_describe(404, "No handler for Script.GetCode",
	    "no handler: the device does not support this method (No handler for Script.GetCode)");
	check_describe(-120, "odd", "device error -120 (odd)");
	check_describe(7, NULL, "device error 7");
	/* Device text is sanitised: no escape sequences or control characters reach a terminal. */
	check_describe(-105, "bad\x1b[2Jid\n", "not found: the device has no such component (badid)");
}

static void
test_describe_bounded(void **state)
{
	char big[4096];
	char *s;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = rpc_error_describe(-105, big);
	assert_true(strlen(s) < 300);
	free(s);
}

static void
test_table(void **state)
{
	static const int documented[] = {-103, -104, -105, -108, -109, -114, 401};
	size_t i, j;

	(void)state;
	assert_int_equal(rpc_error_count(), RPC_ERR__COUNT);
	assert_null(rpc_error_at(rpc_error_count()));
	for (i = 0; i < rpc_error_count(); i++) {
		const struct rpc_error_info *e = rpc_error_at(i);

		assert_ptr_equal(rpc_error_find(e->code), e);
		assert_true(e->name[0] != '\0' && e->meaning[0] != '\0');
		for (j = i + 1; j < rpc_error_count(); j++)
			assert_int_not_equal(e->code, rpc_error_at(j)->code);
	}
	for (i = 0; i < sizeof documented / sizeof documented[0]; i++) {
		const struct rpc_error_info *e = rpc_error_find(documented[i]);

		assert_non_null(e);
		assert_int_equal(e->source, RPC_ERROR_SRC_DOC);
	}
	assert_int_equal(rpc_error_find(404)->source, RPC_ERROR_SRC_SEEN);
	assert_null(rpc_error_find(0));
	assert_string_equal(rpc_error_find(-105)->name, "not found");
}

static void
check_parse_error_file(const char *path, int want_code, const char *want_msg)
{
	size_t len;
	char *body = fixture_slurp(path, &len);
	char *msg = NULL;
	int code = 0;

	assert_int_equal(rpc_parse_error(body, len, &code, &msg), 0);
	assert_int_equal(code, want_code);
	assert_string_equal(msg, want_msg);
	free(msg);
	free(body);
}

static void
test_parse_error_fixtures(void **state)
{
	(void)state;
	check_parse_error_file("tests/fixtures/errors/rpc-error-105_script-not-found.partial.json", -105,
	    "Argument 'id', value 1 not found!");
	check_parse_error_file("tests/fixtures/errors/rpc-error-114_method-not-found_wall-display.partial.json",
	    -114, "Method Script.GetCode failed: Method not found!");
	check_parse_error_file("tests/fixtures/errors/rpc-error-404_no-handler_xmod1.partial.json", 404,
	    "No handler for Script.GetCode");
	check_parse_error_file("tests/fixtures/errors/ws-rpc-error-401-auth-challenge_plus-2pm.json", 401,
	    "{\"auth_type\": \"digest\", \"nonce\": 1725185413, \"nc\": 1, \"realm\": "
	    "\"shellyplus2pm-485519992590\", \"algorithm\": \"SHA-256\"}");
}

static void
test_parse_error_not_errors(void **state)
{
	static const char *const bodies[] = {
	    "{\"id\": 19, \"src\": \"shellyplus2pm-485519992590\", \"dst\": \"x\", \"result\": null}",
	    "{\"was_on\":true}",
	    "null",
	    "",
	    "{\"code\":\"-105\",\"message\":\"x\"}",
	    "{\"code\":-105.5,\"message\":\"x\"}",
	    "{\"error\":null}",
	    "{\"error\":{\"message\":\"no code\"}}",
	    "[{\"code\":-105}]",
	    "{\"code\":-105,",
	    "not json",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		char *msg = (char *)"sentinel";
		int code = 1;

		assert_int_equal(rpc_parse_error(bodies[i], strlen(bodies[i]), &code, &msg), -1);
		assert_null(msg);
		assert_int_equal(code, 0);
	}
	/* An error without a message still parses; message is "". */
	{
		char *msg = NULL;
		int code = 0;

		const char *body = "{\"error\":{\"code\":-109}}";

		assert_int_equal(rpc_parse_error(body, strlen(body), &code, &msg), 0);
		assert_int_equal(code, -109);
		assert_string_equal(msg, "");
		free(msg);
	}
}

/* Finds the first WWW-Authenticate line of a capture (curl "< " prefixes are skipped). */
static char *
challenge_line(const char *path)
{
	size_t len;
	char *buf = fixture_slurp(path, &len), *p, *end, *line;

	p = strstr(buf, "WWW-Authenticate:");
	if (p == NULL)
		fail_msg("%s: no WWW-Authenticate header", path);
	end = strpbrk(p, "\r\n");
	if (end != NULL)
		*end = '\0';
	line = strdup(p);
	free(buf);
	return line;
}

static void
test_digest_fixtures(void **state)
{
	struct digest_challenge c;
	char *line;

	(void)state;
	line = challenge_line("tests/fixtures/errors/http-401-digest_plus-1pm_curl-trace.txt");
	assert_int_equal(rpc_parse_digest_challenge(line, &c), 0);
	assert_string_equal(c.realm, "shellyplus1pm-44179394d4d4");
	assert_string_equal(c.nonce, "603");
	assert_string_equal(c.qop, "auth");
	assert_string_equal(c.algorithm, "SHA-256");
	assert_true(c.qop_auth);
	assert_false(c.has_opaque);
	assert_false(c.stale);
	/* The header value alone parses the same way. */
	assert_int_equal(rpc_parse_digest_challenge(line + strlen("WWW-Authenticate:"), &c), 0);
	assert_string_equal(c.nonce, "603");
	free(line);

	line = challenge_line("tests/fixtures/errors/http-401-digest_pro-3em_curl-headers.txt");
	assert_int_equal(rpc_parse_digest_challenge(line, &c), 0);
	assert_string_equal(c.realm, "shellypro3em-ec62609773d8");
	assert_string_equal(c.nonce, "1694692867");
	assert_string_equal(c.algorithm, "SHA-256");
	assert_true(c.qop_auth);
	assert_false(c.has_opaque);
	free(line);

	/* Wall Display: realm first and an empty opaque that must be echoed. */
	line = challenge_line("tests/fixtures/errors/http-401-digest_wall-display_header.txt");
	assert_int_equal(rpc_parse_digest_challenge(line, &c), 0);
	assert_string_equal(c.realm, "ShellyWallDisplay-000822891495");
	assert_string_equal(c.nonce, "0b00ddda");
	assert_string_equal(c.qop, "auth");
	assert_string_equal(c.algorithm, "SHA-256");
	assert_true(c.has_opaque);
	assert_string_equal(c.opaque, "");
	free(line);
}

static void
test_digest_variants(void **state)
{
	struct digest_challenge c;

	(void)state;
	/* Firmware 2.0 base64 nonces end in '=': split on the first '=' only, quoted or not. */
	assert_int_equal(rpc_parse_digest_challenge("Digest realm=\"r\", nonce=YWJjZGVmZ2g=, qop=auth, "
						     "algorithm=SHA-256, stale=true",
			     &c),
	    0);
	assert_string_equal(c.nonce, "YWJjZGVmZ2g=");
	assert_string_equal(c.qop, "auth");
	assert_true(c.stale);
	assert_int_equal(rpc_parse_digest_challenge(
			     "digest nonce=\"YWJjZA==\",realm=shellyplus1-abc,stale=FALSE,opaque=\"o=1\"", &c),
	    0);
	assert_string_equal(c.nonce, "YWJjZA==");
	assert_string_equal(c.realm, "shellyplus1-abc");
	assert_string_equal(c.opaque, "o=1");
	assert_true(c.has_opaque);
	assert_false(c.stale);
	assert_false(c.qop_auth);
	assert_string_equal(c.algorithm, "");

	/* Spaces around '=', a qop list, escapes, unknown parameters, a trailing comma. */
	assert_int_equal(rpc_parse_digest_challenge("  Digest  realm = \"a \\\"q\\\" b\" , domain=\"/ /rpc\","
						     " qop=\"auth-int, auth\", charset=UTF-8,"
						     " nonce = \"n\", stale=\"TRUE\",",
			     &c),
	    0);
	assert_string_equal(c.realm, "a \"q\" b");
	assert_string_equal(c.nonce, "n");
	assert_true(c.qop_auth);
	assert_true(c.stale);
	/* qop=auth-int alone is not auth. */
	assert_int_equal(rpc_parse_digest_challenge("Digest realm=r, nonce=n, qop=\"auth-int\"", &c), 0);
	assert_false(c.qop_auth);
}

static void
test_digest_rejects(void **state)
{
	static const char *const bad[] = {
	    NULL,
	    "",
	    "Digest",
	    "Digest ",
	    "Basic realm=\"r\"",
	    "Digestive realm=r, nonce=n",
	    "Digest nonce=\"n\"",			/* no realm */
	    "Digest realm=\"r\"",			/* no nonce */
	    "Digest realm=\"r\", nonce=\"\"",		/* empty nonce */
	    "Digest realm=\"r\", nonce=\"n",		/* unterminated quote */
	    "Digest realm=\"r\", realm=\"s\", nonce=n",	/* repeated */
	    "Digest realm=\"r\" nonce=n",		/* missing comma */
	    "Digest realm, nonce=n",			/* no '=' */
	    "Digest =r, nonce=n",			/* no name */
	    "Digest realm=\"r\x01\", nonce=n",		/* control byte */
	    "Digest realm=r\"x, nonce=n",		/* stray quote */
	};
	struct digest_challenge c;
	char longer[600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&c, 0x55, sizeof c);
		if (rpc_parse_digest_challenge(bad[i], &c) != -1)
			fail_msg("accepted: %s", bad[i] ? bad[i] : "(null)");
		assert_string_equal(c.realm, "");
		assert_string_equal(c.nonce, "");
	}
	/* A nonce longer than the buffer is refused, not cut. */
	snprintf(longer, sizeof longer, "Digest realm=r, nonce=\"%0*d\"", DIGEST_NONCE_MAX, 0);
	assert_int_equal(rpc_parse_digest_challenge(longer, &c), -1);
	snprintf(longer, sizeof longer, "Digest realm=r, nonce=\"%0*d\"", DIGEST_NONCE_MAX - 1, 0);
	assert_int_equal(rpc_parse_digest_challenge(longer, &c), 0);
	assert_int_equal(strlen(c.nonce), DIGEST_NONCE_MAX - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_describe_bounded),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parse_error_fixtures),
		cmocka_unit_test(test_parse_error_not_errors),
		cmocka_unit_test(test_digest_fixtures),
		cmocka_unit_test(test_digest_variants),
		cmocka_unit_test(test_digest_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
