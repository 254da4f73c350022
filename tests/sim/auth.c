/*
 * Authentication like the devices: Gen1 HTTP basic; Gen2+ HTTP digest with SHA-256 (RFC 7616,
 * realm = device id, user admin) in four challenge styles, and the JSON-frame "auth" object of
 * the WebSocket channel. Nonces of the older styles encode their issue time (stateless); the
 * firmware-2.0 style (base64) also tracks nc per nonce in a small ring.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "sim.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define NONCE_RING 32

void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hx[] = "0123456789abcdef";

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		abort();
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

static void
sha256_join(char out[65], const char *const *parts, size_t n)
{
	struct buf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_add(&b, ":", 1);
		buf_adds(&b, parts[i]);
	}
	sha256_hex(b.p ? b.p : "", b.len, out);
	free(b.p);
}

static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const unsigned char *data, size_t len)
{
	size_t olen = (len + 2) / 3 * 4;
	char *out = xmalloc(olen + 1), *p = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
		*p++ = b64c[v >> 18];
		*p++ = b64c[(v >> 12) & 63];
		*p++ = b64c[(v >> 6) & 63];
		*p++ = b64c[v & 63];
	}
	if (i < len) {
		unsigned v =
		    (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0);
		*p++ = b64c[v >> 18];
		*p++ = b64c[(v >> 12) & 63];
		*p++ = i + 1 < len ? b64c[(v >> 6) & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	return out;
}

ssize_t
base64_decode(const char *s, unsigned char *out, size_t cap)
{
	unsigned v = 0;
	int bits = 0;
	size_t n = 0;

	for (; *s && *s != '='; s++) {
		const char *c = strchr(b64c, *s);
		if (!c || !*s)
			return -1;
		v = (v << 6) | (unsigned)(c - b64c);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -1;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return (ssize_t)n;
}

char *
auth_random_password(struct sim *sim)
{
	unsigned char r[6];
	char *out = xmalloc(13);

	if (RAND_bytes(r, sizeof r) != 1) {
		uint64_t x = sim_rand(sim);
		memcpy(r, &x, sizeof r);
	}
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return out;
}

void
auth_set_password(struct dev *d, const char *password)
{
	char *copy = xstrdup(password); /* password may be d->password itself */
	const char *parts[3] = {"admin", d->id, copy};

	free(d->password);
	d->password = copy;
	snprintf(d->user, sizeof d->user, "admin");
	sha256_join(d->ha1, parts, 3);
}

void
auth_set_ha1(struct dev *d, const char *ha1_hex)
{
	free(d->password);
	d->password = NULL;
	snprintf(d->user, sizeof d->user, "admin");
	snprintf(d->ha1, sizeof d->ha1, "%s", ha1_hex);
	for (char *p = d->ha1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* --- digest nonces --- */

static int64_t
wall_s(void)
{
	return loop_wall_ms() / 1000;
}

static uint64_t
sim_s(const struct dev *d)
{
	return (loop_now_ms(d->sim->loop) - d->sim->start_ms) / 1000 + 1;
}

static void
make_nonce(struct dev *d, char out[40])
{
	switch (d->digest) {
	case SIM_DIGEST_HEX:
		snprintf(out, 40, "%llx", (unsigned long long)(sim_s(d) + 0x100));
		break;
	case SIM_DIGEST_DECIMAL:
		snprintf(out, 40, "%lld", (long long)wall_s());
		break;
	case SIM_DIGEST_WALL:
		snprintf(out, 40, "%08llx", (unsigned long long)wall_s() & 0xffffffffull);
		break;
	case SIM_DIGEST_B64:
	default: {
		unsigned char raw[16];
		uint64_t t = (uint64_t)loop_wall_ms();
		uint32_t idx = (uint32_t)d->index;
		uint32_t r = (uint32_t)sim_rand(d->sim);
		char *b;
		for (int i = 0; i < 8; i++)
			raw[i] = (unsigned char)(t >> (56 - 8 * i));
		for (int i = 0; i < 4; i++) {
			raw[8 + i] = (unsigned char)(idx >> (24 - 8 * i));
			raw[12 + i] = (unsigned char)(r >> (24 - 8 * i));
		}
		b = base64_encode(raw, sizeof raw); /* 24 chars ending in "==" */
		snprintf(out, 40, "%s", b);
		free(b);
		break;
	}
	}
}

/* Is the nonce one this device issued within the lifetime? */
static bool
nonce_fresh(struct dev *d, const char *nonce)
{
	uint64_t ttl = d->sim->o.nonce_ttl_ms;
	char *end;

	switch (d->digest) {
	case SIM_DIGEST_HEX: {
		unsigned long long v = strtoull(nonce, &end, 16);
		uint64_t now = sim_s(d) + 0x100;
		if (*end || end == nonce || v > now)
			return false;
		return (now - v) * 1000 <= ttl;
	}
	case SIM_DIGEST_DECIMAL:
	case SIM_DIGEST_WALL: {
		long long v = d->digest == SIM_DIGEST_DECIMAL
		                  ? strtoll(nonce, &end, 10)
		                  : (long long)strtoull(nonce, &end, 16);
		long long now = wall_s();
		if (d->digest == SIM_DIGEST_WALL)
			now &= 0xffffffffll;
		if (*end || end == nonce || v > now + 1)
			return false;
		return (uint64_t)(now - v) * 1000 <= ttl;
	}
	case SIM_DIGEST_B64:
	default: {
		unsigned char raw[20];
		uint64_t t = 0;
		uint32_t idx = 0;
		if (base64_decode(nonce, raw, sizeof raw) != 16)
			return false;
		for (int i = 0; i < 8; i++)
			t = t << 8 | raw[i];
		for (int i = 0; i < 4; i++)
			idx = idx << 8 | raw[8 + i];
		uint64_t now = (uint64_t)loop_wall_ms();
		return idx == (uint32_t)d->index && t <= now + 1000 && now - t <= ttl;
	}
	}
}

/* Firmware 2.0 tracks nc per nonce: a repeated or lower nc is refused. */
static bool
nonce_nc_ok(struct dev *d, const char *nonce, uint32_t nc)
{
	if (d->digest != SIM_DIGEST_B64)
		return true;
	if (!d->nonces)
		d->nonces = xcalloc(NONCE_RING, sizeof *d->nonces);
	for (unsigned i = 0; i < NONCE_RING; i++) {
		struct nonce_rec *r = &d->nonces[i];
		if (strcmp(r->nonce, nonce) == 0) {
			if (nc <= r->last_nc)
				return false;
			r->last_nc = nc;
			return true;
		}
	}
	if (nc != 1)
		return false; /* first use of a nonce must be 00000001 */
	struct nonce_rec *r = &d->nonces[d->nonce_next++ % NONCE_RING];
	snprintf(r->nonce, sizeof r->nonce, "%s", nonce);
	r->last_nc = nc;
	return true;
}

static char *
challenge(struct dev *d, bool stale)
{
	char nonce[40];

	make_nonce(d, nonce);
	switch (d->digest) {
	case SIM_DIGEST_WALL:
		return xasprintf("Digest realm=\"%s\", qop=\"auth\", nonce=\"%s\", opaque=\"\", "
		                 "algorithm=SHA-256",
		    d->id, nonce);
	case SIM_DIGEST_B64:
		return xasprintf(
		    "Digest qop=\"auth\", realm=\"%s\", nonce=\"%s\", algorithm=SHA-256%s", d->id,
		    nonce, stale ? ", stale=true" : "");
	case SIM_DIGEST_HEX:
	case SIM_DIGEST_DECIMAL:
	default:
		return xasprintf(
		    "Digest qop=\"auth\", realm=\"%s\", nonce=\"%s\", algorithm=SHA-256", d->id,
		    nonce);
	}
}

/* --- Authorization header parsing --- */

struct dparams {
	char username[64], realm[128], nonce[64], uri[1024], response[80], qop[16], nc[16];
	char cnonce[128], algorithm[32], opaque[64];
	bool has_opaque;
};

static void
dp_store(struct dparams *p, const char *key, size_t klen, const char *val, size_t vlen)
{
	static const struct {
		const char *name;
		size_t off, cap;
	} f[] = {
#define F(n) {#n, offsetof(struct dparams, n), sizeof(((struct dparams *)0)->n)}
	    F(username),
	    F(realm),
	    F(nonce),
	    F(uri),
	    F(response),
	    F(qop),
	    F(nc),
	    F(cnonce),
	    F(algorithm),
	    F(opaque),
#undef F
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (strlen(f[i].name) == klen && strncasecmp(f[i].name, key, klen) == 0) {
			char *dst = (char *)p + f[i].off;
			if (vlen >= f[i].cap)
				vlen = f[i].cap - 1; /* too long: will not verify */
			memcpy(dst, val, vlen);
			dst[vlen] = '\0';
			if (strcmp(f[i].name, "opaque") == 0)
				p->has_opaque = true;
			return;
		}
	}
}

static bool
parse_digest(const char *h, struct dparams *p)
{
	memset(p, 0, sizeof *p);
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "Digest", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return false;
	h += 6;
	for (;;) {
		const char *k, *v;
		size_t kl, vl;
		char val[1024];
		while (*h == ' ' || *h == '\t' || *h == ',')
			h++;
		if (!*h)
			break;
		k = h;
		while (*h && *h != '=' && *h != ' ' && *h != ',')
			h++;
		kl = (size_t)(h - k);
		while (*h == ' ')
			h++;
		if (*h != '=')
			return false;
		h++;
		while (*h == ' ')
			h++;
		if (*h == '"') {
			size_t n = 0;
			h++;
			while (*h && *h != '"') {
				if (*h == '\\' && h[1])
					h++;
				if (n + 1 < sizeof val)
					val[n++] = *h;
				h++;
			}
			if (*h != '"')
				return false;
			h++;
			v = val;
			vl = n;
		} else {
			v = h;
			while (*h && *h != ',' && *h != ' ')
				h++;
			vl = (size_t)(h - v);
		}
		dp_store(p, k, kl, v, vl);
	}
	return true;
}

static void
url_decode_path(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && *in != '?' && n + 1 < cap; in++) {
		if (*in == '%' && isxdigit((unsigned char)in[1]) &&
		    isxdigit((unsigned char)in[2])) {
			char hx[3] = {in[1], in[2], 0};
			out[n++] = (char)strtol(hx, NULL, 16);
			in += 2;
		} else {
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

static bool
ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned diff = (unsigned)(la ^ lb);
	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned)(tolower((unsigned char)a[i]) ^ tolower((unsigned char)b[i]));
	return diff == 0;
}

enum verdict { V_OK, V_MISSING, V_WRONG, V_STALE };

static enum verdict
check_digest(struct dev *d, struct sim_req *req, const char *hdr)
{
	struct dparams p;
	char ha2[65], resp[65], path[1024];
	char *end;
	unsigned long nc;

	if (!hdr)
		return V_MISSING;
	if (!parse_digest(hdr, &p))
		return V_WRONG;
	if (strcmp(p.username, d->user) != 0 || strcmp(p.realm, d->id) != 0 ||
	    strcasecmp(p.algorithm, "SHA-256") != 0 || strcmp(p.qop, "auth") != 0 || !p.cnonce[0] ||
	    !p.nonce[0] || strlen(p.nc) != 8)
		return V_WRONG;
	if (d->digest == SIM_DIGEST_WALL && !p.has_opaque)
		return V_WRONG;
	nc = strtoul(p.nc, &end, 16);
	if (*end)
		return V_WRONG;
	url_decode_path(p.uri, path, sizeof path);
	if (strcmp(path, req->path) != 0)
		return V_WRONG;
	const char *a2[2] = {req->method, p.uri};
	sha256_join(ha2, a2, 2);
	const char *r[6] = {d->ha1, p.nonce, p.nc, p.cnonce, p.qop, ha2};
	sha256_join(resp, r, 6);
	if (!ct_equal(resp, p.response))
		return V_WRONG;
	if (!nonce_fresh(d, p.nonce) || !nonce_nc_ok(d, p.nonce, (uint32_t)nc))
		return V_STALE;
	return V_OK;
}

static enum verdict
check_basic(struct dev *d, const char *hdr)
{
	unsigned char raw[256];
	ssize_t n;
	char *colon;

	if (!hdr)
		return V_MISSING;
	while (*hdr == ' ')
		hdr++;
	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return V_WRONG;
	hdr += 6;
	while (*hdr == ' ')
		hdr++;
	n = base64_decode(hdr, raw, sizeof raw - 1);
	if (n < 0)
		return V_WRONG;
	raw[n] = '\0';
	colon = strchr((char *)raw, ':');
	if (!colon || !d->password)
		return V_WRONG;
	*colon = '\0';
	return ct_equal((char *)raw, d->user) && strcmp(colon + 1, d->password) == 0 ? V_OK
	                                                                             : V_WRONG;
}

bool
auth_check(struct dev *d, struct sim_req *req, const char *uri_path, struct reply *rep)
{
	enum verdict v;
	const char *hdr;

	if (!d->auth)
		return true;
	if (d->gen == 1 ? !gen1_protected(uri_path) : !gen2_protected(req))
		return true;
	hdr = req_header(req, "Authorization");
	v = d->gen == 1 ? check_basic(d, hdr) : check_digest(d, req, hdr);
	if (v == V_OK)
		return true;
	if (v == V_MISSING)
		d->c.auth_challenges++;
	else if (v == V_STALE)
		d->c.auth_stale++;
	else
		d->c.auth_failures++;
	reply_set(rep, 401, "application/json", xstrdup(""), 0);
	free(rep->www_auth);
	rep->www_auth =
	    d->gen == 1 ? xasprintf("Basic realm=\"%s\"", d->id) : challenge(d, v == V_STALE);
	log_debug("%s: 401 for %s %s (%s)", d->id, req->method, uri_path,
	    v == V_MISSING ? "no credentials"
	    : v == V_STALE ? "stale nonce"
	                   : "wrong credentials");
	return false;
}

/* A JSON number or string as the device's hashing input. */
static bool
frame_token(const cJSON *it, char *out, size_t cap)
{
	if (cJSON_IsNumber(it)) {
		snprintf(out, cap, "%.0f", it->valuedouble);
		return true;
	}
	if (cJSON_IsString(it)) {
		snprintf(out, cap, "%s", it->valuestring);
		return true;
	}
	return false;
}

bool
auth_check_frame(struct dev *d, const cJSON *auth)
{
	char nonce[40], cnonce[128], ha2[65], resp[65];
	const char *user = js_str(auth, "username"), *realm = js_str(auth, "realm");
	const char *response = js_str(auth, "response"), *alg = js_str(auth, "algorithm");
	char *end;

	if (!cJSON_IsObject(auth) || !user || !realm || !response ||
	    !frame_token(cJSON_GetObjectItemCaseSensitive(auth, "nonce"), nonce, sizeof nonce) ||
	    !frame_token(cJSON_GetObjectItemCaseSensitive(auth, "cnonce"), cnonce, sizeof cnonce))
		goto wrong;
	if (strcmp(user, d->user) != 0 || strcmp(realm, d->id) != 0 ||
	    (alg && strcasecmp(alg, "SHA-256") != 0))
		goto wrong;
	const char *a2[2] = {"dummy_method", "dummy_uri"};
	sha256_join(ha2, a2, 2);
	const char *r[6] = {d->ha1, nonce, "1", cnonce, "auth", ha2};
	sha256_join(resp, r, 6);
	if (!ct_equal(resp, response))
		goto wrong;
	long long v = strtoll(nonce, &end, 10);
	if (*end || v > wall_s() + 1 || (uint64_t)(wall_s() - v) * 1000 > d->sim->o.nonce_ttl_ms) {
		d->c.auth_stale++;
		return false;
	}
	return true;
wrong:
	d->c.auth_failures++;
	return false;
}

char *
auth_frame_challenge(struct dev *d)
{
	return xasprintf(
	    "{\"auth_type\": \"digest\", \"nonce\": %lld, \"nc\": 1, \"realm\": \"%s\", "
	    "\"algorithm\": \"SHA-256\"}",
	    (long long)wall_s(), d->id);
}
