#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/httpd.h"
#include "server/metrics.h"
#include "util/loop.h"
#include "util/str.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BOUND_MS 30000 /* an upper bound for loaded machines and ASan; passing runs take ms */

/*
 * A raw HTTP client on the same loop as the server: connects, writes the request (as the
 * socket accepts it), reads until EOF, or until one complete response when keep_open is set.
 */
struct client {
	int fd;
	struct loop_watch *watch;
	const char *req;
	size_t req_len;
	size_t sent;
	bool connected;
	bool keep_open;
	struct strbuf resp;
	bool done;
};

/* Returns the body start in r and its declared length, or NULL if headers are incomplete. */
static const char *
resp_body(const char *r, long *content_length)
{
	const char *end = strstr(r, "\r\n\r\n"), *cl;

	*content_length = -1;
	if (end == NULL)
		return NULL;
	cl = strcasestr(r, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		*content_length = strtol(cl + 17, NULL, 10);
	return end + 4;
}

static void
client_cb(int fd, int events, void *arg)
{
	struct client *c = arg;
	char buf[16384];
	ssize_t n;

	if (!c->connected && (events & (LOOP_WRITE | LOOP_ERROR))) {
		int err = 0;
		socklen_t len = sizeof err;

		assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
		assert_int_equal(err, 0);
		c->connected = true;
	}
	while (c->connected && c->sent < c->req_len) {
		n = send(fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/* The server answered early and closed (e.g. 413): read what it sent. */
			c->sent = c->req_len;
			break;
		}
		c->sent += (size_t)n;
	}
	if (c->sent == c->req_len)
		loop_watch_set(c->watch, LOOP_READ);
	for (;;) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n > 0) {
			strbuf_append_len(&c->resp, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			break;
		c->done = true; /* EOF, or reset after the response */
		loop_watch_set(c->watch, 0);
		return;
	}
	if (c->keep_open) {
		long cl;
		const char *body = resp_body(strbuf_str(&c->resp), &cl);

		if (body != NULL && cl >= 0 &&
		    (size_t)(body - strbuf_str(&c->resp)) + (size_t)cl <= c->resp.len) {
			c->done = true;
			loop_watch_set(c->watch, 0);
		}
	}
}

/* A connected TCP socket to 127.0.0.1:port from the loopback address src (host order). */
static int
connect_from(uint32_t src, uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(src);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

static void
client_start_from(struct client *c, struct loop *loop, uint32_t src, uint16_t port,
    const char *req, size_t len)
{
	memset(c, 0, sizeof *c);
	strbuf_init(&c->resp);
	c->req = req;
	c->req_len = len;
	c->fd = connect_from(src, port);
	c->watch = loop_watch_new(loop, c->fd, LOOP_READ | LOOP_WRITE, client_cb, c);
}

static void
client_start(struct client *c, struct loop *loop, uint16_t port, const char *req, size_t len)
{
	client_start_from(c, loop, INADDR_ANY, port, req, len);
}

static void
client_done(struct client *c)
{
	loop_watch_free(c->watch);
	close(c->fd);
	strbuf_done(&c->resp);
}

static void
run_until(struct loop *loop, const bool *done)
{
	uint64_t end = loop_update_now(loop) + BOUND_MS;

	while (!*done && loop_update_now(loop) < end)
		assert_true(loop_run_once(loop, 50) >= 0);
	assert_true(*done);
}

/* Sends req (len bytes) to port and returns the raw response; caller frees. */
static char *
exchange_len(struct loop *loop, uint16_t port, const char *req, size_t len, size_t *resp_len)
{
	struct client c;
	char *out;

	client_start(&c, loop, port, req, len);
	run_until(loop, &c.done);
	if (resp_len != NULL)
		*resp_len = c.resp.len;
	out = strbuf_steal(&c.resp);
	client_done(&c);
	return out;
}

static char *
exchange(struct loop *loop, uint16_t port, const char *req)
{
	return exchange_len(loop, port, req, strlen(req), NULL);
}

static int
resp_status(const char *r)
{
	assert_true(strncmp(r, "HTTP/1.1 ", 9) == 0);
	return atoi(r + 9);
}

/* Returns a malloc'd copy of header name's value, or NULL (caller frees). */
static char *
resp_header(const char *r, const char *name)
{
	const char *end = strstr(r, "\r\n\r\n"), *p = r;
	size_t n = strlen(name);

	assert_non_null(end);
	while ((p = strstr(p, "\r\n")) != NULL && p < end) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(e - v));
		}
	}
	return NULL;
}

static void
assert_header(const char *r, const char *name, const char *want)
{
	char *v = resp_header(r, name);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static const char *
body_of(const char *r)
{
	long cl;
	const char *b = resp_body(r, &cl);

	assert_non_null(b);
	return b;
}

/* ---- handlers ------------------------------------------------------------------------- */

/* What metrics_cb writes, to compare with. */
static const char metrics_body[] = "# HELP shelly_device_up 1 if the last poll succeeded.\n"
				   "# TYPE shelly_device_up gauge\n"
				   "shelly_device_up 1\n";

static void
metrics_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	struct strbuf sb;
	struct metrics_writer *w;
	int *calls = arg;

	(void)req;
	(*calls)++;
	strbuf_init(&sb);
	w = metrics_writer_new(&sb);
	metrics_family(w, "shelly_device_up", METRICS_GAUGE, "1 if the last poll succeeded.");
	metrics_sample(w, NULL, 0, 1);
	assert_null(metrics_writer_error(w));
	metrics_writer_free(w);
	reply->content_type = METRICS_CONTENT_TYPE;
	reply->body_len = sb.len;
	reply->body = strbuf_steal(&sb);
}

static void
echo_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	const char *q = httpd_request_query(req, "x");
	const char *flag = httpd_request_query(req, "flag");
	const char *h = httpd_request_header(req, "x-test");
	size_t len;
	const char *body = httpd_request_body(req, &len);

	(void)arg;
	assert_int_equal(body[len], '\0');
	httpd_reply_text(reply, 200, "%s %s x=%s flag=%s h=%s len=%zu\n%.*s",
	    httpd_request_method(req), httpd_request_path(req), q != NULL ? q : "(none)",
	    flag != NULL ? flag : "(none)", h != NULL ? h : "(none)", len,
	    (int)(len < 64 ? len : 64), body);
}

static void
created_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	(void)req;
	(void)arg;
	reply->status = 201;
	reply->content_type = "application/json";
	reply->body = strdup("{}");
	reply->body_len = 2;
	assert_int_equal(httpd_reply_header(reply, "Location", "/things/1"), 0);
	assert_int_equal(httpd_reply_header(reply, "X-Bad", "a\r\nSet-Cookie: x=y"), -1);
	assert_int_equal(httpd_reply_header(reply, "Bad Name", "v"), -1);
	assert_int_equal(httpd_reply_header(reply, "", "v"), -1);
}

static void
broken_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	(void)req;
	(void)arg;
	reply->status = 0;
	reply->body = strdup("ignored");
	reply->body_len = 7;
}

/* A body of STREAM_LEN bytes made while it is sent, and how often its producer was freed. */
#define STREAM_LEN 60000
static int stream_freed;

static long
stream_cb(void *arg, uint64_t pos, char *buf, size_t max)
{
	size_t n = STREAM_LEN - (size_t)pos;

	(void)arg;
	if (pos >= STREAM_LEN)
		return -1;
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (pos + i) % 26);
	return (long)n;
}

static void
stream_free_cb(void *arg)
{
	(void)arg;
	stream_freed++;
}

static void
big_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	(void)req;
	(void)arg;
	reply->stream_cb = stream_cb;
	reply->stream_free_cb = stream_free_cb;
}

/*
 * A secret reply, and this test's explicit_bzero (it takes the C library's place for the
 * server linked into this program): it counts the wipes of buffers that held the secret.
 */
#define SECRET_BODY "{\"key\":\"s3cret-wifi-key\"}"
static int secret_wiped;

/* The C library declares the buffer write-only; this one reads it first, on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
void
explicit_bzero(void *s, size_t n)
{
	volatile unsigned char *p = s;

	if (n >= strlen(SECRET_BODY) && memcmp(s, SECRET_BODY, strlen(SECRET_BODY)) == 0)
		secret_wiped++;
	for (size_t i = 0; i < n; i++)
		p[i] = 0;
}
#pragma GCC diagnostic pop

static void
secret_cb(const struct httpd_request *req, struct httpd_reply *reply, void *arg)
{
	(void)req;
	(void)arg;
	reply->status = 200;
	reply->body = strdup(SECRET_BODY);
	reply->body_len = strlen(SECRET_BODY);
	reply->wipe = 1;
}

struct fixture {
	struct loop *loop;
	struct httpd *httpd;
	uint16_t port;
	int metrics_calls;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *cause = NULL;

	f->loop = loop_new();
	f->httpd = httpd_new(f->loop, "127.0.0.1:0", &cause);
	if (f->httpd == NULL)
		fail_msg("httpd_new: %s", cause);
	f->port = httpd_port(f->httpd);
	assert_true(f->port != 0);
	assert_int_equal(httpd_route(f->httpd, "GET", "/metrics", metrics_cb, &f->metrics_calls), 0);
	assert_int_equal(httpd_route(f->httpd, "GET", "/echo", echo_cb, NULL), 0);
	assert_int_equal(httpd_route(f->httpd, "POST", "/echo", echo_cb, NULL), 0);
	assert_int_equal(httpd_route(f->httpd, "POST", "/things", created_cb, NULL), 0);
	assert_int_equal(httpd_route(f->httpd, "GET", "/broken", broken_cb, NULL), 0);
	assert_int_equal(httpd_route(f->httpd, "GET", "/big", big_cb, NULL), 0);
	assert_int_equal(httpd_route(f->httpd, "GET", "/secret", secret_cb, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	httpd_free(f->httpd);
	loop_free(f->loop);
	free(f);
	return 0;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void
test_get_metrics(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	char len[16];

	assert_int_equal(resp_status(r), 200);
	assert_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	snprintf(len, sizeof len, "%zu", strlen(metrics_body));
	assert_string_equal(len, "103");
	assert_header(r, "Content-Length", len);
	assert_string_equal(body_of(r), metrics_body);
	assert_int_equal(f->metrics_calls, 1);
	free(r);
}

/* A streamed body arrives whole and in order; its producer is freed once. */
static void
test_streamed_body(void **state)
{
	struct fixture *f = *state;
	const char req[] = "GET /big HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
	size_t len = 0;
	char *r;
	const char *b;

	stream_freed = 0;
	r = exchange_len(f->loop, f->port, req, strlen(req), &len);
	assert_int_equal(resp_status(r), 200);
	b = strstr(r, "\r\n\r\n");
	assert_non_null(b);
	b += 4;
	assert_int_equal(len - (size_t)(b - r), STREAM_LEN);
	for (size_t i = 0; i < STREAM_LEN; i += 997)
		assert_int_equal(b[i], 'a' + i % 26);
	assert_int_equal(stream_freed, 1);
	free(r);
}

/* A reply marked wipe arrives whole, and its buffer is wiped once microhttpd frees it. */
static void
test_secret_wiped(void **state)
{
	struct fixture *f = *state;
	uint64_t end;
	char *r;

	secret_wiped = 0;
	r = exchange(f->loop, f->port,
	    "GET /secret HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_status(r), 200);
	assert_string_equal(body_of(r), SECRET_BODY);
	free(r);
	end = loop_update_now(f->loop) + BOUND_MS;
	while (secret_wiped == 0 && loop_update_now(f->loop) < end)
		assert_true(loop_run_once(f->loop, 50) >= 0);
	assert_int_equal(secret_wiped, 1);
}

static void
test_head(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

	assert_int_equal(resp_status(r), 200);
	assert_header(r, "Content-Type", METRICS_CONTENT_TYPE);
	assert_header(r, "Content-Length", "103"); /* the GET body's length (test_get_metrics) */
	assert_string_equal(body_of(r), "");	  /* headers only */
	assert_int_equal(f->metrics_calls, 1);
	free(r);
}

static void
test_not_found(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "GET /metrics/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

	assert_int_equal(resp_status(r), 404);
	assert_header(r, "Content-Type", "text/plain; charset=utf-8");
	assert_string_equal(body_of(r), "not found\n");
	free(r);
	r = exchange(f->loop, f->port,
	    "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
	assert_int_equal(resp_status(r), 404);
	free(r);
	assert_int_equal(f->metrics_calls, 0);
}

static void
test_method_not_allowed(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");

	assert_int_equal(resp_status(r), 405);
	assert_header(r, "Allow", "GET, HEAD");
	assert_string_equal(body_of(r), "method not allowed\n");
	free(r);
	r = exchange(f->loop, f->port, "DELETE /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_status(r), 405);
	assert_header(r, "Allow", "GET, HEAD, POST");
	free(r);
	r = exchange(f->loop, f->port, "get /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_status(r), 405); /* methods are case-sensitive */
	free(r);
	r = exchange(f->loop, f->port, "HEAD /things HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_status(r), 405); /* HEAD only where GET is routed */
	assert_header(r, "Allow", "POST");
	free(r);
}

static void
test_query_and_headers(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "GET /echo?x=a%20b&flag HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nConnection: close\r\n\r\n");

	assert_int_equal(resp_status(r), 200);
	assert_string_equal(body_of(r), "GET /echo x=a b flag= h=yes len=0\n");
	free(r);
	r = exchange(f->loop, f->port, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_string_equal(body_of(r), "GET /echo x=(none) flag=(none) h=(none) len=0\n");
	free(r);
}

static void
test_post_body(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: 7\r\nConnection: close\r\n\r\na=1&b=2");

	assert_int_equal(resp_status(r), 200);
	assert_string_equal(body_of(r), "POST /echo x=(none) flag=(none) h=(none) len=7\na=1&b=2");
	free(r);
	/* Chunked, in three chunks, with 100-continue asked for. */
	r = exchange(f->loop, f->port,
	    "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "Expect: 100-continue\r\nConnection: close\r\n\r\n"
	    "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
	assert_non_null(strstr(r, "\r\n\r\nPOST /echo x=(none) flag=(none) h=(none) len=11\n"
				  "hello world"));
	free(r);
}

static char *
big_post(const char *extra_headers, size_t body_len, size_t *len)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_appendf(&sb, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n",
	    extra_headers);
	for (size_t i = 0; i < body_len; i++)
		strbuf_append_char(&sb, (char)('a' + i % 26));
	*len = sb.len;
	return strbuf_steal(&sb);
}

static void
test_body_cap(void **state)
{
	struct fixture *f = *state;
	char hdr[64], *req, *r;
	size_t len;

	/* Exactly the cap: accepted, the handler sees all of it. */
	snprintf(hdr, sizeof hdr, "Content-Length: %d\r\n", HTTPD_BODY_MAX);
	req = big_post(hdr, HTTPD_BODY_MAX, &len);
	r = exchange_len(f->loop, f->port, req, len, NULL);
	assert_int_equal(resp_status(r), 200);
	assert_non_null(strstr(r, " len=65536\nabcdefghijklmnopqrstuvwxyzabc"));
	free(r);
	free(req);

	/* One more declared: 413 at once, before any body is read. */
	snprintf(hdr, sizeof hdr, "Content-Length: %d\r\n", HTTPD_BODY_MAX + 1);
	req = big_post(hdr, 0, &len);
	r = exchange_len(f->loop, f->port, req, len, NULL);
	assert_int_equal(resp_status(r), 413);
	assert_string_equal(body_of(r), "request body too large (limit 65536 bytes)\n");
	free(r);
	free(req);

	/* An absurd length does not overflow the check. */
	req = big_post("Content-Length: 99999999999999999999999\r\n", 0, &len);
	r = exchange_len(f->loop, f->port, req, len, NULL);
	assert_true(resp_status(r) == 413 || resp_status(r) == 400);
	free(r);
	free(req);
}

static void
test_body_cap_chunked(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb;
	char chunk[1000], *r;

	/* 70 chunks of 1000 bytes, no Content-Length: read, discarded past the cap, then 413. */
	memset(chunk, 'z', sizeof chunk);
	strbuf_init(&sb);
	strbuf_append(&sb, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			   "Connection: close\r\n\r\n");
	for (int i = 0; i < 70; i++) {
		strbuf_appendf(&sb, "%zx\r\n", sizeof chunk);
		strbuf_append_len(&sb, chunk, sizeof chunk);
		strbuf_append(&sb, "\r\n");
	}
	strbuf_append(&sb, "0\r\n\r\n");
	r = exchange_len(f->loop, f->port, strbuf_str(&sb), sb.len, NULL);
	assert_int_equal(resp_status(r), 413);
	assert_string_equal(body_of(r), "request body too large (limit 65536 bytes)\n");
	free(r);
	strbuf_done(&sb);
}

static void
test_body_endless_chunked(void **state)
{
	struct fixture *f = *state;
	struct strbuf sb;
	char chunk[4096], *r;
	size_t len;

	/* 2 MiB in chunks: past the 1 MiB of dropped bytes the server hangs up, no answer. */
	memset(chunk, 'z', sizeof chunk);
	strbuf_init(&sb);
	strbuf_append(&sb, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			   "Connection: close\r\n\r\n");
	for (int i = 0; i < 512; i++) {
		strbuf_appendf(&sb, "%zx\r\n", sizeof chunk);
		strbuf_append_len(&sb, chunk, sizeof chunk);
		strbuf_append(&sb, "\r\n");
	}
	strbuf_append(&sb, "0\r\n\r\n");
	r = exchange_len(f->loop, f->port, strbuf_str(&sb), sb.len, &len);
	assert_int_equal(len, 0);
	free(r);
	strbuf_done(&sb);
	/* The server still serves others. */
	r = exchange(f->loop, f->port, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_status(r), 200);
	free(r);
}

static void
test_reply_headers_and_status(void **state)
{
	struct fixture *f = *state;
	char *r = exchange(f->loop, f->port,
	    "POST /things HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

	assert_int_equal(resp_status(r), 201);
	assert_header(r, "Content-Type", "application/json");
	assert_header(r, "Location", "/things/1");
	assert_null(resp_header(r, "X-Bad"));
	assert_null(strstr(r, "Set-Cookie"));
	assert_string_equal(body_of(r), "{}");
	free(r);
	r = exchange(f->loop, f->port, "GET /broken HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(resp_status(r), 500);
	assert_string_equal(body_of(r), "internal error\n");
	free(r);
}

static void
test_keep_alive(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /echo?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /echo?x=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char *r = exchange(f->loop, f->port, req);
	const char *second;

	/* Two pipelined requests on one connection, answered in order. */
	assert_int_equal(resp_status(r), 200);
	assert_non_null(strstr(r, "GET /echo x=1 flag"));
	second = strstr(r + 1, "HTTP/1.1 200");
	assert_non_null(second);
	assert_non_null(strstr(second, "GET /echo x=2 flag"));
	free(r);
}

static void
test_free_with_open_connection(void **state)
{
	struct fixture *f = *state;
	struct client c;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

	/* The server keeps the connection open after answering; freeing it closes it. */
	client_start(&c, f->loop, f->port, req, strlen(req));
	c.keep_open = true;
	run_until(f->loop, &c.done);
	assert_int_equal(resp_status(strbuf_str(&c.resp)), 200);
	/* Idle with an open connection, microhttpd's timer must not spin the loop: 200 ms of
	 * loop_run_once(50) is a handful of turns, a 0 ms timer would be thousands. */
	{
		uint64_t turns = loop_turns(f->loop), end = loop_update_now(f->loop) + 200;

		while (loop_update_now(f->loop) < end)
			assert_true(loop_run_once(f->loop, 50) >= 0);
		assert_true(loop_turns(f->loop) - turns < 40);
	}
	httpd_free(f->httpd);
	f->httpd = NULL;
	c.done = false;
	c.keep_open = false;
	loop_watch_set(c.watch, LOOP_READ);
	run_until(f->loop, &c.done); /* EOF from the closed server */
	client_done(&c);
}

/*
 * 70 idle connections from one address (more than the old limit of 64) do not stop another
 * address's request: it is answered well before the idle ones time out; and the idle ones
 * are closed after a short time.
 */
static void
test_idle_flood(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	int idle[70];
	struct client c;
	uint64_t end;
	char buf[64];
	ssize_t n = -1;

	for (int i = 0; i < 70; i++)
		idle[i] = connect_from(INADDR_LOOPBACK, f->port);
	client_start_from(&c, f->loop, INADDR_LOOPBACK + 1, f->port, req, strlen(req));
	/* Far below the old 30 s idle timeout, far above a loaded run's milliseconds. */
	end = loop_update_now(f->loop) + 10000;
	while (!c.done && loop_update_now(f->loop) < end)
		assert_true(loop_run_once(f->loop, 50) >= 0);
	assert_true(c.done);
	assert_int_equal(resp_status(strbuf_str(&c.resp)), 200);
	client_done(&c);

	/* The idle connection that was accepted first is closed by the server (EOF). */
	end = loop_update_now(f->loop) + 4 * 1000 * HTTPD_CONNECTION_TIMEOUT_S;
	while (loop_update_now(f->loop) < end) {
		assert_true(loop_run_once(f->loop, 50) >= 0);
		n = recv(idle[0], buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0)
			break;
	}
	assert_int_equal(n, 0);
	for (int i = 0; i < 70; i++)
		close(idle[i]);
}

static void
assert_parse_error(const char *addr, const char *want)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char *cause = NULL;

	assert_int_equal(httpd_parse_listen(addr, &ss, &len, &cause), -1);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

static void
test_parse_listen(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	char *cause = NULL, ip[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(httpd_parse_listen("127.0.0.1:9464", &ss, &len, &cause), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof *sin);
	assert_int_equal(ntohs(sin->sin_port), 9464);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(httpd_parse_listen("0.0.0.0:0", &ss, &len, &cause), 0);
	assert_int_equal(ntohs(sin->sin_port), 0);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(httpd_parse_listen("localhost:65535", &ss, &len, &cause), 0);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(sin->sin_port), 65535);
	assert_int_equal(httpd_parse_listen("[::1]:9464", &ss, &len, &cause), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof *sin6);
	assert_int_equal(ntohs(sin6->sin6_port), 9464);
	assert_string_equal(inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip), "::1");
	assert_int_equal(httpd_parse_listen("[::]:80", &ss, &len, &cause), 0);
	assert_string_equal(inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip), "::");
	assert_null(cause);

	assert_parse_error("", "empty listen address (expected HOST:PORT, e.g. 127.0.0.1:9464 or "
	    "[::1]:9464)");
	assert_parse_error("127.0.0.1", "listen address \"127.0.0.1\": missing port (expected "
	    "HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
	assert_parse_error("::1:9464", "listen address \"::1:9464\": an IPv6 address must be in "
	    "brackets, e.g. [::1]:9464");
	assert_parse_error("[::1", "listen address \"[::1\": missing ']' after the IPv6 address");
	assert_parse_error("[::1]9464", "listen address \"[::1]9464\": missing port after ']' "
	    "(expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
	assert_parse_error(":9464", "listen address \":9464\": missing host (use 127.0.0.1, or "
	    "0.0.0.0 for every IPv4 address)");
	assert_parse_error("127.0.0.1:65536", "listen address \"127.0.0.1:65536\": bad port "
	    "\"65536\" (a number 0-65535, 0 for any free port)");
	assert_parse_error("127.0.0.1:-1", "listen address \"127.0.0.1:-1\": bad port \"-1\" (a "
	    "number 0-65535, 0 for any free port)");
	assert_parse_error("127.0.0.1:", "listen address \"127.0.0.1:\": bad port \"\" (a number "
	    "0-65535, 0 for any free port)");
	assert_parse_error("127.0.0.1:0009464", "listen address \"127.0.0.1:0009464\": bad port "
	    "\"0009464\" (a number 0-65535, 0 for any free port)");
	assert_parse_error("example.com:80", "listen address \"example.com:80\": \"example.com\" is "
	    "not an IPv4 address (host names are not resolved; IPv6 goes in brackets)");
	assert_parse_error("256.0.0.1:80", "listen address \"256.0.0.1:80\": \"256.0.0.1\" is not "
	    "an IPv4 address (host names are not resolved; IPv6 goes in brackets)");
	assert_parse_error("127.1:80", "listen address \"127.1:80\": \"127.1\" is not an IPv4 "
	    "address (host names are not resolved; IPv6 goes in brackets)");
	assert_parse_error("[127.0.0.1]:80", "listen address \"[127.0.0.1]:80\": \"127.0.0.1\" is "
	    "not an IPv6 address");
}

static void
test_bind_errors_and_ipv6(void **state)
{
	struct loop *loop = loop_new();
	struct httpd *a, *b;
	char *cause = NULL, addr[64], want[128];
	int fd;
	struct sockaddr_in6 sin6;

	(void)state;
	a = httpd_new(loop, "127.0.0.1:0", &cause);
	assert_non_null(a);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned int)httpd_port(a));
	b = httpd_new(loop, addr, &cause);
	assert_null(b);
	snprintf(want, sizeof want, "cannot listen on %s: Address already in use", addr);
	assert_string_equal(cause, want);
	free(cause);
	cause = NULL;
	assert_null(httpd_new(loop, "127.0.0.1", &cause));
	assert_non_null(strstr(cause, "missing port"));
	free(cause);
	cause = NULL;
	httpd_free(a);
	httpd_free(NULL);

	/* IPv6 loopback, when this host has it. */
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof sin6) != 0) {
		if (fd >= 0)
			close(fd);
		loop_free(loop);
		skip();
	}
	close(fd);
	a = httpd_new(loop, "[::1]:0", &cause);
	if (a == NULL)
		fail_msg("httpd_new [::1]:0: %s", cause);
	assert_true(httpd_port(a) != 0);
	httpd_free(a);
	loop_free(loop);
}

static void
test_route_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(httpd_route(f->httpd, "GET", "/metrics", echo_cb, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "HEAD", "/x", echo_cb, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "GET", "x", echo_cb, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "GET", "/x?y", echo_cb, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "GE T", "/x", echo_cb, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "", "/x", echo_cb, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "GET", "/x", NULL, NULL), -1);
	assert_int_equal(httpd_route(f->httpd, "PUT", "/metrics", echo_cb, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streamed_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_wiped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_and_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_endless_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_headers_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_open_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_errors, setup, teardown),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_bind_errors_and_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
