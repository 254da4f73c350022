/*
 * net/http against in-process servers on 127.0.0.1 ephemeral ports: libmicrohttpd (its own
 * threads) for real HTTP/HTTPS answers and auth, and raw sockets on our loop for misbehaving
 * peers (never answers, truncates, resets). Every wait is bounded loop driving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/http.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BOUND_MS 30000 /* an upper bound for loaded machines and ASan; passing runs take ms */

/* ---- collecting outcomes ---- */

struct outcome {
	int called;
	uint64_t id;
	enum http_result result;
	long status;
	char *body;
	size_t body_len;
	char *cause;
	char *pin;
	char *cert;
	char *ip;
	uint16_t port;
	int seq; /* completion order across a test */
	int *counter;
};

static int completion_seq;

static void
outcome_cb(const struct http_response *resp, void *arg)
{
	struct outcome *o = arg;

	o->called++;
	o->id = resp->id;
	o->result = resp->result;
	o->status = resp->status;
	o->body = xstrndup(resp->body, resp->body_len);
	o->body_len = resp->body_len;
	assert_int_equal(resp->body[resp->body_len], '\0');
	o->cause = xstrdup(resp->cause);
	o->pin = resp->pin_sha256 ? xstrdup(resp->pin_sha256) : NULL;
	o->cert = resp->cert_sha256 ? xstrdup(resp->cert_sha256) : NULL;
	o->ip = resp->primary_ip ? xstrdup(resp->primary_ip) : NULL;
	o->port = resp->primary_port;
	o->seq = ++completion_seq;
	if (o->counter != NULL)
		(*o->counter)++;
}

static void
outcome_clear(struct outcome *o)
{
	free(o->body);
	free(o->cause);
	free(o->pin);
	free(o->cert);
	free(o->ip);
	memset(o, 0, sizeof *o);
}

/* Drives the loop until *count >= want, at most BOUND_MS. */
static void
drive(struct loop *loop, const int *count, int want)
{
	uint64_t end = loop_update_now(loop) + BOUND_MS;

	while (*count < want && loop_update_now(loop) < end)
		assert_true(loop_run_once(loop, 50) >= 0);
	assert_true(*count >= want);
}

static struct http_request
get_req(uint16_t port, const char *path)
{
	struct http_request r;

	memset(&r, 0, sizeof r);
	r.method = HTTP_GET;
	r.host = "127.0.0.1";
	r.port = port;
	r.path = path;
	/* Generous: a TLS handshake with the ASan tree on a loaded machine takes seconds. Tests
	 * of timeouts set their own. */
	r.timeout_ms = 15000;
	r.connect_timeout_ms = 10000;
	return r;
}

/* ---- digest verification with OpenSSL, independent of curl ---- */

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + i * 2, 3, "%02x", md[i]);
}

struct digest_fields {
	char username[64], realm[64], nonce[64], uri[256], response[80], qop[16], nc[16],
	    cnonce[128], algorithm[32], opaque[64];
	bool has_opaque;
};

static void
field_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Parses an Authorization: Digest header value; returns 0 if it has the Digest scheme. */
static int
digest_parse(const char *h, struct digest_fields *f)
{
	memset(f, 0, sizeof *f);
	if (strncmp(h, "Digest ", 7) != 0)
		return -1;
	h += 7;
	while (*h != '\0') {
		const char *k, *v;
		size_t klen, vlen;

		while (*h == ' ' || *h == ',')
			h++;
		k = h;
		while (*h != '\0' && *h != '=')
			h++;
		if (*h != '=')
			break;
		klen = (size_t)(h - k);
		h++;
		if (*h == '"') {
			v = ++h;
			while (*h != '\0' && *h != '"')
				h++;
			vlen = (size_t)(h - v);
			if (*h == '"')
				h++;
		} else {
			v = h;
			while (*h != '\0' && *h != ',')
				h++;
			vlen = (size_t)(h - v);
		}
#define F(name)                                                                                \
	if (klen == strlen(#name) && strncmp(k, #name, klen) == 0)                            \
		field_copy(f->name, sizeof f->name, v, vlen);
		F(username) F(realm) F(nonce) F(uri) F(response) F(qop) F(nc) F(cnonce)
		F(algorithm) F(opaque)
#undef F
		if (klen == 6 && strncmp(k, "opaque", 6) == 0)
			f->has_opaque = true;
	}
	return 0;
}

/* RFC 7616 SHA-256, qop=auth: the check a Shelly Gen2+ device makes. */
static bool
digest_ok(const char *authz, const char *method, const char *uri, const char *realm,
    const char *nonce, const char *user, const char *pass)
{
	struct digest_fields f;
	char ha1[65], ha2[65], resp[65], *s;

	if (authz == NULL || digest_parse(authz, &f) == -1)
		return false;
	if (strcmp(f.username, user) != 0 || strcmp(f.realm, realm) != 0 ||
	    strcmp(f.nonce, nonce) != 0 || strcmp(f.uri, uri) != 0 ||
	    strcmp(f.algorithm, "SHA-256") != 0 || strcmp(f.qop, "auth") != 0)
		return false;
	s = xasprintf("%s:%s:%s", user, realm, pass);
	sha256_hex(s, ha1);
	free(s);
	s = xasprintf("%s:%s", method, uri);
	sha256_hex(s, ha2);
	free(s);
	s = xasprintf("%s:%s:%s:%s:%s:%s", ha1, nonce, f.nc, f.cnonce, f.qop, ha2);
	sha256_hex(s, resp);
	free(s);
	return strcmp(resp, f.response) == 0;
}

/* Returns the first line of a fixture starting with prefix, without it; caller frees. */
static char *
fixture_line(const char *path, const char *prefix)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	char *out = NULL;

	assert_non_null(fp);
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			line[strcspn(line, "\r\n")] = '\0';
			out = xstrdup(line + strlen(prefix));
			break;
		}
	}
	fclose(fp);
	assert_non_null(out);
	return out;
}

/* The verifier itself, against the real exchange captured from a Plus 1PM (password "test"). */
static void
test_digest_verifier_vector(void **state)
{
	const char *trace = "tests/fixtures/errors/http-401-digest_plus-1pm_curl-trace.txt";
	char *authz = fixture_line(trace, "> Authorization: ");

	(void)state;
	assert_true(digest_ok(authz, "GET", "/rpc/Shelly.GetStatus", "shellyplus1pm-44179394d4d4",
	    "603", "admin", "test"));
	assert_false(digest_ok(authz, "GET", "/rpc/Shelly.GetStatus",
	    "shellyplus1pm-44179394d4d4", "603", "admin", "wrong"));
	assert_false(digest_ok(authz, "POST", "/rpc/Shelly.GetStatus",
	    "shellyplus1pm-44179394d4d4", "603", "admin", "test"));
	free(authz);
}

/* ---- libmicrohttpd test server ---- */

#define MAX_GROUPS 16

struct group {
	char name[16];
	int cur, max, arrived, target, total;
};

struct srv {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int requests;
	int global_cur, global_max;
	struct group lanes[MAX_GROUPS];  /* concurrency per lane */
	struct group groups[MAX_GROUPS]; /* barrier groups */
	char last_method[8];
	char last_ctype[64];
	char last_body[256];
	char last_authz[512];
	char *challenge; /* WWW-Authenticate value for /rpc/ */
	char *realm;
	char *nonce;
	size_t big_len;
	char *big;
};

struct upload {
	char buf[4096];
	size_t len;
};

static struct group *
group_get(struct group *gs, const char *name)
{
	for (int i = 0; i < MAX_GROUPS; i++) {
		if (gs[i].name[0] == '\0') {
			snprintf(gs[i].name, sizeof gs[i].name, "%s", name);
			return &gs[i];
		}
		if (strcmp(gs[i].name, name) == 0)
			return &gs[i];
	}
	fail_msg("too many groups");
	return NULL;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned int status, const char *body, const char *hname,
    const char *hval)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (hname != NULL)
		MHD_add_response_header(r, hname, hval);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int
arg_int(struct MHD_Connection *c, const char *key, int dflt)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);

	return v != NULL ? atoi(v) : dflt;
}

/* /hold: count concurrency per lane and globally; wait at a barrier until the group has
 * `target` requests in the handler at once (or all `total` arrived), so maxima are reached
 * deterministically whenever the client allows them. */
static void
hold(struct srv *s, struct MHD_Connection *c)
{
	const char *lane = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lane");
	const char *gname = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "group");
	struct group *l, *g;
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 3;
	pthread_mutex_lock(&s->mu);
	l = group_get(s->lanes, lane != NULL ? lane : "-");
	g = group_get(s->groups, gname != NULL ? gname : "-");
	g->target = arg_int(c, "target", 1);
	g->total = arg_int(c, "total", 1);
	if (++l->cur > l->max)
		l->max = l->cur;
	if (++s->global_cur > s->global_max)
		s->global_max = s->global_cur;
	g->cur++;
	g->arrived++;
	if (g->cur > g->max)
		g->max = g->cur;
	pthread_cond_broadcast(&s->cv);
	while (g->cur < g->target && g->arrived < g->total) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT)
			break;
	}
	l->cur--;
	g->cur--;
	s->global_cur--;
	pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result
srv_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct srv *s = cls;
	struct upload *up = *con_cls;
	const char *v;

	(void)version;
	if (up == NULL) {
		*con_cls = xcalloc(1, sizeof *up);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		if (n > sizeof up->buf - 1 - up->len)
			n = sizeof up->buf - 1 - up->len;
		memcpy(up->buf + up->len, upload_data, n);
		up->len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->mu);
	s->requests++;
	snprintf(s->last_method, sizeof s->last_method, "%s", method);
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	snprintf(s->last_ctype, sizeof s->last_ctype, "%s", v ? v : "");
	snprintf(s->last_body, sizeof s->last_body, "%.*s", (int)up->len, up->buf);
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(s->last_authz, sizeof s->last_authz, "%s", v ? v : "");
	pthread_mutex_unlock(&s->mu);

	if (strcmp(url, "/ok") == 0)
		return reply(c, 200, "{\"ok\":true}", NULL, NULL);
	if (strcmp(url, "/echo") == 0) {
		up->buf[up->len] = '\0';
		return reply(c, 200, up->buf, NULL, NULL);
	}
	if (strcmp(url, "/error") == 0)
		return reply(c, 404, "{\"code\":404,\"message\":\"No handler for X.Y\"}", NULL, NULL);
	if (strcmp(url, "/big") == 0) {
		struct MHD_Response *r = MHD_create_response_from_buffer(s->big_len, s->big,
		    MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret = MHD_queue_response(c, 200, r);

		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/hold") == 0) {
		hold(s, c);
		return reply(c, 200, "{\"held\":true}", NULL, NULL);
	}
	if (strcmp(url, "/basic") == 0) {
		char *pass = NULL;
		char *user = MHD_basic_auth_get_username_password(c, &pass);
		bool ok = user != NULL && pass != NULL && strcmp(user, "admin") == 0 &&
		    strcmp(pass, "s3cret") == 0;

		MHD_free(user);
		MHD_free(pass);
		if (ok)
			return reply(c, 200, "{\"auth\":\"basic\"}", NULL, NULL);
		return reply(c, 401, "", "WWW-Authenticate", "Basic realm=\"shelly1-123456\"");
	}
	if (strncmp(url, "/rpc/", 5) == 0) {
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		if (digest_ok(v, method, url, s->realm, s->nonce, "admin", "test"))
			return reply(c, 200, "{\"switch:0\":{\"id\":0,\"output\":false}}", NULL, NULL);
		return reply(c, 401, "", "WWW-Authenticate", s->challenge);
	}
	return reply(c, 404, "{}", NULL, NULL);
}

static void
srv_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static struct srv *
srv_start(const char *key_pem, const char *cert_pem)
{
	struct srv *s = xcalloc(1, sizeof *s);
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;

	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->big_len = HTTP_DEFAULT_MAX_BODY + 4096;
	s->big = xmalloc(s->big_len);
	memset(s->big, 'x', s->big_len);
	s->realm = xstrdup("shellyplus1pm-44179394d4d4");
	s->nonce = xstrdup("603");
	s->challenge = xstrdup("Digest qop=\"auth\", realm=\"shellyplus1pm-44179394d4d4\", "
			       "nonce=\"603\", algorithm=SHA-256");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if (key_pem != NULL) {
		flags |= MHD_USE_TLS;
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, srv_handler, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED,
		    srv_completed, s, MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_CERT,
		    cert_pem, MHD_OPTION_END);
	} else {
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, srv_handler, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED,
		    srv_completed, s, MHD_OPTION_END);
	}
	assert_non_null(s->d);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	assert_true(s->port != 0);
	return s;
}

static void
srv_stop(struct srv *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->big);
	free(s->realm);
	free(s->nonce);
	free(s->challenge);
	free(s);
}

static int
srv_requests(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->requests;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* ---- raw misbehaving server on our loop ---- */

enum raw_mode { RAW_HANG, RAW_TRUNCATE, RAW_RESET };

struct rawconn {
	int fd;
	struct loop_watch *w;
	char buf[2048];
	size_t len;
	struct raw *raw;
};

struct raw {
	struct loop *loop;
	enum raw_mode mode;
	int lfd;
	uint16_t port;
	struct loop_watch *lw;
	struct rawconn *conns[64];
	int accepted;
};

static void
rawconn_close(struct rawconn *rc)
{
	for (int i = 0; i < 64; i++)
		if (rc->raw->conns[i] == rc)
			rc->raw->conns[i] = NULL;
	loop_watch_free(rc->w);
	close(rc->fd);
	free(rc);
}

static void
rawconn_cb(int fd, int events, void *arg)
{
	struct rawconn *rc = arg;
	ssize_t n;

	(void)events;
	n = read(fd, rc->buf + rc->len, sizeof rc->buf - 1 - rc->len);
	if (n <= 0) {
		rawconn_close(rc);
		return;
	}
	rc->len += (size_t)n;
	rc->buf[rc->len] = '\0';
	if (strstr(rc->buf, "\r\n\r\n") == NULL || rc->raw->mode == RAW_HANG) {
		if (rc->len > sizeof rc->buf - 2)
			rc->len = 0;
		return;
	}
	if (rc->raw->mode == RAW_TRUNCATE) {
		const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				   "Content-Length: 100\r\nConnection: close\r\n\r\n{\"short\":";

		assert_int_equal(write(fd, resp, strlen(resp)), (ssize_t)strlen(resp));
	} else {
		struct linger lg = { 1, 0 };

		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	}
	rawconn_close(rc);
}

static void
raw_accept_cb(int fd, int events, void *arg)
{
	struct raw *raw = arg;
	int cfd;

	(void)events;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct rawconn *rc = xcalloc(1, sizeof *rc);
		int i;

		rc->fd = cfd;
		rc->raw = raw;
		rc->w = loop_watch_new(raw->loop, cfd, LOOP_READ, rawconn_cb, rc);
		raw->accepted++;
		for (i = 0; i < 64 && raw->conns[i] != NULL; i++)
			;
		assert_true(i < 64);
		raw->conns[i] = rc;
	}
}

static int
listen_loopback(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct raw *
raw_start(struct loop *loop, enum raw_mode mode)
{
	struct raw *raw = xcalloc(1, sizeof *raw);

	raw->loop = loop;
	raw->mode = mode;
	raw->lfd = listen_loopback(&raw->port);
	raw->lw = loop_watch_new(loop, raw->lfd, LOOP_READ, raw_accept_cb, raw);
	return raw;
}

static void
raw_stop(struct raw *raw)
{
	for (int i = 0; i < 64; i++)
		if (raw->conns[i] != NULL)
			rawconn_close(raw->conns[i]);
	loop_watch_free(raw->lw);
	close(raw->lfd);
	free(raw);
}

/* A loopback port with nothing listening. */
static uint16_t
closed_port(void)
{
	uint16_t port;
	int fd = listen_loopback(&port);

	close(fd);
	return port;
}

/* ---- capturing the log ---- */

struct logcap {
	int fds[2];
	enum log_level saved;
};

static void
logcap_start(struct logcap *lc, enum log_level level)
{
	assert_int_equal(pipe2(lc->fds, O_NONBLOCK | O_CLOEXEC), 0);
	lc->saved = log_get_level();
	log_set_level(level);
	log_set_fd(lc->fds[1]);
}

/* Stops capturing; returns what was logged (caller frees). */
static char *
logcap_stop(struct logcap *lc)
{
	char buf[65536];
	ssize_t n;
	size_t len = 0;

	log_set_fd(-1);
	log_set_level(lc->saved);
	while (len < sizeof buf - 1 && (n = read(lc->fds[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(lc->fds[0]);
	close(lc->fds[1]);
	return xstrdup(buf);
}

static int
count_substr(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- fixtures per test ---- */

struct env {
	struct loop *loop;
	struct http *http;
	struct srv *srv;
};

static int
setup(void **state)
{
	struct env *env = xcalloc(1, sizeof *env);

	env->loop = loop_new();
	env->http = http_new(env->loop);
	env->srv = srv_start(NULL, NULL);
	completion_seq = 0;
	*state = env;
	return 0;
}

static int
teardown(void **state)
{
	struct env *env = *state;
	struct http_stats st;

	http_get_stats(env->http, &st);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.lanes, 0);
	http_free(env->http);
	srv_stop(env->srv);
	loop_free(env->loop);
	free(env);
	return 0;
}

/* ---- tests ---- */

static void
test_result_names(void **state)
{
	(void)state;
	assert_string_equal(http_result_name(HTTP_OK), "ok");
	assert_string_equal(http_result_name(HTTP_STATUS), "http_status");
	assert_string_equal(http_result_name(HTTP_REFUSED_BY_GUARD), "refused_by_guard");
	assert_string_equal(http_result_name(HTTP_RESULT_COUNT), "unknown");
	assert_string_equal(http_result_name(HTTP_TOO_LARGE), "too_large");
	/* Every result has a name of its own: events and metrics tell them apart by it. */
	for (int i = 0; i < HTTP_RESULT_COUNT; i++) {
		assert_string_not_equal(http_result_name((enum http_result)i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(http_result_name((enum http_result)i),
			    http_result_name((enum http_result)j));
	}
}

static void
test_get_ok(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/ok");
	struct outcome o = { 0 };
	struct http_stats st;
	uint64_t id;

	id = http_send(env->http, &req, outcome_cb, &o);
	assert_true(id != 0);
	assert_int_equal(o.called, 0); /* never inside http_send */
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.id, id);
	assert_int_equal(o.result, HTTP_OK);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.body, "{\"ok\":true}");
	assert_int_equal(o.body_len, 11);
	assert_string_equal(o.cause, "");
	assert_string_equal(o.ip, "127.0.0.1");
	assert_int_equal(o.port, env->srv->port);
	assert_null(o.pin);
	assert_string_equal(env->srv->last_method, "GET");
	http_get_stats(env->http, &st);
	assert_int_equal(st.completed[HTTP_OK], 1);
	outcome_clear(&o);
}

static void
test_post_json(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/echo");
	const char *body = "{\"id\":0,\"on\":true}";
	struct outcome o = { 0 };

	req.method = HTTP_POST;
	req.body = body;
	req.body_len = strlen(body);
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_string_equal(o.body, body);
	assert_string_equal(env->srv->last_method, "POST");
	assert_string_equal(env->srv->last_ctype, "application/json");
	assert_string_equal(env->srv->last_body, body);
	outcome_clear(&o);
}

static void
test_http_status_keeps_body(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/error");
	struct outcome o = { 0 };

	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_STATUS);
	assert_int_equal(o.status, 404);
	assert_string_equal(o.body, "{\"code\":404,\"message\":\"No handler for X.Y\"}");
	assert_non_null(strstr(o.cause, "HTTP 404"));
	outcome_clear(&o);
}

static void
test_timeout(void **state)
{
	struct env *env = *state;
	struct raw *raw = raw_start(env->loop, RAW_HANG);
	struct http_request req = get_req(raw->port, "/shelly");
	struct outcome o = { 0 };

	req.timeout_ms = 150;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_TIMEOUT);
	assert_int_equal(raw->accepted, 1);
	assert_true(strstr(o.cause, "127.0.0.1:") == o.cause);
	raw_stop(raw);
	outcome_clear(&o);
}

static void
test_refused(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(closed_port(), "/shelly");
	struct outcome o = { 0 };

	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_REFUSED);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.body, "");
	outcome_clear(&o);
}

static void
test_too_large(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/big");
	struct outcome o = { 0 };

	/* Default cap (1 MiB) against a body of 1 MiB + 4 KiB. */
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_TOO_LARGE);
	assert_non_null(strstr(o.cause, "larger than 1048576 bytes"));
	outcome_clear(&o);
	/* A small explicit cap. */
	req.max_body = 1000;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_TOO_LARGE);
	assert_true(o.body_len <= 1000);
	outcome_clear(&o);
	/* Exactly at the cap is fine. */
	req.path = "/ok";
	req.max_body = 11;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	outcome_clear(&o);
}

static void
test_truncated(void **state)
{
	struct env *env = *state;
	struct raw *raw = raw_start(env->loop, RAW_TRUNCATE);
	struct http_request req = get_req(raw->port, "/status");
	struct outcome o = { 0 };

	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_TRUNCATED);
	raw_stop(raw);
	outcome_clear(&o);
}

static void
test_reset(void **state)
{
	struct env *env = *state;
	struct raw *raw = raw_start(env->loop, RAW_RESET);
	struct http_request req = get_req(raw->port, "/status");
	struct outcome o = { 0 };

	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_RESET);
	raw_stop(raw);
	outcome_clear(&o);
}

static void
test_basic_auth(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/basic");
	struct outcome o = { 0 };

	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_AUTH_REQUIRED);
	assert_int_equal(o.status, 401);
	outcome_clear(&o);

	req.auth = HTTP_AUTH_BASIC;
	req.user = "admin";
	req.password = "s3cret";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_string_equal(o.body, "{\"auth\":\"basic\"}");
	assert_string_equal(env->srv->last_authz, "Basic YWRtaW46czNjcmV0");
	outcome_clear(&o);

	{
		struct logcap lc;
		char *log;

		logcap_start(&lc, LOG_DEBUG);
		req.password = "wrong-Pa55";
		http_send(env->http, &req, outcome_cb, &o);
		drive(env->loop, &o.called, 1);
		log = logcap_stop(&lc);
		assert_int_equal(o.result, HTTP_AUTH_FAILED);
		assert_non_null(strstr(o.cause, "authentication failed"));
		/* Never the password, in the cause or in the log (even at debug level). */
		assert_null(strstr(o.cause, "Pa55"));
		assert_non_null(strstr(log, "auth_failed"));
		assert_null(strstr(log, "Pa55"));
		free(log);
		outcome_clear(&o);
	}
}

static void
test_digest_auth(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/rpc/Shelly.GetStatus");
	const char *trace = "tests/fixtures/errors/http-401-digest_plus-1pm_curl-trace.txt";
	struct outcome o = { 0 };
	struct digest_fields f;

	/* The challenge exactly as a Plus 1PM sends it. */
	free(env->srv->challenge);
	env->srv->challenge = fixture_line(trace, "< WWW-Authenticate: ");
	assert_string_equal(env->srv->challenge, "Digest qop=\"auth\", "
	    "realm=\"shellyplus1pm-44179394d4d4\", nonce=\"603\", algorithm=SHA-256");

	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_AUTH_REQUIRED);
	outcome_clear(&o);

	req.auth = HTTP_AUTH_DIGEST;
	req.user = "admin";
	req.password = "test";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_int_equal(o.status, 200);
	assert_string_equal(o.body, "{\"switch:0\":{\"id\":0,\"output\":false}}");
	assert_int_equal(digest_parse(env->srv->last_authz, &f), 0);
	assert_string_equal(f.algorithm, "SHA-256");
	assert_string_equal(f.nc, "00000001");
	outcome_clear(&o);

	/* POST with digest: the body is sent again after the challenge. */
	req.method = HTTP_POST;
	req.path = "/rpc/Switch.Set";
	req.body = "{\"id\":0,\"on\":true}";
	req.body_len = strlen(req.body);
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_string_equal(env->srv->last_body, "{\"id\":0,\"on\":true}");
	outcome_clear(&o);

	req.method = HTTP_GET;
	req.path = "/rpc/Shelly.GetStatus";
	req.password = "wrong";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_AUTH_FAILED);
	outcome_clear(&o);
}

/* Sends req and waits for it; it must succeed. */
static void
send_ok(struct env *env, const struct http_request *req)
{
	struct outcome o = { 0 };

	http_send(env->http, req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	outcome_clear(&o);
}

/* A digest challenge weaker than SHA-256 (as no Shelly sends) is never answered: one request,
 * no Authorization header, an error naming why. A quoted "SHA-256" is fine. */
static void
test_digest_weak_algorithm(void **state)
{
	static const char *const weak[] = {
	    "Digest qop=\"auth\", realm=\"shellyplus1pm-44179394d4d4\", nonce=\"603\", "
	    "algorithm=MD5",
	    "Digest qop=\"auth\", realm=\"shellyplus1pm-44179394d4d4\", nonce=\"603\"",
	    "Digest qop=\"auth\", realm=\"shellyplus1pm-44179394d4d4\", nonce=\"603\", "
	    "algorithm=SHA-256, algorithm=MD5",
	    "Digest qop=\"auth\", realm=\"x, Digest algorithm=MD5\", nonce=\"603\", "
	    "algorithm=SHA-256",
	    "Digest qop=\"auth\", realm=\"shellyplus1pm-44179394d4d4\", nonce=\"603\", "
	    "algorithm=SHA-256, Digest realm=\"r\", nonce=\"1\"",
	};
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/rpc/Shelly.GetStatus");
	struct outcome o = {0};

	req.auth = HTTP_AUTH_DIGEST;
	req.user = "admin";
	req.password = "test";
	for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
		int before = srv_requests(env->srv);

		free(env->srv->challenge);
		env->srv->challenge = xstrdup(weak[i]);
		http_send(env->http, &req, outcome_cb, &o);
		drive(env->loop, &o.called, 1);
		assert_int_equal(o.result, HTTP_ERROR);
		assert_non_null(strstr(o.cause, "weaker than SHA-256"));
		assert_int_equal(srv_requests(env->srv), before + 1);
		assert_string_equal(env->srv->last_authz, "");
		outcome_clear(&o);
	}
	free(env->srv->challenge);
	env->srv->challenge = xstrdup("Digest qop=\"auth\", realm=\"shellyplus1pm-44179394d4d4\", "
	                              "nonce=\"603\", algorithm=\"SHA-256\"");
	send_ok(env, &req);
}

/* A finished transfer's handle is reused: nothing of the last request (credentials, digest
 * state, method, body) reaches the next one. */
static void
test_reused_handle_forgets(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/basic");
	struct http_request plain = get_req(env->srv->port, "/ok");

	req.auth = HTTP_AUTH_BASIC;
	req.user = "admin";
	req.password = "s3cret";
	send_ok(env, &req);
	assert_string_not_equal(env->srv->last_authz, "");
	send_ok(env, &plain);
	assert_string_equal(env->srv->last_authz, "");

	req.path = "/rpc/Shelly.GetStatus";
	req.auth = HTTP_AUTH_DIGEST;
	req.password = "test";
	req.method = HTTP_POST;
	req.body = "{\"id\":0}";
	req.body_len = strlen(req.body);
	send_ok(env, &req);
	assert_string_equal(env->srv->last_method, "POST");
	send_ok(env, &plain);
	assert_string_equal(env->srv->last_authz, "");
	assert_string_equal(env->srv->last_method, "GET");
	assert_string_equal(env->srv->last_body, "");
}

/* Wall Display variant: realm first, hex nonce, empty opaque that must be echoed. */
static void
test_digest_auth_opaque(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/rpc/Shelly.GetStatus");
	struct outcome o = { 0 };
	struct digest_fields f;

	free(env->srv->challenge);
	env->srv->challenge = fixture_line(
	    "tests/fixtures/errors/http-401-digest_wall-display_header.txt", "WWW-Authenticate: ");
	free(env->srv->realm);
	env->srv->realm = xstrdup("ShellyWallDisplay-000822891495");
	free(env->srv->nonce);
	env->srv->nonce = xstrdup("0b00ddda");
	req.auth = HTTP_AUTH_DIGEST;
	req.user = "admin";
	req.password = "test";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_int_equal(digest_parse(env->srv->last_authz, &f), 0);
	assert_true(f.has_opaque);
	assert_string_equal(f.opaque, "");
	outcome_clear(&o);
}

/* Per-lane limits are reached and never exceeded; lanes start FIFO. */
static void
test_lane_limits(void **state)
{
	struct env *env = *state;
	struct {
		const char *lane;
		int limit, count;
	} lanes[] = { { "aa", 2, 6 }, { "bb", 1, 4 }, { "cc", 3, 6 } };
	struct outcome o[16];
	char paths[16][128];
	int done = 0, n = 0;

	memset(o, 0, sizeof o);
	for (size_t l = 0; l < 3; l++) {
		for (int i = 0; i < lanes[l].count; i++, n++) {
			struct http_request req;

			snprintf(paths[n], sizeof paths[n], "/hold?lane=%s&group=%s&target=%d&total=%d",
			    lanes[l].lane, lanes[l].lane, lanes[l].limit, lanes[l].count);
			req = get_req(env->srv->port, paths[n]);
			req.lane = lanes[l].lane;
			req.lane_limit = lanes[l].limit;
			o[n].counter = &done;
			http_send(env->http, &req, outcome_cb, &o[n]);
		}
	}
	{
		struct http_stats st;

		http_get_stats(env->http, &st);
		assert_int_equal(st.in_flight, 2 + 1 + 3);
		assert_int_equal(st.queued, 16 - 6);
		assert_int_equal(st.lanes, 3);
	}
	drive(env->loop, &done, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(o[i].result, HTTP_OK);
		outcome_clear(&o[i]);
	}
	pthread_mutex_lock(&env->srv->mu);
	for (size_t l = 0; l < 3; l++) {
		struct group *g = group_get(env->srv->lanes, lanes[l].lane);

		assert_int_equal(g->max, lanes[l].limit);
	}
	pthread_mutex_unlock(&env->srv->mu);
}

static void
test_lane_fifo(void **state)
{
	struct env *env = *state;
	struct outcome o[5];
	int done = 0;

	memset(o, 0, sizeof o);
	for (int i = 0; i < 5; i++) {
		struct http_request req = get_req(env->srv->port, "/ok");

		req.lane = "gen1";
		req.lane_limit = 1;
		o[i].counter = &done;
		http_send(env->http, &req, outcome_cb, &o[i]);
	}
	drive(env->loop, &done, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(o[i].seq, i + 1);
		outcome_clear(&o[i]);
	}
}

/*
 * The global cap holds across lanes and is reached. Every request has its own lane, so the
 * client can always fill the cap while work is queued and the server barrier converges.
 */
static void
test_global_cap(void **state)
{
	struct env *env = *state;
	struct outcome o[12];
	char paths[12][128];
	int done = 0;
	uint64_t end;

	memset(o, 0, sizeof o);
	http_set_max_inflight(env->http, 3);
	for (int i = 0; i < 12; i++) {
		struct http_request req;
		char lane[16];

		snprintf(lane, sizeof lane, "l%d", i);
		snprintf(paths[i], sizeof paths[i], "/hold?lane=%s&group=all&target=3&total=12",
		    lane);
		req = get_req(env->srv->port, paths[i]);
		req.lane = lane;
		req.lane_limit = 3;
		o[i].counter = &done;
		http_send(env->http, &req, outcome_cb, &o[i]);
	}
	end = loop_update_now(env->loop) + BOUND_MS;
	while (done < 12 && loop_update_now(env->loop) < end) {
		struct http_stats st;

		assert_true(loop_run_once(env->loop, 50) >= 0);
		http_get_stats(env->http, &st);
		assert_true(st.in_flight <= 3);
	}
	assert_int_equal(done, 12);
	pthread_mutex_lock(&env->srv->mu);
	assert_int_equal(env->srv->global_max, 3);
	pthread_mutex_unlock(&env->srv->mu);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(o[i].result, HTTP_OK);
		outcome_clear(&o[i]);
	}
}

/* A slow lane does not delay another: round-robin over lanes when a global slot frees. */
static void
test_no_head_of_line(void **state)
{
	struct env *env = *state;
	struct raw *raw = raw_start(env->loop, RAW_HANG);
	struct outcome slow[6], fast[3], lone = { 0 }, quick = { 0 };
	int slow_done = 0, fast_done = 0, slow_at_last_fast = -1;
	uint64_t end;

	memset(slow, 0, sizeof slow);
	memset(fast, 0, sizeof fast);
	/* With room to spare: a hanging device's request does not hold up another lane's. */
	{
		struct http_request req = get_req(raw->port, "/status");
		uint64_t id;

		req.lane = "hanging";
		req.lane_limit = 1;
		id = http_send(env->http, &req, outcome_cb, &lone);
		req = get_req(env->srv->port, "/ok");
		req.lane = "healthy";
		http_send(env->http, &req, outcome_cb, &quick);
		drive(env->loop, &quick.called, 1);
		assert_int_equal(quick.result, HTTP_OK);
		assert_int_equal(lone.called, 0);
		assert_int_equal(http_cancel(env->http, id), 0);
		drive(env->loop, &lone.called, 1);
		assert_int_equal(lone.result, HTTP_CANCELLED);
		outcome_clear(&lone);
		outcome_clear(&quick);
	}
	/* All global slots taken by a slow lane: freed slots alternate between lanes. */
	http_set_max_inflight(env->http, 2);
	for (int i = 0; i < 6; i++) {
		struct http_request req = get_req(raw->port, "/status");

		req.lane = "slow";
		req.lane_limit = 2;
		req.timeout_ms = 200;
		slow[i].counter = &slow_done;
		http_send(env->http, &req, outcome_cb, &slow[i]);
	}
	for (int i = 0; i < 3; i++) {
		struct http_request req = get_req(env->srv->port, "/ok");

		req.lane = "fast";
		fast[i].counter = &fast_done;
		http_send(env->http, &req, outcome_cb, &fast[i]);
	}
	end = loop_update_now(env->loop) + BOUND_MS;
	while ((slow_done < 6 || fast_done < 3) && loop_update_now(env->loop) < end) {
		assert_true(loop_run_once(env->loop, 50) >= 0);
		if (fast_done == 3 && slow_at_last_fast < 0)
			slow_at_last_fast = slow_done;
	}
	assert_int_equal(slow_done, 6);
	assert_int_equal(fast_done, 3);
	/*
	 * FIFO over all requests would finish all six slow ones first. Round-robin: S1+S2 time
	 * out, F1 and S3 start, F1 done, F2 starts, F2 done, S4 starts, S3 times out, F3 runs:
	 * three slow ones done, four if S4's timeout falls in the same few milliseconds.
	 */
	assert_true(slow_at_last_fast >= 0 && slow_at_last_fast <= 4);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(slow[i].result, HTTP_TIMEOUT);
		outcome_clear(&slow[i]);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fast[i].result, HTTP_OK);
		outcome_clear(&fast[i]);
	}
	raw_stop(raw);
}

static int
allow_only_127_0_0_1(const char *host, void *arg)
{
	(*(int *)arg)++;
	return strcmp(host, "127.0.0.1") == 0;
}

static void
test_guard(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/ok");
	struct outcome o = { 0 };
	int asked = 0;

	http_set_allow(env->http, allow_only_127_0_0_1, &asked);
	req.host = "127.0.0.2";
	http_send(env->http, &req, outcome_cb, &o);
	assert_int_equal(asked, 1);
	assert_int_equal(o.called, 0); /* completes from the loop, not re-entrantly */
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_REFUSED_BY_GUARD);
	assert_non_null(strstr(o.cause, "127.0.0.2"));
	assert_int_equal(srv_requests(env->srv), 0);
	outcome_clear(&o);

	/* Refused at once but not yet delivered, then cancelled (its owner is being freed, as a
	 * poller at quit): the callback hears cancelled, so it knows to touch nothing. */
	{
		uint64_t id = http_send(env->http, &req, outcome_cb, &o);

		assert_int_equal(http_cancel(env->http, id), 0);
		assert_int_equal(http_cancel(env->http, id), -1); /* already cancelled */
		assert_int_equal(o.called, 0);
		drive(env->loop, &o.called, 1);
		assert_int_equal(o.result, HTTP_CANCELLED);
		outcome_clear(&o);
	}

	req.host = "127.0.0.1";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	outcome_clear(&o);
}

static void
test_bad_request(void **state)
{
	struct env *env = *state;
	struct http_request req = get_req(env->srv->port, "/ok x");
	struct outcome o = { 0 };

	http_send(env->http, &req, outcome_cb, &o);
	assert_int_equal(o.called, 0);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_ERROR);
	assert_non_null(strstr(o.cause, "invalid path"));
	outcome_clear(&o);

	req = get_req(env->srv->port, "/ok");
	req.host = "127.0.0.1/evil";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_ERROR);
	outcome_clear(&o);

	req = get_req(env->srv->port, "/ok");
	req.https = 1;
	req.tls = HTTP_TLS_PIN;
	req.pin_sha256 = "AB:CD";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_ERROR);
	assert_non_null(strstr(o.cause, "pin"));
	outcome_clear(&o);
}

static void
test_ipv6_literal(void **state)
{
	struct env *env = *state;
	struct outcome o = { 0 };
	struct http_request req = get_req(closed_port(), "/ok");

	/* ::1 with nothing listening: the URL is well-formed, the connection is refused. */
	req.host = "::1";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_true(o.result == HTTP_REFUSED || o.result == HTTP_UNREACHABLE);
	assert_non_null(strstr(o.cause, "::1"));
	outcome_clear(&o);
}

static void
test_cancel(void **state)
{
	struct env *env = *state;
	struct raw *raw = raw_start(env->loop, RAW_HANG);
	struct http_request req = get_req(raw->port, "/status");
	struct outcome a = { 0 }, b = { 0 }, c = { 0 };
	uint64_t ia, ib;
	int done = 0;

	req.lane = "one";
	req.lane_limit = 1;
	a.counter = b.counter = &done;
	ia = http_send(env->http, &req, outcome_cb, &a);
	ib = http_send(env->http, &req, outcome_cb, &b); /* queued behind a */
	assert_int_equal(http_cancel(env->http, ib), 0);
	assert_int_equal(http_cancel(env->http, ib), -1); /* already completed */
	assert_int_equal(b.called, 0);
	drive(env->loop, &raw->accepted, 1);
	assert_int_equal(http_cancel(env->http, ia), 0);
	assert_int_equal(a.called, 0);
	drive(env->loop, &done, 2);
	assert_int_equal(a.result, HTTP_CANCELLED);
	assert_int_equal(b.result, HTTP_CANCELLED);
	assert_int_equal(http_cancel(env->http, ia), -1);
	assert_int_equal(http_cancel(env->http, 999999), -1);
	assert_int_equal(raw->accepted, 1);
	outcome_clear(&a);
	outcome_clear(&b);

	/* http_free completes what is pending with cancelled. */
	{
		struct http *h = http_new(env->loop);

		http_send(h, &req, outcome_cb, &a);
		http_send(h, &req, outcome_cb, &b);
		req.host = "127.0.0.1/x";
		http_send(h, &req, outcome_cb, &c);
		drive(env->loop, &raw->accepted, 2);
		http_free(h);
		assert_int_equal(a.called, 1);
		assert_int_equal(b.called, 1);
		assert_int_equal(c.called, 1);
		assert_int_equal(a.result, HTTP_CANCELLED);
		assert_int_equal(b.result, HTTP_CANCELLED);
		/* Already completed before the free: its own result. */
		assert_int_equal(c.result, HTTP_ERROR);
		outcome_clear(&a);
		outcome_clear(&b);
		outcome_clear(&c);
	}
	raw_stop(raw);
}

/* A request started from inside a completion callback. */
struct chain {
	struct http *http;
	uint16_t port;
	int left;
	int done;
};

static void
chain_cb(const struct http_response *resp, void *arg)
{
	struct chain *ch = arg;

	assert_int_equal(resp->result, HTTP_OK);
	if (--ch->left > 0) {
		struct http_request req = get_req(ch->port, "/ok");

		assert_true(http_send(ch->http, &req, chain_cb, ch) != 0);
	} else
		ch->done = 1;
}

static void
test_send_from_callback(void **state)
{
	struct env *env = *state;
	struct chain ch = { env->http, env->srv->port, 5, 0 };
	struct http_request req = get_req(env->srv->port, "/ok");

	http_send(env->http, &req, chain_cb, &ch);
	drive(env->loop, &ch.done, 1);
	assert_int_equal(ch.left, 0);
}

/* ---- HTTPS ---- */

struct tls_fixture {
	char *key_pem;
	char *cert_pem;
	char ca_path[64];
	char pin[96];  /* SPKI SHA-256, "AA:BB:..." */
	char cert[96]; /* certificate SHA-256 */
};

static char *
bio_string(BIO *bio)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	return xstrndup(data, (size_t)n);
}

static void
hex_colon(const unsigned char *md, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + i * 3, "%02X%s", md[i], i + 1 < n ? ":" : "");
}

/* A self-signed P-256 certificate for 127.0.0.1 (also its own CA). */
static void
tls_fixture_make(struct tls_fixture *tf)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	BIO *bio;
	unsigned char md[32], *der = NULL;
	unsigned int mdlen;
	int derlen, fd;
	FILE *fp;

	assert_non_null(pkey);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);

	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	tf->key_pem = bio_string(bio);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, x);
	tf->cert_pem = bio_string(bio);
	BIO_free(bio);

	snprintf(tf->ca_path, sizeof tf->ca_path, "/tmp/test_http_ca.XXXXXX");
	fd = mkstemp(tf->ca_path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(tf->cert_pem, fp);
	fclose(fp);

	X509_digest(x, EVP_sha256(), md, &mdlen);
	hex_colon(md, mdlen, tf->cert);
	derlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	assert_true(derlen > 0);
	EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL);
	hex_colon(md, mdlen, tf->pin);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static void
tls_fixture_free(struct tls_fixture *tf)
{
	unlink(tf->ca_path);
	free(tf->key_pem);
	free(tf->cert_pem);
}

static void
test_https(void **state)
{
	struct env *env = *state;
	struct tls_fixture tf;
	struct srv *tls;
	struct http_request req;
	struct outcome o = { 0 };
	char lower[96], *expect;
	int before;

	tls_fixture_make(&tf);
	tls = srv_start(tf.key_pem, tf.cert_pem);
	req = get_req(tls->port, "/ok");
	req.https = 1;

	/* Pin mode, first contact: accepted, the pin to store is reported. */
	req.tls = HTTP_TLS_PIN;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_string_equal(o.body, "{\"ok\":true}");
	assert_non_null(o.pin);
	assert_string_equal(o.pin, tf.pin);
	assert_string_equal(o.cert, tf.cert);
	outcome_clear(&o);

	/* Pin mode, matching pin (lower case, no colons, is accepted too). */
	{
		size_t j = 0;

		for (const char *p = tf.pin; *p; p++)
			if (*p != ':')
				lower[j++] = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
		lower[j] = '\0';
	}
	req.pin_sha256 = lower;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	outcome_clear(&o);

	/* Pin mode, changed certificate: nothing is sent, not even the credentials. */
	before = srv_requests(tls);
	req.pin_sha256 = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
			 "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
	req.auth = HTTP_AUTH_BASIC;
	req.user = "admin";
	req.password = "s3cret";
	req.path = "/basic";
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_TLS_ERROR);
	expect = xasprintf("certificate changed: expected %s, got %s", req.pin_sha256, tf.pin);
	assert_non_null(strstr(o.cause, expect));
	free(expect);
	assert_int_equal(srv_requests(tls), before);
	outcome_clear(&o);
	req.auth = HTTP_AUTH_NONE;
	req.path = "/ok";
	req.pin_sha256 = NULL;

	/* Verify mode against the CA file. */
	req.tls = HTTP_TLS_VERIFY;
	req.ca_file = tf.ca_path;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_OK);
	assert_string_equal(o.pin, tf.pin);
	outcome_clear(&o);

	/* Verify mode against the system store: a self-signed certificate fails. */
	req.ca_file = NULL;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_int_equal(o.result, HTTP_TLS_ERROR);
	outcome_clear(&o);

	/* Insecure mode (explicit opt-in): accepted, still reports what it saw, warned once
	 * per lane. */
	{
		struct logcap lc;
		char *log;

		logcap_start(&lc, LOG_WARN);
		req.tls = HTTP_TLS_INSECURE;
		for (int i = 0; i < 2; i++) {
			http_send(env->http, &req, outcome_cb, &o);
			drive(env->loop, &o.called, 1);
			assert_int_equal(o.result, HTTP_OK);
			assert_string_equal(o.pin, tf.pin);
			outcome_clear(&o);
		}
		req.lane = "other-lane";
		http_send(env->http, &req, outcome_cb, &o);
		drive(env->loop, &o.called, 1);
		assert_int_equal(o.result, HTTP_OK);
		outcome_clear(&o);
		req.lane = NULL;
		log = logcap_stop(&lc);
		assert_int_equal(count_substr(log, "verification disabled"), 2);
		assert_int_equal(count_substr(log, "other-lane"), 1);
		free(log);
	}

	/* Plain http to a TLS port is not mistaken for success. */
	req.https = 0;
	http_send(env->http, &req, outcome_cb, &o);
	drive(env->loop, &o.called, 1);
	assert_true(o.result != HTTP_OK);
	outcome_clear(&o);

	srv_stop(tls);
	tls_fixture_free(&tf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_digest_verifier_vector),
		cmocka_unit_test_setup_teardown(test_digest_weak_algorithm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_status_keeps_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_basic_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_auth_opaque, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reused_handle_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lane_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lane_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_head_of_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_https, setup, teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
