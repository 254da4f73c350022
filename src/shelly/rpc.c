#include "shelly/rpc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Longest piece of a device's error message kept in a description (bytes). */
#define DEVICE_MESSAGE_MAX 200

static const struct rpc_error_info rpc_errors[] = {
#define RPC_ERROR_ENTRY(id, code, name, meaning, src) {code, name, meaning, RPC_ERROR_SRC_##src},
	RPC_ERRORS(RPC_ERROR_ENTRY)
#undef RPC_ERROR_ENTRY
};

const struct rpc_error_info *
rpc_error_find(int code)
{
	size_t i;

	for (i = 0; i < RPC_ERR__COUNT; i++) {
		if (rpc_errors[i].code == code)
			return &rpc_errors[i];
	}
	return NULL;
}

size_t
rpc_error_count(void)
{
	return RPC_ERR__COUNT;
}

const struct rpc_error_info *
rpc_error_at(size_t i)
{
	return i < RPC_ERR__COUNT ? &rpc_errors[i] : NULL;
}

char *
rpc_error_describe(int code, const char *device_message)
{
	const struct rpc_error_info *e = rpc_error_find(code);
	char *msg = str_sanitize(device_message, DEVICE_MESSAGE_MAX);
	char *out;

	/*
	 * A 401 over JSON frames carries the digest challenge as a JSON string
	 * ({"auth_type": "digest", "nonce": ...}): that is protocol data, not something to show.
	 */
	if (code == 401 && msg[0] == '{')
		msg[0] = '\0';
	if (e != NULL && msg[0] != '\0')
		out = xasprintf("%s: %s (%s)", e->name, e->meaning, msg);
	else if (e != NULL)
		out = xasprintf("%s: %s", e->name, e->meaning);
	else if (msg[0] != '\0')
		out = xasprintf("device error %d (%s)", code, msg);
	else
		out = xasprintf("device error %d", code);
	free(msg);
	return out;
}

/* Reads {"code": <integer>, "message": <string>?} into *code / *message. */
static int
error_object(const cJSON *err, int *code, char **message)
{
	long long c;

	if (!cJSON_IsObject(err))
		return -1;
	if (!cJSON_IsNumber(json_get(err, "code")) ||
	    json_get_int(err, "code", -2147483647LL - 1, 2147483647LL, &c) != 0)
		return -1;
	*code = (int)c;
	*message = str_sanitize(json_get_string(err, "message"), DEVICE_MESSAGE_MAX);
	return 0;
}

int
rpc_parse_error(const char *body, size_t len, int *code, char **message)
{
	cJSON *root;
	const cJSON *err;
	int rc = -1;

	*code = 0;
	*message = NULL;
	if (body == NULL || len == 0)
		return -1;
	root = json_parse(body, len, 0, NULL);
	if (root == NULL)
		return -1;
	err = json_get(root, "error");
	if (err != NULL)
		rc = error_object(err, code, message);
	else if (json_get(root, "result") == NULL)
		rc = error_object(root, code, message);
	cJSON_Delete(root);
	return rc;
}

/* Digest challenge parsing (RFC 7616 auth-params). */

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static int
is_token_char(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/*
 * Reads one value at *pp into buf[size] (buf NULL: skip it): a quoted-string (backslash escapes
 * the next byte) or an unquoted run up to ',' or white space ('=' allowed: token68 / base64).
 * Returns 0, or -1 if the value is too long, a quote is not closed or a control byte appears.
 */
static int
read_value(const char **pp, char *buf, size_t size)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (*p == '\0' || (unsigned char)*p < 0x20)
				return -1;
			if (buf != NULL && n + 1 >= size)
				return -1;
			if (buf != NULL)
				buf[n++] = *p;
		}
		p++;
	} else {
		for (; *p != '\0' && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' &&
		     *p != '\n';
		     p++) {
			if ((unsigned char)*p < 0x20 || *p == '"')
				return -1;
			if (buf != NULL && n + 1 >= size)
				return -1;
			if (buf != NULL)
				buf[n++] = *p;
		}
	}
	if (buf != NULL)
		buf[n] = '\0';
	*pp = p;
	return 0;
}

/* Returns 1 when the comma-separated list contains token (case-insensitive). */
static int
list_has(const char *list, const char *token)
{
	size_t tlen = strlen(token);
	const char *p = list;

	while (*p != '\0') {
		const char *end;
		size_t n;

		p = skip_ws(p);
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(p, token, tlen) == 0)
			return 1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

int
rpc_parse_digest_challenge(const char *header, struct digest_challenge *out)
{
	static const char prefix[] = "WWW-Authenticate:";
	const char *p;
	char name[32], stale[16];
	unsigned seen = 0;

	memset(out, 0, sizeof *out);
	if (header == NULL)
		return -1;
	p = skip_ws(header);
	if (strncasecmp(p, prefix, sizeof prefix - 1) == 0)
		p = skip_ws(p + sizeof prefix - 1);
	if (strncasecmp(p, "Digest", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return -1;
	p = skip_ws(p + 6);

	while (*p != '\0') {
		size_t n = 0;
		char *dst;
		size_t size;
		unsigned bit;

		while (is_token_char((unsigned char)*p)) {
			if (n + 1 >= sizeof name)
				goto fail;
			name[n++] = *p++;
		}
		name[n] = '\0';
		if (n == 0)
			goto fail;
		p = skip_ws(p);
		if (*p != '=')
			goto fail;
		p = skip_ws(p + 1);

		if (strcasecmp(name, "realm") == 0)
			dst = out->realm, size = sizeof out->realm, bit = 1u << 0;
		else if (strcasecmp(name, "nonce") == 0)
			dst = out->nonce, size = sizeof out->nonce, bit = 1u << 1;
		else if (strcasecmp(name, "qop") == 0)
			dst = out->qop, size = sizeof out->qop, bit = 1u << 2;
		else if (strcasecmp(name, "algorithm") == 0)
			dst = out->algorithm, size = sizeof out->algorithm, bit = 1u << 3;
		else if (strcasecmp(name, "opaque") == 0)
			dst = out->opaque, size = sizeof out->opaque, bit = 1u << 4;
		else if (strcasecmp(name, "stale") == 0)
			dst = stale, size = sizeof stale, bit = 1u << 5;
		else
			dst = NULL, size = 0, bit = 0; /* domain, charset, userhash...: skipped */
		if (seen & bit)
			goto fail;
		seen |= bit;
		if (read_value(&p, dst, size) != 0)
			goto fail;
		p = skip_ws(p);
		if (*p == ',')
			p = skip_ws(p + 1);
		else if (*p != '\0')
			goto fail;
	}

	if (!(seen & (1u << 0)) || !(seen & (1u << 1)) || out->nonce[0] == '\0')
		goto fail;
	out->has_opaque = (seen & (1u << 4)) != 0;
	out->qop_auth = list_has(out->qop, "auth");
	out->stale = (seen & (1u << 5)) && strcasecmp(stale, "true") == 0;
	return 0;
fail:
	memset(out, 0, sizeof *out);
	return -1;
}
