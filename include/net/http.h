#ifndef NET_HTTP_H
#define NET_HTTP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Asynchronous HTTP client on libcurl's multi socket API, driven by util/loop.
 *
 * Scheduling: a global cap on transfers in flight (default 64) and per-lane limits. Every
 * request names a lane (a string such as a device MAC or "host:port") and a lane limit (1..3):
 * never more than that many requests of one lane are in flight, a lane's requests start in FIFO
 * order, and when a global slot frees the next lane with work is taken round-robin, so one slow
 * device never delays another.
 *
 * Completion: the callback is called exactly once per request, always from the loop (never
 * inside http_send or http_cancel). The one exception is http_free, which completes every
 * pending request with HTTP_CANCELLED synchronously, before it returns.
 *
 * TLS (https requests):
 *  - HTTP_TLS_VERIFY: the chain is verified against ca_file (NULL: the system store) and the
 *    host name or IP against the certificate.
 *  - HTTP_TLS_PIN: trust on first use. The pin is the SHA-256 of the peer certificate's public
 *    key (SubjectPublicKeyInfo, as curl's CURLOPT_PINNEDPUBLICKEY), written as 64 hex digits
 *    with or without colons. libcurl checks it right after the handshake, before any request
 *    byte (and so any credential) is sent; a mismatch is HTTP_TLS_ERROR with the cause
 *    "certificate changed: expected AA:BB:..., got CC:DD:...". With no pin (first contact)
 *    any certificate is accepted and the response reports the pin to store.
 *  - HTTP_TLS_INSECURE: no verification at all; only on explicit opt-in, logged once per lane.
 * Every https response reports the peer's public key pin and certificate fingerprint.
 *
 * Not done on purpose: redirects (never followed), proxies (never used), connection reuse (one
 * request per connection, as Shelly devices close anyway), cookies, compression.
 */
struct loop;
struct http;

/* All results, named once: HTTP_OK .. ; rpc_error and bad_json are set by higher layers. */
#define HTTP_RESULTS(X)                                                                        \
	X(OK, "ok")                                                                            \
	X(TIMEOUT, "timeout")                                                                  \
	X(REFUSED, "refused")                                                                  \
	X(RESET, "reset")                                                                      \
	X(UNREACHABLE, "unreachable")                                                          \
	X(TLS_ERROR, "tls_error")                                                              \
	X(AUTH_REQUIRED, "auth_required")                                                      \
	X(AUTH_FAILED, "auth_failed")                                                          \
	X(STATUS, "http_status")                                                               \
	X(RPC_ERROR, "rpc_error")                                                              \
	X(BAD_JSON, "bad_json")                                                                \
	X(TRUNCATED, "truncated")                                                              \
	X(TOO_LARGE, "too_large")                                                              \
	X(CANCELLED, "cancelled")                                                              \
	X(REFUSED_BY_GUARD, "refused_by_guard")                                                \
	X(ERROR, "error") /* anything else (bad request, bad reply); cause says what */

enum http_result {
#define HTTP_RESULT_ENUM(id, name) HTTP_##id,
	HTTP_RESULTS(HTTP_RESULT_ENUM)
#undef HTTP_RESULT_ENUM
	HTTP_RESULT_COUNT
};

enum http_method { HTTP_GET, HTTP_POST };
/* HTTP_AUTH_BEARER sends password as "Authorization: Bearer ..." (user unused). */
enum http_auth { HTTP_AUTH_NONE, HTTP_AUTH_BASIC, HTTP_AUTH_DIGEST, HTTP_AUTH_BEARER };
enum http_tls { HTTP_TLS_VERIFY, HTTP_TLS_PIN, HTTP_TLS_INSECURE };

#define HTTP_DEFAULT_MAX_INFLIGHT 64
#define HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_LANE_LIMIT 2
#define HTTP_MAX_LANE_LIMIT 3

/*
 * What to send; filled by the caller (zero-initialise, then set what you need). http_send
 * copies everything, so the caller's strings may go away as soon as it returns.
 */
struct http_request {
	enum http_method method;
	int https;                   /* 0: http://, 1: https:// */
	const char *host;            /* IPv4/IPv6 literal (no brackets) or a name */
	uint16_t port;               /* 0: 80 or 443 */
	const char *path;            /* "/..." with query, printable ASCII, already encoded */
	const char *body;            /* POST body (JSON); may be NULL */
	size_t body_len;
	const char *lane;            /* lane key; NULL: "host:port" */
	int lane_limit;              /* 1..3; 0: HTTP_DEFAULT_LANE_LIMIT; the latest wins */
	uint32_t connect_timeout_ms; /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
	uint32_t timeout_ms;         /* whole transfer, from its start; 0: HTTP_DEFAULT_TIMEOUT_MS */
	size_t max_body;             /* response size cap; 0: HTTP_DEFAULT_MAX_BODY */
	enum http_auth auth;
	const char *user;            /* with auth != NONE */
	const char *password;        /* never logged; wiped from memory when the request ends */
	enum http_tls tls;           /* https only */
	const char *ca_file;         /* HTTP_TLS_VERIFY: PEM bundle; NULL: system default */
	const char *pin_sha256;      /* HTTP_TLS_PIN: expected public key pin; NULL: first contact */
};

/* What came back; valid only during the completion callback (copy what you keep). */
struct http_response {
	uint64_t id;
	enum http_result result;
	long status;              /* HTTP status of the final response, 0 if none */
	const char *body;         /* never NULL, NUL-terminated; also for non-2xx answers */
	size_t body_len;
	const char *cause;        /* never NULL; "" for HTTP_OK, a person-readable reason otherwise */
	uint64_t elapsed_ms;      /* from http_send to completion, queueing included */
	uint64_t queued_ms;       /* of which waiting for a lane or global slot */
	const char *pin_sha256;   /* https: peer public key pin "AA:BB:..." (64 hex), else NULL */
	const char *cert_sha256;  /* https: peer certificate fingerprint "AA:BB:...", else NULL */
	const char *primary_ip;   /* address connected to, NULL if never connected */
	uint16_t primary_port;
	const char *lane;
};

typedef void (*http_done_cb)(const struct http_response *resp, void *arg);

/* Guard: returns non-zero to allow a request to host. */
/*
 * Whether a request to host may go out: 0 refused, HTTP_ALLOW_ANY, or (a name such as
 * localhost that resolves to both) HTTP_ALLOW_IPV4 / HTTP_ALLOW_IPV6: resolved to that family
 * only. The values are util/guard.h's (guard_families_cb is such a callback).
 */
#define HTTP_ALLOW_ANY 1
#define HTTP_ALLOW_IPV4 2
#define HTTP_ALLOW_IPV6 3
typedef int (*http_allow_cb)(const char *host, void *arg);

struct http_stats {
	uint64_t in_flight;
	uint64_t queued;
	uint64_t lanes;                         /* lanes with work */
	uint64_t completed[HTTP_RESULT_COUNT];  /* by result, since http_new */
};

/* Returns the name of a result ("ok", "timeout", ...); "unknown" when out of range. */
const char *http_result_name(enum http_result result);

/*
 * curl_global_init for a process that speaks only http and https: libcurl's SSH library
 * (libssh2, linked by Debian's libcurl) is initialised first without its crypto set-up, which
 * would otherwise bring in most of OpenSSL's libcrypto (about 1.5 MB resident). Call once, in
 * main, before any thread. Returns 0, or -1 when libcurl fails to initialise.
 */
int http_global_init(void);
/* Returns a new client on loop (http_global_init must have run, once, in main); caller frees. */
struct http *http_new(struct loop *loop);
/* Completes every pending request with HTTP_CANCELLED (callbacks run inside; http_send from
 * them returns 0), then frees. Never call it from a completion callback of the same client. */
void http_free(struct http *http);
/* Sets the global cap on transfers in flight (>= 1; default 64). */
void http_set_max_inflight(struct http *http, int max);
/* Installs the network guard: requests to hosts it refuses complete with REFUSED_BY_GUARD. */
void http_set_allow(struct http *http, http_allow_cb allow, void *arg);

/* Queues a request; cb(resp, arg) is called once from the loop, also for invalid requests
 * (HTTP_ERROR) and guard refusals. Returns its id (never 0, except during http_free). */
uint64_t http_send(struct http *http, const struct http_request *req, http_done_cb cb, void *arg);
/* Cancels a request whose callback has not run yet (queued, running, or completed but not yet
 * delivered): its callback comes from the loop with HTTP_CANCELLED. Returns 0, or -1 if id is
 * unknown, already delivered or already cancelled. */
int http_cancel(struct http *http, uint64_t id);

/*
 * 1 when a WWW-Authenticate value (h, len bytes, not NUL-terminated) holds a digest challenge
 * libcurl could answer with less than SHA-256: a Digest challenge without SHA-256 or
 * SHA-512-256 (none means MD5), or "digest" or "algorithm" inside a quoted string, where
 * libcurl's scan of the line may find a challenge. Such a challenge is never answered.
 */
int http_digest_weak(const char *h, size_t len);

/* Fills stats with the current counters. */
void http_get_stats(const struct http *http, struct http_stats *stats);

#endif
