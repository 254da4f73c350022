/*
 * Asynchronous HTTP client: libcurl's multi socket API (CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION, curl_multi_socket_action) on util/loop, with a fair scheduler in
 * front of it.
 *
 * Life of a request: http_send copies it into a struct req, checks it (bad input and the guard
 * complete it at once through the done queue), and appends it to its lane's FIFO. pump() starts
 * requests while global slots are free, taking lanes round-robin from the ready ring (lanes that
 * have queued work and are below their limit). A finished transfer is classified, its lane and
 * global slot are released, and it moves to the done queue. flush() runs the callbacks; it is
 * only called from loop callbacks (curl socket/timer events and the kick timer), so completion
 * callbacks never run inside http_send or http_cancel.
 *
 * TLS pinning uses CURLOPT_PINNEDPUBLICKEY (libcurl compares the SHA-256 of the peer's
 * SubjectPublicKeyInfo right after the handshake, before sending the request), and
 * CURLOPT_CERTINFO to report the peer certificate (parsed with GnuTLS, the TLS library libcurl's
 * GnuTLS flavour and libmicrohttpd already load, so that the process maps one TLS library) in
 * every https response.
 */
#include "net/http.h"

#include "util/guard.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* ---- a small chained hash table: string keys (lanes, warned lanes) or ids (requests) ---- */

struct hnode {
	struct hnode *next;
	uint64_t hash;
	const char *key; /* NULL for id-keyed nodes */
};

struct htab {
	struct hnode **b;
	size_t nb;
	size_t n;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
hash_slot(uint64_t hash, size_t nb)
{
	hash ^= hash >> 33;
	hash *= 0xff51afd7ed558ccdULL;
	hash ^= hash >> 33;
	return (size_t)(hash & (nb - 1));
}

static struct hnode *
htab_find(const struct htab *t, uint64_t hash, const char *key)
{
	struct hnode *n;

	if (t->nb == 0)
		return NULL;
	for (n = t->b[hash_slot(hash, t->nb)]; n != NULL; n = n->next) {
		if (n->hash != hash)
			continue;
		if (key == NULL || (n->key != NULL && strcmp(n->key, key) == 0))
			return n;
	}
	return NULL;
}

static void
htab_add(struct htab *t, struct hnode *n)
{
	size_t i;

	if (t->n >= t->nb) {
		size_t nb = t->nb ? t->nb * 2 : 64;
		struct hnode **b = xcalloc(nb, sizeof *b);

		for (i = 0; i < t->nb; i++) {
			while (t->b[i] != NULL) {
				struct hnode *m = t->b[i];
				size_t j = hash_slot(m->hash, nb);

				t->b[i] = m->next;
				m->next = b[j];
				b[j] = m;
			}
		}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	i = hash_slot(n->hash, t->nb);
	n->next = t->b[i];
	t->b[i] = n;
	t->n++;
}

static void
htab_del(struct htab *t, struct hnode *n)
{
	struct hnode **p;

	if (t->nb == 0)
		return;
	for (p = &t->b[hash_slot(n->hash, t->nb)]; *p != NULL; p = &(*p)->next) {
		if (*p == n) {
			*p = n->next;
			t->n--;
			return;
		}
	}
}

/* ---- types ---- */

enum req_state { REQ_QUEUED, REQ_RUNNING, REQ_DONE };

struct lane;

struct req {
	struct hnode node; /* first: by id */
	struct http *http;
	uint64_t id;
	enum req_state state;
	struct lane *lane;
	TAILQ_ENTRY(req) entry; /* lane queue, or done queue */
	http_done_cb cb;
	void *arg;

	/* The request, copied. */
	enum http_method method;
	bool https;
	int allow; /* what the allow callback said: HTTP_ALLOW_* (0: no callback) */
	char *host;
	uint16_t port;
	char *path;
	char *body;
	size_t body_len;
	char *lane_key;
	int lane_limit;
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;
	size_t max_body;
	enum http_auth auth;
	char *user;
	char *password;
	enum http_tls tls;
	char *ca_file;
	char *pin_hex;  /* normalised "AA:BB:..." */
	char *pin_curl; /* "sha256//<base64>" */

	/* The transfer. */
	CURL *easy;
	struct curl_slist *headers;
	char *errbuf; /* CURL_ERROR_SIZE bytes once started: a queued request has none */
	char *buf;
	size_t len, cap;
	bool too_large;
	bool weak_digest; /* a digest challenge weaker than SHA-256: stopped, nothing answered */
	uint64_t t_send, t_start, t_done;

	/* The outcome. */
	enum http_result result;
	long status;
	char *cause;
	char *pin_seen;
	char *cert_seen;
	char *primary_ip;
	uint16_t primary_port;
};

struct lane {
	struct hnode node; /* first: by key */
	char *key;
	int limit;
	int inflight;
	size_t queued;
	TAILQ_HEAD(, req) queue;
	bool in_ready;
	TAILQ_ENTRY(lane) ready_entry;
};

struct sock {
	struct http *http;
	curl_socket_t fd;
	struct loop_watch *watch;
	LIST_ENTRY(sock) entry;
};

struct warned {
	struct hnode node;
	char key[];
};

/* Easy handles kept for reuse (one per transfer a poll keeps in flight at most, by default). */
#define HTTP_SPARE_EASY 64

struct http {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer *curl_timer;
	struct loop_timer *kick;
	struct htab lanes, reqs, warned;
	TAILQ_HEAD(, lane) ready;
	TAILQ_HEAD(, req) done;
	LIST_HEAD(, sock) socks;
	uint64_t next_id;
	int max_inflight;
	uint64_t inflight, queued, nlanes;
	uint64_t completed[HTTP_RESULT_COUNT];
	http_allow_cb allow;
	void *allow_arg;
	bool flushing;
	bool freeing;
	CURL *spare[HTTP_SPARE_EASY]; /* finished handles, reset, for the next transfers */
	int nspare;
};

static const char *const http_result_names[] = {
#define HTTP_RESULT_NAME(id, name) name,
	HTTP_RESULTS(HTTP_RESULT_NAME)
#undef HTTP_RESULT_NAME
};

const char *
http_result_name(enum http_result result)
{
	return str_table_name(http_result_names, HTTP_RESULT_COUNT, (int)result);
}

static void pump(struct http *http);
static void flush(struct http *http);

/* ---- lanes ---- */

static struct lane *
lane_get(struct http *http, const char *key)
{
	uint64_t h = hash_str(key);
	struct hnode *n = htab_find(&http->lanes, h, key);
	struct lane *lane;

	if (n != NULL)
		return (struct lane *)n;
	lane = xcalloc(1, sizeof *lane);
	lane->key = xstrdup(key);
	lane->node.hash = h;
	lane->node.key = lane->key;
	lane->limit = HTTP_DEFAULT_LANE_LIMIT;
	TAILQ_INIT(&lane->queue);
	htab_add(&http->lanes, &lane->node);
	http->nlanes++;
	return lane;
}

/* Puts the lane on the ready ring if it can start something, frees it when idle. */
static void
lane_update(struct http *http, struct lane *lane)
{
	bool ready = lane->queued > 0 && lane->inflight < lane->limit;

	if (ready && !lane->in_ready) {
		TAILQ_INSERT_TAIL(&http->ready, lane, ready_entry);
		lane->in_ready = true;
	} else if (!ready && lane->in_ready) {
		TAILQ_REMOVE(&http->ready, lane, ready_entry);
		lane->in_ready = false;
	}
	if (lane->queued == 0 && lane->inflight == 0) {
		htab_del(&http->lanes, &lane->node);
		http->nlanes--;
		free(lane->key);
		free(lane);
	}
}

/* ---- requests ---- */

static void
req_free(struct req *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	if (r->password != NULL) {
		/* What an authenticated exchange carried may be secret too (a claimed task's key). */
		explicit_bzero(r->password, strlen(r->password));
		free(r->password);
		if (r->buf != NULL)
			explicit_bzero(r->buf, r->cap);
		if (r->body != NULL)
			explicit_bzero(r->body, r->body_len);
	}
	free(r->host);
	free(r->path);
	free(r->body);
	free(r->lane_key);
	free(r->user);
	free(r->ca_file);
	free(r->pin_hex);
	free(r->pin_curl);
	free(r->buf);
	free(r->cause);
	free(r->pin_seen);
	free(r->cert_seen);
	free(r->primary_ip);
	free(r->errbuf);
	free(r);
}

/* Moves r to the done queue with result and cause (taken); the kick timer flushes it. */
static void
req_complete(struct req *r, enum http_result result, char *cause)
{
	struct http *http = r->http;

	r->result = result;
	free(r->cause);
	r->cause = cause;
	r->state = REQ_DONE;
	r->t_done = loop_update_now(http->loop);
	TAILQ_INSERT_TAIL(&http->done, r, entry);
	if (!loop_timer_armed(http->kick))
		loop_timer_arm(http->kick, 0);
}

/*
 * A finished transfer's handle, for the next request: curl_easy_reset drops every option
 * (URL, credentials, pin, CA, callbacks) and the authentication state, keeping allocations
 * that an init and a cleanup per request redid. Connections are never reused
 * (CURLOPT_FORBID_REUSE, CURLOPT_FRESH_CONNECT), nor TLS sessions.
 */
static void
easy_put(struct http *http, CURL *e)
{
	if (http->freeing || http->nspare == HTTP_SPARE_EASY) {
		curl_easy_cleanup(e);
		return;
	}
	curl_easy_reset(e);
	http->spare[http->nspare++] = e;
}

static CURL *
easy_get(struct http *http)
{
	return http->nspare > 0 ? http->spare[--http->nspare] : curl_easy_init();
}

/* Releases the lane and global slot of a running request and drops its transfer. */
static void
req_stop_transfer(struct req *r)
{
	struct http *http = r->http;
	struct lane *lane = r->lane;

	curl_multi_remove_handle(http->multi, r->easy);
	easy_put(http, r->easy);
	r->easy = NULL;
	http->inflight--;
	lane->inflight--;
	r->lane = NULL;
	lane_update(http, lane);
}

static void
req_unqueue(struct req *r)
{
	struct http *http = r->http;
	struct lane *lane = r->lane;

	TAILQ_REMOVE(&lane->queue, r, entry);
	lane->queued--;
	http->queued--;
	r->lane = NULL;
	lane_update(http, lane);
}

/* Hex "AA:BB:..." of a digest; caller frees. */
static char *
hex_colons(const unsigned char *md, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s = xmalloc(n * 3 + 1);

	for (size_t i = 0; i < n; i++) {
		s[i * 3] = digits[md[i] >> 4];
		s[i * 3 + 1] = digits[md[i] & 15];
		s[i * 3 + 2] = ':';
	}
	s[n ? n * 3 - 1 : 0] = '\0';
	return s;
}

/* Base64 (RFC 4648, padded) of a 32-byte digest into out[45], as CURLOPT_PINNEDPUBLICKEY takes it. */
static void
base64_32(const unsigned char md[32], char out[45])
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < 32; i += 3) {
		uint32_t v = (uint32_t)md[i] << 16 | (i + 1 < 32 ? (uint32_t)md[i + 1] << 8 : 0) |
		             (i + 2 < 32 ? md[i + 2] : 0);

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < 32 ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < 32 ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Parses a SHA-256 pin (64 hex digits, colons allowed anywhere between pairs) into md. */
static int
pin_parse(const char *s, unsigned char md[32])
{
	size_t n = 0;

	while (*s != '\0') {
		int hi, lo;

		if (*s == ':') {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || n == 32)
			return -1;
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0' : (tolower((unsigned char)s[0]) - 'a' + 10);
		lo = isdigit((unsigned char)s[1]) ? s[1] - '0' : (tolower((unsigned char)s[1]) - 'a' + 10);
		md[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return n == 32 ? 0 : -1;
}

static bool
host_valid(const char *host)
{
	size_t len = strlen(host);

	if (len == 0 || len > 253)
		return false;
	for (const char *p = host; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr(".-:_%", *p) == NULL)
			return false;
	}
	return true;
}

static bool
path_valid(const char *path)
{
	if (path[0] != '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	}
	return true;
}

/* Returns the URL for r; caller frees. IPv6 literals get brackets, a zone's '%' becomes %25. */
static char *
req_url(const struct req *r)
{
	const char *scheme = r->https ? "https" : "http";
	char *host, *url;

	if (strchr(r->host, ':') != NULL) {
		const char *pct = strchr(r->host, '%');

		if (pct != NULL)
			host = xasprintf("[%.*s%%25%s]", (int)(pct - r->host), r->host, pct + 1);
		else
			host = xasprintf("[%s]", r->host);
	} else
		host = xstrdup(r->host);
	url = xasprintf("%s://%s:%u%s", scheme, host, r->port, r->path);
	free(host);
	return url;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct req *r = userdata;
	size_t n = size * nmemb;

	if (n > r->max_body - r->len) {
		r->too_large = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < r->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (cap > r->max_body + 1)
			cap = r->max_body + 1;
		if (r->password != NULL && r->buf != NULL) {
			char *grown = xmalloc(cap); /* an authenticated answer may hold secrets */

			memcpy(grown, r->buf, r->len);
			explicit_bzero(r->buf, r->cap);
			free(r->buf);
			r->buf = grown;
		} else
			r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	memcpy(r->buf + r->len, ptr, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

/* 1 when word (lower case) occurs in p (n bytes) in any case. */
static int
has_word(const char *p, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++)
		if (strncasecmp(p + i, word, w) == 0)
			return 1;
	return 0;
}

/* 1 when the algorithm value v (len bytes, unquoted) is SHA-256 or SHA-512-256 (RFC 7616). */
static int
digest_alg_strong(const char *v, size_t len)
{
	static const char *const strong[] = {"SHA-256", "SHA-256-sess", "SHA-512-256",
	    "SHA-512-256-sess"};

	for (size_t i = 0; i < sizeof strong / sizeof strong[0]; i++)
		if (len == strlen(strong[i]) && strncasecmp(v, strong[i], len) == 0)
			return 1;
	return 0;
}

int
http_digest_weak(const char *h, size_t len)
{
	int digest = 0, strong = 0, weak = 0;
	size_t i = 0;

	while (i < len && !weak) {
		size_t start = i, end;

		if (h[i] == '"') { /* a quoted string: skipped, but it may not hide a challenge */
			for (i++; i < len && h[i] != '"'; i++)
				if (h[i] == '\\')
					i++;
			end = i < len ? i : len;
			weak = has_word(h + start, end - start, "digest") ||
			       has_word(h + start, end - start, "algorithm");
			i++;
			continue;
		}
		if (strchr(" \t,=", h[i]) != NULL) {
			i++;
			continue;
		}
		while (i < len && strchr(" \t,=\"", h[i]) == NULL)
			i++;
		if (i - start == 6 && strncasecmp(h + start, "Digest", 6) == 0) {
			weak = digest && !strong; /* the challenge before it */
			digest = 1;
			strong = 0;
		} else if (i - start == 9 && strncasecmp(h + start, "algorithm", 9) == 0 && i < len &&
		           h[i] == '=') {
			size_t v = ++i, vend;

			if (v < len && h[v] == '"') {
				for (vend = ++v; vend < len && h[vend] != '"'; vend++)
					;
				i = vend + 1;
			} else {
				for (vend = v; vend < len && strchr(" \t,\r\n", h[vend]) == NULL; vend++)
					;
				i = vend;
			}
			if (digest_alg_strong(h + v, vend - v))
				strong = 1;
			else
				weak = 1;
		}
	}
	return weak || (digest && !strong);
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct req *r = userdata;
	size_t n = size * nitems;

	/* A Gen2+ device asks for SHA-256 digest: a weaker challenge is never answered (the
	 * transfer stops here, before libcurl sends its answer). */
	if (r->auth == HTTP_AUTH_DIGEST && n > 17 && strncasecmp(buf, "WWW-Authenticate:", 17) == 0 &&
	    http_digest_weak(buf + 17, n - 17)) {
		r->weak_digest = true;
		return 0;
	}

	/* A new status line: the body so far (of a 401 before digest, say) is not the answer. */
	if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		r->len = 0;
		if (r->buf != NULL)
			r->buf[0] = '\0';
	}
	return n;
}

#define HTTP_RECV_BUFFER 4096L

#define SETOPT(opt, val)                                                                       \
	do {                                                                                   \
		if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK) {                        \
			what = #opt;                                                           \
			goto fail;                                                             \
		}                                                                              \
	} while (0)

/* The credentials and TLS options of r on e; on failure *what names the option. */
static CURLcode
req_security(const struct req *r, CURL *e, const char **what_out)
{
	CURLcode rc = CURLE_OK;
	const char *what = "";

	if (r->auth == HTTP_AUTH_BEARER) {
		SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		SETOPT(CURLOPT_XOAUTH2_BEARER, r->password);
	} else if (r->auth != HTTP_AUTH_NONE) {
		SETOPT(CURLOPT_HTTPAUTH,
		    r->auth == HTTP_AUTH_BASIC ? (long)CURLAUTH_BASIC : (long)CURLAUTH_DIGEST);
		SETOPT(CURLOPT_USERNAME, r->user);
		SETOPT(CURLOPT_PASSWORD, r->password);
	}

	if (r->https) {
		SETOPT(CURLOPT_CERTINFO, 1L);
		SETOPT(CURLOPT_SSL_SESSIONID_CACHE, 0L);
		switch (r->tls) {
		case HTTP_TLS_VERIFY:
			SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
			SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
			/* A CA file given is the only trust: the system store is not consulted. */
			if (r->ca_file != NULL) {
				SETOPT(CURLOPT_CAINFO, r->ca_file);
				SETOPT(CURLOPT_CAPATH, NULL);
			}
			break;
		case HTTP_TLS_PIN:
		case HTTP_TLS_INSECURE:
			/* No CA checks: without these two NULLs libcurl's GnuTLS backend still
			 * parses the whole system store (hundreds of files) on every handshake. */
			SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
			SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
			SETOPT(CURLOPT_CAINFO, NULL);
			SETOPT(CURLOPT_CAPATH, NULL);
			if (r->tls == HTTP_TLS_PIN && r->pin_curl != NULL)
				SETOPT(CURLOPT_PINNEDPUBLICKEY, r->pin_curl);
			break;
		}
	}
	return CURLE_OK;

fail:
	*what_out = what;
	return rc;
}

/* Creates the easy handle of r and adds it to the multi handle; -1 with *cause on failure. */
static int
req_start(struct req *r, char **cause)
{
	struct http *http = r->http;
	CURL *e;
	CURLcode rc = CURLE_OK;
	CURLMcode mrc;
	const char *what = "";
	char *url;

	if (r->errbuf == NULL)
		r->errbuf = xcalloc(1, CURL_ERROR_SIZE);
	e = r->easy = easy_get(http);
	if (e == NULL) {
		*cause = xstrdup("curl_easy_init failed");
		return -1;
	}
	url = req_url(r);
	rc = curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	if (rc != CURLE_OK) {
		what = "CURLOPT_URL";
		goto fail;
	}
	SETOPT(CURLOPT_PRIVATE, r);
	SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	/* A name the guard allows over one family only (localhost) is resolved to that one. */
	SETOPT(CURLOPT_IPRESOLVE, r->allow == HTTP_ALLOW_IPV4   ? (long)CURL_IPRESOLVE_V4
	                          : r->allow == HTTP_ALLOW_IPV6 ? (long)CURL_IPRESOLVE_V6
	                                                        : (long)CURL_IPRESOLVE_WHATEVER);
	/* Device hosts are address literals: a DNS cache only costs (curl 7.88 prunes it on
	 * every finished transfer, which grows with the square of a 10,000-device fleet). */
	SETOPT(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_PROXY, "");
	SETOPT(CURLOPT_NOPROXY, "*");
	SETOPT(CURLOPT_FORBID_REUSE, 1L);
	SETOPT(CURLOPT_FRESH_CONNECT, 1L);
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_USERAGENT, "shelly-tui");
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)r->connect_timeout_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
	/* Device replies are a few KiB (a status 1-2 KiB): curl's 16 KiB receive buffer per
	 * transfer in flight would be 1 MiB of heap at 64 in flight; 4 KiB is 256 KiB. */
	SETOPT(CURLOPT_BUFFERSIZE, HTTP_RECV_BUFFER);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, r);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, r);

	if (r->method == HTTP_POST) {
		r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
		r->headers = curl_slist_append(r->headers, "Expect:");
		if (r->headers == NULL) {
			*cause = xstrdup("out of memory");
			return -1;
		}
		SETOPT(CURLOPT_HTTPHEADER, r->headers);
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		SETOPT(CURLOPT_POSTFIELDS, r->body);
	} else
		SETOPT(CURLOPT_HTTPGET, 1L);

	if ((rc = req_security(r, e, &what)) != CURLE_OK)
		goto fail;

	mrc = curl_multi_add_handle(http->multi, e);
	if (mrc != CURLM_OK) {
		*cause = xasprintf("curl_multi_add_handle: %s", curl_multi_strerror(mrc));
		return -1;
	}
	return 0;

fail:
	*cause = xasprintf("curl_easy_setopt %s: %s", what, curl_easy_strerror(rc));
	return -1;
}

#undef SETOPT

/* Reads the leaf certificate from CURLINFO_CERTINFO: its public key pin and fingerprint. */
static void
req_read_cert(struct req *r)
{
	struct curl_certinfo *ci = NULL;
	const char *pem = NULL;
	struct curl_slist *s;
	unsigned char md[32];
	size_t mdlen;
	gnutls_x509_crt_t x;
	gnutls_datum_t d;

	if (curl_easy_getinfo(r->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return;
	for (s = ci->certinfo[0]; s != NULL; s = s->next) {
		if (strncmp(s->data, "Cert:", 5) == 0) {
			pem = s->data + 5;
			break;
		}
	}
	if (pem == NULL || gnutls_x509_crt_init(&x) < 0)
		return;
	d.data = (unsigned char *)pem;
	d.size = (unsigned)strlen(pem);
	if (gnutls_x509_crt_import(x, &d, GNUTLS_X509_FMT_PEM) == 0) {
		mdlen = sizeof md;
		if (gnutls_x509_crt_get_fingerprint(x, GNUTLS_DIG_SHA256, md, &mdlen) == 0)
			r->cert_seen = hex_colons(md, mdlen);
		/* The key id with SHA-256 is the digest of the DER SubjectPublicKeyInfo: the pin. */
		mdlen = sizeof md;
		if (gnutls_x509_crt_get_key_id(x, GNUTLS_KEYID_USE_SHA256, md, &mdlen) == 0)
			r->pin_seen = hex_colons(md, mdlen);
	}
	gnutls_x509_crt_deinit(x);
}

static bool
curl_is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return true;
	default:
		return false;
	}
}

/* Classifies a finished transfer and completes r. */
static void
req_finished(struct req *r, CURLcode rc)
{
	const char *detail =
	    r->errbuf != NULL && r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(rc);
	enum http_result result = HTTP_ERROR;
	char *cause = NULL;
	char *ip = NULL;
	long status = 0, oserr = 0, port = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
	if (curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL &&
	    ip[0] != '\0')
		r->primary_ip = xstrdup(ip);
	if (curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK && port > 0 &&
	    port <= 65535)
		r->primary_port = (uint16_t)port;
	if (r->https)
		req_read_cert(r);
	r->status = status;

	if (r->weak_digest) {
		result = HTTP_ERROR;
		cause = xasprintf("%s:%u: the device asks for digest authentication weaker than "
		                  "SHA-256 (Shelly uses SHA-256); credentials not sent",
		    r->host, r->port);
	} else if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		result = HTTP_TOO_LARGE;
		cause = xasprintf("%s:%u: response larger than %zu bytes", r->host, r->port,
		    r->max_body);
	} else if (rc == CURLE_OK) {
		if (status >= 200 && status <= 299)
			result = HTTP_OK;
		else if (status == 401 && r->auth == HTTP_AUTH_NONE) {
			result = HTTP_AUTH_REQUIRED;
			cause = xasprintf("%s:%u: authentication required (HTTP 401)", r->host,
			    r->port);
		} else if (status == 401) {
			result = HTTP_AUTH_FAILED;
			cause = xasprintf("%s:%u: authentication failed for user %s (HTTP 401)",
			    r->host, r->port, r->user);
		} else {
			result = HTTP_STATUS;
			cause = xasprintf("%s:%u: HTTP %ld", r->host, r->port, status);
		}
	} else if (rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		result = HTTP_TLS_ERROR;
		cause = xasprintf("%s:%u: certificate changed: expected %s, got %s", r->host,
		    r->port, r->pin_hex != NULL ? r->pin_hex : "?",
		    r->pin_seen != NULL ? r->pin_seen : "an unreadable certificate");
	} else {
		switch (rc) {
		case CURLE_OPERATION_TIMEDOUT:
			result = HTTP_TIMEOUT;
			break;
		case CURLE_COULDNT_CONNECT:
			result = oserr == ECONNREFUSED ? HTTP_REFUSED : HTTP_UNREACHABLE;
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
			result = HTTP_UNREACHABLE;
			break;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_GOT_NOTHING:
			result = HTTP_RESET;
			break;
		case CURLE_PARTIAL_FILE:
			result = HTTP_TRUNCATED;
			break;
		default:
			result = curl_is_tls_error(rc) ? HTTP_TLS_ERROR : HTTP_ERROR;
			break;
		}
		cause = xasprintf("%s:%u: %s", r->host, r->port, detail);
	}
	log_debug("http %llu %s:%u lane %s: %s status %ld", (unsigned long long)r->id, r->host,
	    r->port, r->lane_key, http_result_name(result), status);
	req_stop_transfer(r);
	req_complete(r, result, cause);
}

/* ---- curl glue ---- */

static void
after_curl(struct http *http)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(http->multi, &left)) != NULL) {
		CURLcode rc = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv != NULL)
			req_finished((struct req *)(void *)priv, rc);
	}
	pump(http);
	flush(http);
}

static void
sock_event_cb(int fd, int events, void *arg)
{
	struct http *http = arg;
	int flags = 0, running;

	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(http->multi, fd, flags, &running);
	after_curl(http);
}

static int
curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http *http = userp;
	struct sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			loop_watch_free(s->watch);
			LIST_REMOVE(s, entry);
			free(s);
			curl_multi_assign(http->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= LOOP_READ;
	if (what & CURL_POLL_OUT)
		events |= LOOP_WRITE;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->http = http;
		s->fd = fd;
		s->watch = loop_watch_new(http->loop, fd, events, sock_event_cb, http);
		LIST_INSERT_HEAD(&http->socks, s, entry);
		curl_multi_assign(http->multi, fd, s);
	} else
		loop_watch_set(s->watch, events);
	return 0;
}

static int
curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *http = userp;

	(void)multi;
	if (timeout_ms < 0)
		loop_timer_disarm(http->curl_timer);
	else {
		loop_update_now(http->loop);
		loop_timer_arm(http->curl_timer, (uint64_t)timeout_ms);
	}
	return 0;
}

static void
curl_timeout_cb(void *arg)
{
	struct http *http = arg;
	int running;

	curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	after_curl(http);
}

static void
kick_cb(void *arg)
{
	struct http *http = arg;

	pump(http);
	flush(http);
}

/* ---- scheduling ---- */

/* Starts queued requests while global slots are free, one per lane in round-robin order. */
static void
pump(struct http *http)
{
	while (http->inflight < (uint64_t)http->max_inflight && !TAILQ_EMPTY(&http->ready)) {
		struct lane *lane = TAILQ_FIRST(&http->ready);
		struct req *r = TAILQ_FIRST(&lane->queue);
		char *cause = NULL;

		/* To the back of the ring; lane_update below re-adds it if it has more. */
		TAILQ_REMOVE(&http->ready, lane, ready_entry);
		lane->in_ready = false;
		TAILQ_REMOVE(&lane->queue, r, entry);
		lane->queued--;
		http->queued--;
		r->t_start = loop_update_now(http->loop);
		if (req_start(r, &cause) == -1) {
			if (r->easy != NULL) {
				curl_easy_cleanup(r->easy);
				r->easy = NULL;
			}
			r->lane = NULL;
			lane_update(http, lane);
			req_complete(r, HTTP_ERROR, cause);
			continue;
		}
		r->state = REQ_RUNNING;
		lane->inflight++;
		http->inflight++;
		lane_update(http, lane);
	}
}

/* Runs the callbacks of completed requests; only from loop callbacks. */
static void
flush(struct http *http)
{
	struct req *r;

	if (http->flushing)
		return;
	http->flushing = true;
	while ((r = TAILQ_FIRST(&http->done)) != NULL) {
		struct http_response resp;

		TAILQ_REMOVE(&http->done, r, entry);
		htab_del(&http->reqs, &r->node);
		http->completed[r->result]++;
		memset(&resp, 0, sizeof resp);
		resp.id = r->id;
		resp.result = r->result;
		resp.status = r->status;
		resp.body = r->buf != NULL ? r->buf : "";
		resp.body_len = r->buf != NULL ? r->len : 0;
		resp.cause = r->cause != NULL ? r->cause : "";
		resp.elapsed_ms = r->t_done - r->t_send;
		resp.queued_ms = (r->t_start ? r->t_start : r->t_done) - r->t_send;
		resp.pin_sha256 = r->pin_seen;
		resp.cert_sha256 = r->cert_seen;
		resp.primary_ip = r->primary_ip;
		resp.primary_port = r->primary_port;
		resp.lane = r->lane_key;
		if (r->cb != NULL)
			r->cb(&resp, r->arg);
		req_free(r);
	}
	http->flushing = false;
}

/* ---- public ---- */

int
http_global_init(void)
{
	int (*ssh2_init)(int);

	/* libssh2_init counts its callers and sets up crypto only on the first call, unless that
	 * call passes LIBSSH2_INIT_NO_CRYPTO (1); libcurl's own call then finds it done. Looked up
	 * at run time: libcurl builds without libssh2 need no such step. */
	*(void **)&ssh2_init = dlsym(RTLD_DEFAULT, "libssh2_init");
	if (ssh2_init != NULL)
		ssh2_init(1);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

struct http *
http_new(struct loop *loop)
{
	struct http *http = xcalloc(1, sizeof *http);

	http->loop = loop;
	http->multi = curl_multi_init();
	if (http->multi == NULL) {
		log_error("curl_multi_init failed");
		free(http);
		return NULL;
	}
	http->curl_timer = loop_timer_new(loop, curl_timeout_cb, http);
	http->kick = loop_timer_new(loop, kick_cb, http);
	TAILQ_INIT(&http->ready);
	TAILQ_INIT(&http->done);
	LIST_INIT(&http->socks);
	http->next_id = 1;
	http->max_inflight = HTTP_DEFAULT_MAX_INFLIGHT;
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
	return http;
}

void
http_free(struct http *http)
{
	struct sock *s;

	if (http == NULL)
		return;
	http->freeing = true;
	/* Every pending request is cancelled; their callbacks run in the flush below. */
	for (size_t i = 0; i < http->reqs.nb; i++) {
		for (struct hnode *n = http->reqs.b[i]; n != NULL; n = n->next) {
			struct req *r = (struct req *)n;

			if (r->state == REQ_RUNNING) {
				req_stop_transfer(r);
				req_complete(r, HTTP_CANCELLED, xstrdup("client shut down"));
			} else if (r->state == REQ_QUEUED) {
				req_unqueue(r);
				req_complete(r, HTTP_CANCELLED, xstrdup("client shut down"));
			}
		}
	}
	flush(http);
	while (http->nspare > 0)
		curl_easy_cleanup(http->spare[--http->nspare]);
	curl_multi_cleanup(http->multi);
	while ((s = LIST_FIRST(&http->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		loop_watch_free(s->watch);
		free(s);
	}
	for (size_t i = 0; i < http->warned.nb; i++) {
		while (http->warned.b[i] != NULL) {
			struct hnode *n = http->warned.b[i];

			http->warned.b[i] = n->next;
			free(n);
		}
	}
	loop_timer_free(http->curl_timer);
	loop_timer_free(http->kick);
	free(http->lanes.b);
	free(http->reqs.b);
	free(http->warned.b);
	free(http);
}

void
http_set_max_inflight(struct http *http, int max)
{
	http->max_inflight = max < 1 ? 1 : max;
	pump(http);
}

void
http_set_allow(struct http *http, http_allow_cb allow, void *arg)
{
	http->allow = allow;
	http->allow_arg = arg;
}

static void
warn_insecure(struct http *http, const char *lane)
{
	uint64_t h = hash_str(lane);
	struct warned *w;
	size_t len;

	if (htab_find(&http->warned, h, lane) != NULL)
		return;
	len = strlen(lane);
	w = xmalloc(sizeof *w + len + 1);
	memcpy(w->key, lane, len + 1);
	w->node.hash = h;
	w->node.key = w->key;
	w->node.next = NULL;
	htab_add(&http->warned, &w->node);
	log_warn("TLS certificate verification disabled for %s (insecure mode)", lane);
}

/* Copies and checks req into r; returns NULL or a cause (caller frees). */
static char *
req_fill(struct req *r, const struct http_request *req)
{
	unsigned char md[32];

	r->method = req->method;
	r->https = req->https != 0;
	r->host = xstrdup(req->host != NULL ? req->host : "");
	r->port = req->port != 0 ? req->port : (r->https ? 443 : 80);
	r->path = xstrdup(req->path != NULL ? req->path : "");
	if (req->lane != NULL && req->lane[0] != '\0')
		r->lane_key = xstrdup(req->lane);
	else if (strchr(r->host, ':') != NULL)
		r->lane_key = xasprintf("[%s]:%u", r->host, r->port);
	else
		r->lane_key = xasprintf("%s:%u", r->host, r->port);
	r->lane_limit = req->lane_limit <= 0 ? HTTP_DEFAULT_LANE_LIMIT : req->lane_limit;
	if (r->lane_limit > HTTP_MAX_LANE_LIMIT)
		r->lane_limit = HTTP_MAX_LANE_LIMIT;
	r->connect_timeout_ms = req->connect_timeout_ms ? req->connect_timeout_ms :
	    HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	r->timeout_ms = req->timeout_ms ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	r->max_body = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
	if (r->max_body >= SIZE_MAX / 2)
		r->max_body = SIZE_MAX / 2;
	r->auth = req->auth;
	r->tls = req->tls;

	if (!host_valid(r->host))
		return xstrdup("invalid host");
	if (!path_valid(r->path))
		return xasprintf("%s:%u: invalid path", r->host, r->port);
	if (req->method != HTTP_GET && req->method != HTTP_POST)
		return xasprintf("%s:%u: invalid method", r->host, r->port);
	if (req->method == HTTP_POST) {
		if (req->body_len > 0 && req->body == NULL)
			return xasprintf("%s:%u: body missing", r->host, r->port);
		r->body = xmalloc(req->body_len + 1);
		if (req->body_len > 0)
			memcpy(r->body, req->body, req->body_len);
		r->body[req->body_len] = '\0';
		r->body_len = req->body_len;
	}
	if (req->auth != HTTP_AUTH_NONE) {
		if (req->auth != HTTP_AUTH_BASIC && req->auth != HTTP_AUTH_DIGEST &&
		    req->auth != HTTP_AUTH_BEARER)
			return xasprintf("%s:%u: invalid auth", r->host, r->port);
		if ((req->user == NULL && req->auth != HTTP_AUTH_BEARER) || req->password == NULL)
			return xasprintf("%s:%u: credentials missing", r->host, r->port);
		r->user = xstrdup(req->user != NULL ? req->user : "");
		r->password = xstrdup(req->password);
	}
	if (r->https) {
		switch (req->tls) {
		case HTTP_TLS_VERIFY:
			if (req->ca_file != NULL)
				r->ca_file = xstrdup(req->ca_file);
			break;
		case HTTP_TLS_PIN:
			if (req->pin_sha256 == NULL)
				break;
			if (pin_parse(req->pin_sha256, md) == -1)
				return xasprintf("%s:%u: invalid certificate pin", r->host, r->port);
			{
				char b64[45];

				base64_32(md, b64);
				r->pin_curl = xasprintf("sha256//%s", b64);
			}
			r->pin_hex = hex_colons(md, 32);
			break;
		case HTTP_TLS_INSECURE:
			break;
		default:
			return xasprintf("%s:%u: invalid TLS mode", r->host, r->port);
		}
	}
	return NULL;
}

_Static_assert(HTTP_ALLOW_ANY == GUARD_ANY && HTTP_ALLOW_IPV4 == GUARD_IPV4 &&
                   HTTP_ALLOW_IPV6 == GUARD_IPV6 && GUARD_REFUSED == 0,
    "the allow callback's values are util/guard.h's");

uint64_t
http_send(struct http *http, const struct http_request *req, http_done_cb cb, void *arg)
{
	struct req *r;
	struct lane *lane;
	char *cause;

	if (http->freeing)
		return 0;
	r = xcalloc(1, sizeof *r);
	r->http = http;
	r->id = http->next_id++;
	r->node.hash = r->id;
	r->cb = cb;
	r->arg = arg;
	r->t_send = loop_update_now(http->loop);
	htab_add(&http->reqs, &r->node);

	if ((cause = req_fill(r, req)) != NULL) {
		req_complete(r, HTTP_ERROR, cause);
		return r->id;
	}
	if (http->allow != NULL && (r->allow = http->allow(r->host, http->allow_arg)) == 0) {
		req_complete(r, HTTP_REFUSED_BY_GUARD,
		    xasprintf("%s: address not allowed by the network guard", r->host));
		return r->id;
	}
	if (r->https && r->tls == HTTP_TLS_INSECURE)
		warn_insecure(http, r->lane_key);

	lane = lane_get(http, r->lane_key);
	lane->limit = r->lane_limit;
	r->lane = lane;
	r->state = REQ_QUEUED;
	TAILQ_INSERT_TAIL(&lane->queue, r, entry);
	lane->queued++;
	http->queued++;
	lane_update(http, lane);
	pump(http);
	return r->id;
}

int
http_cancel(struct http *http, uint64_t id)
{
	struct hnode *n = htab_find(&http->reqs, id, NULL);
	struct req *r = (struct req *)n;

	if (r == NULL || (r->state == REQ_DONE && r->result == HTTP_CANCELLED))
		return -1;
	if (r->state == REQ_DONE) {
		/* Completed (a guard refusal, a bad request, a transfer that ended this turn) but its
		 * callback has not run: its owner may be gone by then, so it hears cancelled too. */
		r->result = HTTP_CANCELLED;
		r->status = 0;
		free(r->cause);
		r->cause = xstrdup("cancelled"); /* r->host is NULL when req_fill refused it */
		return 0;
	}
	if (r->state == REQ_RUNNING)
		req_stop_transfer(r);
	else
		req_unqueue(r);
	req_complete(r, HTTP_CANCELLED, xasprintf("%s:%u: cancelled", r->host, r->port));
	pump(http);
	return 0;
}

void
http_get_stats(const struct http *http, struct http_stats *stats)
{
	memset(stats, 0, sizeof *stats);
	stats->in_flight = http->inflight;
	stats->queued = http->queued;
	stats->lanes = http->nlanes;
	memcpy(stats->completed, http->completed, sizeof stats->completed);
}
