/*
 * HTTP server on our loop: microhttpd runs in MHD_USE_EPOLL mode without any thread of its
 * own. Its epoll fd is watched (level-triggered) by the loop; on readiness, and when the timer
 * that follows MHD_get_timeout() fires, MHD_run() does the work. After every MHD_run() the
 * timer is re-armed from MHD_get_timeout(), which is 0 while microhttpd still has buffered work
 * that its (edge-triggered) epoll set will not report again.
 *
 * We bind the listening socket ourselves so that errors name the address and errno, and so that
 * port 0 works; microhttpd gets it through MHD_OPTION_LISTEN_SOCKET and closes it when stopped.
 *
 * Request life: microhttpd calls the access handler first with the headers (we route, and
 * answer 404/405/413 at once without reading a body), then once per body chunk (we buffer up to
 * HTTPD_BODY_MAX bytes and discard the rest, up to HTTPD_DISCARD_MAX), then with no data (we
 * call the route's handler, or answer 413). The per-request state is freed in the request-completed callback.
 */
#include "server/httpd.h"

#include "server/connguard.h"

#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTPD_LISTEN_BACKLOG 64
/* A body without Content-Length that passes the cap is read and dropped so that the client
 * gets its 413 (microhttpd 0.9.75 cannot answer before the body is read); past this many
 * dropped bytes the connection is closed instead. */
#define HTTPD_DISCARD_MAX (1024 * 1024)
#define HTTPD_LISTEN_HINT "expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464"

struct httpd_route {
	char *method;
	char *path;
	httpd_handler_cb cb;
	void *arg;
};

struct httpd {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_watch *watch;
	struct loop_timer *timer;
	struct connguard *guard; /* request deadline and the reserve of connection slots */
	uint16_t port;
	struct httpd_route *routes;
	size_t nroutes;
	char *cert_pem, *key_pem; /* HTTPS (httpd_new_tls); the key is wiped on free */
};

struct httpd_request {
	struct httpd *httpd;
	struct MHD_Connection *conn;
	const struct httpd_route *route;
	const char *method;
	const char *path;
	char *body;		/* NUL-terminated; NULL until the first byte */
	size_t body_len;
	size_t body_size;
	size_t discarded;	/* bytes dropped once the body passed the cap */
	bool too_large;
	bool answered;		/* a response is queued */
};

static void httpd_schedule(struct httpd *httpd);

/* ---- listen address parsing -------------------------------------------------------------- */

static int
httpd_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
httpd_parse_listen(const char *addr, struct sockaddr_storage *ss, socklen_t *sslen,
    char **cause)
{
	char *copy, *host, *port_s, *end;
	uint16_t port;
	int rc = -1;

	memset(ss, 0, sizeof *ss);
	*sslen = 0;
	if (addr == NULL || *addr == '\0') {
		*cause = xasprintf("empty listen address (" HTTPD_LISTEN_HINT ")");
		return -1;
	}
	copy = xstrdup(addr);
	if (copy[0] == '[') {
		host = copy + 1;
		end = strchr(host, ']');
		if (end == NULL) {
			*cause = xasprintf("listen address \"%s\": missing ']' after the IPv6 address",
			    addr);
			goto out;
		}
		*end = '\0';
		if (end[1] != ':') {
			*cause = xasprintf("listen address \"%s\": missing port after ']' (" HTTPD_LISTEN_HINT
			    ")", addr);
			goto out;
		}
		port_s = end + 2;
	} else {
		end = strrchr(copy, ':');
		if (end == NULL) {
			*cause = xasprintf("listen address \"%s\": missing port (" HTTPD_LISTEN_HINT ")",
			    addr);
			goto out;
		}
		if (memchr(copy, ':', (size_t)(end - copy)) != NULL) {
			*cause = xasprintf("listen address \"%s\": an IPv6 address must be in brackets, "
			    "e.g. [::1]:9464", addr);
			goto out;
		}
		*end = '\0';
		host = copy;
		port_s = end + 1;
	}
	if (*host == '\0') {
		*cause = xasprintf("listen address \"%s\": missing host (use 127.0.0.1, or 0.0.0.0 for "
		    "every IPv4 address)", addr);
		goto out;
	}
	if (httpd_parse_port(port_s, &port) != 0) {
		*cause = xasprintf("listen address \"%s\": bad port \"%s\" (a number 0-65535, 0 for any "
		    "free port)", addr, port_s);
		goto out;
	}

	if (copy[0] == '[') {
		struct addrinfo hints, *ai = NULL;
		int gai;

		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_INET6;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		gai = getaddrinfo(host, NULL, &hints, &ai);
		if (gai != 0 || ai == NULL || ai->ai_addrlen > sizeof *ss) {
			*cause = xasprintf("listen address \"%s\": \"%s\" is not an IPv6 address",
			    addr, host);
			if (ai != NULL)
				freeaddrinfo(ai);
			goto out;
		}
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*sslen = sizeof(struct sockaddr_in6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (strcmp(host, "localhost") == 0)
			host = "127.0.0.1";
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			*cause = xasprintf("listen address \"%s\": \"%s\" is not an IPv4 address (host "
			    "names are not resolved; IPv6 goes in brackets)", addr, host);
			goto out;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof *sin;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* Returns a bound, listening, non-blocking socket, or -1 with *cause. */
static int
httpd_listen_socket(const char *addr, uint16_t *port, char **cause)
{
	struct sockaddr_storage ss, bound;
	socklen_t sslen, blen = sizeof bound;
	int fd, one = 1;

	if (httpd_parse_listen(addr, &ss, &sslen, cause) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		*cause = xasprintf("cannot listen on %s: socket: %s", addr, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		log_warn("http: SO_REUSEADDR on %s: %s", addr, strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
		*cause = xasprintf("cannot listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	if (listen(fd, HTTPD_LISTEN_BACKLOG) != 0) {
		*cause = xasprintf("cannot listen on %s: %s", addr, strerror(errno));
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
		*cause = xasprintf("cannot listen on %s: getsockname: %s", addr, strerror(errno));
		goto fail;
	}
	if (bound.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return fd;
fail:
	close(fd);
	return -1;
}

/* ---- loop integration -------------------------------------------------------------------- */

static void
httpd_run(struct httpd *httpd)
{
	if (MHD_run(httpd->mhd) != MHD_YES)
		log_warn("http: MHD_run failed");
	httpd_schedule(httpd);
}

static void
httpd_fd_cb(int fd, int events, void *arg)
{
	(void)fd;
	(void)events;
	httpd_run(arg);
}

static void
httpd_timer_cb(void *arg)
{
	httpd_run(arg);
}

/* Arms the timer for microhttpd's next deadline (connection timeouts, pending work). */
static void
httpd_schedule(struct httpd *httpd)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(httpd->mhd, &ms) == MHD_YES)
		loop_timer_arm(httpd->timer, (uint64_t)ms);
	else
		loop_timer_disarm(httpd->timer);
}

__attribute__((format(printf, 2, 0))) static void
httpd_log_cb(void *arg, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)arg;
	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* A client that went away (or was closed at its request deadline) is no server fault,
	 * and one line each would let a client flood the log. */
	if (strncmp(line, "Connection socket is closed", 27) == 0 ||
	    strncmp(line, "Connection was closed by remote side", 36) == 0)
		log_debug("http: %s", line);
	else
		log_warn("http: %s", line);
}

/* ---- replies ----------------------------------------------------------------------------- */

static bool
httpd_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c) != NULL)
			return false;
	}
	return true;
}

void
httpd_reply_text(struct httpd_reply *reply, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(reply->body);
	va_start(ap, fmt);
	n = vasprintf(&reply->body, fmt, ap);
	va_end(ap);
	if (n < 0) {
		log_error("out of memory formatting a reply");
		abort();
	}
	reply->body_len = (size_t)n;
	reply->status = status;
	reply->content_type = HTTPD_TEXT;
}

int
httpd_reply_header(struct httpd_reply *reply, const char *name, const char *value)
{
	if (name == NULL || value == NULL || !httpd_token(name))
		return -1;
	for (const char *p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	reply->headers = xreallocarray(reply->headers, reply->nheaders + 2, sizeof *reply->headers);
	reply->headers[reply->nheaders++] = xstrdup(name);
	reply->headers[reply->nheaders++] = xstrdup(value);
	return 0;
}

static void
httpd_reply_done(struct httpd_reply *reply)
{
	str_array_free(reply->headers, reply->nheaders);
	if (reply->wipe && reply->body != NULL)
		explicit_bzero(reply->body, reply->body_len);
	free(reply->body);
	if (reply->stream_free_cb != NULL)
		reply->stream_free_cb(reply->stream_arg);
	memset(reply, 0, sizeof *reply);
}

/* microhttpd's reader of a streamed body: the handler's producer. */
static ssize_t
httpd_stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct httpd_reply *r = cls;
	long n = r->stream_cb(r->stream_arg, pos, buf, max);

	return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void
httpd_stream_free_cb(void *cls)
{
	struct httpd_reply *r = cls;

	if (r->stream_free_cb != NULL)
		r->stream_free_cb(r->stream_arg);
	free(r);
}

/* A response over the reply's producer; the producer is the response's from now on. */
static struct MHD_Response *
httpd_stream_response(struct httpd_reply *reply)
{
	struct httpd_reply *r = xcalloc(1, sizeof *r);
	struct MHD_Response *resp;

	r->stream_cb = reply->stream_cb;
	r->stream_free_cb = reply->stream_free_cb;
	r->stream_arg = reply->stream_arg;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, httpd_stream_cb, r,
	    httpd_stream_free_cb);
	if (resp == NULL) {
		free(r);
		return NULL;
	}
	reply->stream_free_cb = NULL; /* microhttpd calls it now */
	return resp;
}

static void
httpd_reply_init(struct httpd_reply *reply)
{
	memset(reply, 0, sizeof *reply);
	reply->status = 200;
	reply->content_type = HTTPD_TEXT;
}

/* A secret body handed to microhttpd, wiped when it frees the response. */
struct httpd_secret {
	char *body;
	size_t len;
};

static void
httpd_secret_free_cb(void *cls)
{
	struct httpd_secret *s = cls;

	explicit_bzero(s->body, s->len);
	free(s->body);
	free(s);
}

static struct MHD_Response *
httpd_secret_response(struct httpd_reply *reply)
{
	struct httpd_secret *s = xmalloc(sizeof *s);
	struct MHD_Response *resp;

	s->body = reply->body;
	s->len = reply->body_len;
	resp = MHD_create_response_from_buffer_with_free_callback_cls(
	    s->len, s->body, httpd_secret_free_cb, s);
	if (resp != NULL)
		reply->body = NULL; /* microhttpd calls httpd_secret_free_cb */
	else
		free(s);
	return resp;
}

/* Sends reply on conn (taking its body) and clears it. */
/* The guard's record of conn (set when microhttpd announced it), or NULL. */
static struct connguard_conn *
httpd_guarded(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

static enum MHD_Result
httpd_send(struct httpd_request *req, struct httpd_reply *reply)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (reply->status < 100 || reply->status > 599) {
		log_error("http: handler for %s %s set status %d", req->method, req->path,
		    reply->status);
		httpd_reply_text(reply, 500, "internal error\n");
	}
	if (reply->stream_cb != NULL && reply->body == NULL) {
		resp = httpd_stream_response(reply);
	} else if (reply->body_len == 0 || reply->body == NULL) {
		free(reply->body);
		reply->body = NULL;
		reply->body_len = 0;
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else if (reply->wipe) {
		resp = httpd_secret_response(reply);
	} else {
		resp = MHD_create_response_from_buffer(reply->body_len, reply->body,
		    MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			reply->body = NULL; /* microhttpd frees it now */
	}
	if (resp == NULL) {
		log_error("http: cannot create a response");
		httpd_reply_done(reply);
		return MHD_NO;
	}
	if (reply->content_type != NULL &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type) !=
		MHD_YES)
		log_warn("http: bad content type for %s %s", req->method, req->path);
	for (size_t i = 0; i + 1 < reply->nheaders; i += 2) {
		if (MHD_add_response_header(resp, reply->headers[i], reply->headers[i + 1]) != MHD_YES)
			log_warn("http: header %s refused", reply->headers[i]);
	}
	log_debug("http: %s %s -> %d", req->method, req->path, reply->status);
	rc = MHD_queue_response(req->conn, (unsigned int)reply->status, resp);
	req->answered = rc == MHD_YES;
	if (req->answered && httpd_guarded(req->conn) != NULL)
		connguard_answered(httpd_guarded(req->conn));
	MHD_destroy_response(resp);
	httpd_reply_done(reply);
	return rc;
}

__attribute__((format(printf, 4, 5))) static enum MHD_Result
httpd_send_error(struct httpd_request *req, int status, const char *allow, const char *fmt, ...)
{
	struct httpd_reply reply;
	va_list ap;
	char *text;

	httpd_reply_init(&reply);
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0) {
		log_error("out of memory formatting a reply");
		abort();
	}
	va_end(ap);
	httpd_reply_text(&reply, status, "%s\n", text);
	free(text);
	if (allow != NULL)
		httpd_reply_header(&reply, MHD_HTTP_HEADER_ALLOW, allow);
	return httpd_send(req, &reply);
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Returns the route answering method on path: GET routes also answer HEAD. */
static const struct httpd_route *
httpd_find_route(const struct httpd *httpd, const char *method, const char *path,
    bool *path_known)
{
	const char *want = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;

	*path_known = false;
	for (size_t i = 0; i < httpd->nroutes; i++) {
		if (strcmp(httpd->routes[i].path, path) != 0)
			continue;
		*path_known = true;
		if (strcmp(httpd->routes[i].method, want) == 0)
			return &httpd->routes[i];
	}
	return NULL;
}

/* Returns the Allow header value for path ("GET, HEAD, POST"); caller frees. */
static char *
httpd_allow(const struct httpd *httpd, const char *path)
{
	char *allow = xstrdup(""), *next;

	for (size_t i = 0; i < httpd->nroutes; i++) {
		const struct httpd_route *r = &httpd->routes[i];

		if (strcmp(r->path, path) != 0)
			continue;
		next = xasprintf("%s%s%s%s", allow, *allow != '\0' ? ", " : "", r->method,
		    strcmp(r->method, MHD_HTTP_METHOD_GET) == 0 ? ", HEAD" : "");
		free(allow);
		allow = next;
	}
	return allow;
}

/* Returns 1 if the declared Content-Length exceeds the cap, 0 otherwise (or if absent). */
static int
httpd_declared_too_large(struct MHD_Connection *conn)
{
	const char *cl;
	unsigned long long v = 0;

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return 0;
	for (; *cl == ' ' || *cl == '\t'; cl++)
		;
	for (; *cl >= '0' && *cl <= '9'; cl++) {
		v = v * 10 + (unsigned long long)(*cl - '0');
		if (v > HTTPD_BODY_MAX)
			return 1;
	}
	return 0;
}

static void
httpd_body_append(struct httpd_request *req, const char *data, size_t len)
{
	if (req->too_large) {
		req->discarded = len > SIZE_MAX - req->discarded ? SIZE_MAX : req->discarded + len;
		return;
	}
	if (len > HTTPD_BODY_MAX - req->body_len) {
		req->too_large = true;
		req->discarded = req->body_len + len;
		free(req->body);
		req->body = NULL;
		req->body_len = req->body_size = 0;
		return;
	}
	if (req->body_len + len + 1 > req->body_size) {
		size_t size = req->body_size == 0 ? 1024 : req->body_size;

		while (size < req->body_len + len + 1)
			size *= 2;
		req->body = xrealloc(req->body, size);
		req->body_size = size;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
}

static enum MHD_Result
httpd_access_cb(void *arg, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
	struct httpd *httpd = arg;
	struct httpd_request *req = *state;
	struct httpd_reply reply;

	(void)version;
	if (req == NULL) {
		bool path_known;

		req = xcalloc(1, sizeof *req);
		req->httpd = httpd;
		req->conn = conn;
		req->method = method;
		req->path = url;
		*state = req;
		req->route = httpd_find_route(httpd, method, url, &path_known);
		if (req->route == NULL && !path_known)
			return httpd_send_error(req, MHD_HTTP_NOT_FOUND, NULL, "%s", "not found");
		if (req->route == NULL) {
			char *allow = httpd_allow(httpd, url);
			enum MHD_Result rc;

			rc = httpd_send_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "%s",
			    "method not allowed");
			free(allow);
			return rc;
		}
		if (httpd_declared_too_large(conn)) {
			req->too_large = true;
			return httpd_send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
			    "request body too large (limit %d bytes)", HTTPD_BODY_MAX);
		}
		return MHD_YES;
	}
	if (req->answered) {
		/* Answered from the headers (404, 405, 413): drop whatever body still comes. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		httpd_body_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		if (req->discarded > HTTPD_DISCARD_MAX) {
			log_debug("http: %s %s: body over %d bytes, connection closed", req->method,
			    req->path, HTTPD_DISCARD_MAX);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (req->too_large)
		return httpd_send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
		    "request body too large (limit %d bytes)", HTTPD_BODY_MAX);

	httpd_reply_init(&reply);
	req->route->cb(req, &reply, req->route->arg);
	return httpd_send(req, &reply);
}

static void
httpd_completed_cb(void *arg, struct MHD_Connection *conn, void **state,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_request *req = *state;

	(void)arg;
	if (httpd_guarded(conn) != NULL)
		connguard_next(httpd_guarded(conn)); /* a kept-alive connection's next request */
	if (req == NULL)
		return;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("http: %s %s ended early (%d)", req->method, req->path, (int)toe);
	free(req->body);
	free(req);
	*state = NULL;
}

const char *
httpd_request_method(const struct httpd_request *req)
{
	return req->method;
}

const char *
httpd_request_path(const struct httpd_request *req)
{
	return req->path;
}

const char *
httpd_request_body(const struct httpd_request *req, size_t *len)
{
	if (len != NULL)
		*len = req->body_len;
	return req->body != NULL ? req->body : "";
}

const char *
httpd_request_header(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
httpd_request_query(const struct httpd_request *req, const char *name)
{
	const char *value = NULL;

	if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name),
		&value, NULL) != MHD_YES)
		return NULL;
	return value != NULL ? value : "";
}

/* ---- server ------------------------------------------------------------------------------ */

static enum MHD_Result
httpd_admit_cb(void *arg, const struct sockaddr *addr, socklen_t addrlen)
{
	struct httpd *httpd = arg;

	(void)addrlen;
	if (connguard_admit(httpd->guard, addr))
		return MHD_YES;
	log_debug("http: connection refused: the last slots are kept for other addresses");
	return MHD_NO;
}

static void
httpd_connection_cb(void *arg, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct httpd *httpd = arg;
	const union MHD_ConnectionInfo *fd, *addr;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (*socket_context != NULL)
			connguard_close(*socket_context);
		*socket_context = NULL;
		return;
	}
	fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	*socket_context = fd == NULL ? NULL
	                             : connguard_open(httpd->guard, fd->connect_fd,
	                                   addr != NULL ? addr->client_addr : NULL);
}

struct httpd *
httpd_new(struct loop *loop, const char *addr, char **cause)
{
	return httpd_new_tls(loop, addr, NULL, cause);
}

static void
httpd_tls_free(struct httpd *httpd)
{
	str_free_secret(httpd->key_pem);
	free(httpd->cert_pem);
}

struct httpd *
httpd_new_tls(struct loop *loop, const char *addr, const struct httpd_tls *tls, char **cause)
{
	struct httpd *httpd;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem tls_opts[3] = {{MHD_OPTION_END, 0, NULL}};
	uint16_t port;
	int fd;

	fd = httpd_listen_socket(addr, &port, cause);
	if (fd == -1)
		return NULL;
	httpd = xcalloc(1, sizeof *httpd);
	httpd->loop = loop;
	httpd->port = port;
	httpd->guard = connguard_new(loop, HTTPD_CONNECTION_LIMIT, HTTPD_RESERVED_SLOTS,
	    HTTPD_REQUEST_DEADLINE_S * 1000);
	if (tls != NULL) {
		httpd->cert_pem = xstrdup(tls->cert_pem);
		httpd->key_pem = xstrdup(tls->key_pem);
		tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, httpd->cert_pem};
		tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, httpd->key_pem};
		tls_opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	}
	httpd->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (tls != NULL ? MHD_USE_TLS : 0), 0, httpd_admit_cb, httpd,
	    httpd_access_cb, httpd,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_log_cb, httpd,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONNECTION_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTPD_PER_ADDRESS_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_CONNECTION_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_completed_cb, httpd,
	    MHD_OPTION_NOTIFY_CONNECTION, httpd_connection_cb, httpd,
	    MHD_OPTION_ARRAY, tls_opts,
	    MHD_OPTION_END);
	if (httpd->mhd == NULL) {
		/* Single-threaded: if fd is still open it is still ours (microhttpd closes every
		 * descriptor it opened when it fails). */
		if (fcntl(fd, F_GETFD) != -1)
			close(fd);
		*cause = xasprintf("cannot start the HTTP%s server on %s (see the log)",
		    tls != NULL ? "S" : "", addr);
		httpd_tls_free(httpd);
		connguard_free(httpd->guard);
		free(httpd);
		return NULL;
	}
	info = MHD_get_daemon_info(httpd->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		*cause = xasprintf("cannot start the HTTP server on %s: no epoll descriptor", addr);
		MHD_stop_daemon(httpd->mhd);
		httpd_tls_free(httpd);
		connguard_free(httpd->guard);
		free(httpd);
		return NULL;
	}
	httpd->watch = loop_watch_new(loop, info->epoll_fd, LOOP_READ, httpd_fd_cb, httpd);
	httpd->timer = loop_timer_new(loop, httpd_timer_cb, httpd);
	httpd_schedule(httpd);
	log_info("http%s: listening on %s (port %u)", tls != NULL ? "s" : "", addr,
	    (unsigned int)port);
	return httpd;
}

void
httpd_free(struct httpd *httpd)
{
	if (httpd == NULL)
		return;
	loop_watch_free(httpd->watch);
	loop_timer_free(httpd->timer);
	MHD_stop_daemon(httpd->mhd);
	connguard_free(httpd->guard);
	for (size_t i = 0; i < httpd->nroutes; i++) {
		free(httpd->routes[i].method);
		free(httpd->routes[i].path);
	}
	free(httpd->routes);
	httpd_tls_free(httpd);
	free(httpd);
}

uint16_t
httpd_port(const struct httpd *httpd)
{
	return httpd->port;
}

int
httpd_route(struct httpd *httpd, const char *method, const char *path, httpd_handler_cb cb,
    void *arg)
{
	struct httpd_route *r;

	if (method == NULL || path == NULL || cb == NULL || !httpd_token(method) ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 || path[0] != '/' ||
	    strchr(path, '?') != NULL)
		return -1;
	for (size_t i = 0; i < httpd->nroutes; i++) {
		if (strcmp(httpd->routes[i].method, method) == 0 &&
		    strcmp(httpd->routes[i].path, path) == 0)
			return -1;
	}
	httpd->routes = xreallocarray(httpd->routes, httpd->nroutes + 1, sizeof *httpd->routes);
	r = &httpd->routes[httpd->nroutes++];
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	r->cb = cb;
	r->arg = arg;
	return 0;
}
