/*
 * Network side of the fleet. Every device owns a listening socket on its own address, watched by
 * the loop; accepted connections are handed to microhttpd (MHD_add_connection): one shared
 * daemon for all plain-HTTP devices, one daemon per HTTPS device (its own certificate). Daemons
 * run in external epoll mode: their epoll fd is a loop watch, MHD_get_timeout a loop timer. The
 * device of a connection is known at accept time (or from its local address).
 *
 * Network faults change the listener: closed (none: refused), silent (backlog 0 with the accept
 * queue filled by a connection of our own, so SYNs are dropped), reboot (closed for a while).
 * Request faults act per request: reset (RST), noanswer (suspended), hold (suspended until the
 * next fault change, then answered), body faults.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "sim.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define BODY_MAX (256u << 10)
#define MAX_PATHS 64
#define ACCEPT_BURST 64
#define LISTEN_BACKLOG 128

struct srv {
	struct sim *sim;
	struct MHD_Daemon *mhd;
	struct loop_watch *watch;
	struct loop_timer *timer;
	struct dev *owner; /* HTTPS daemon of one device; NULL for shared/control */
	struct park *parked;
	bool running; /* inside MHD_run */
};

/* One accepted connection (MHD socket context). */
struct sim_conn {
	struct dev *dev;
	int fd;
	bool in_flight;
	struct sim_conn *next, *prev;
};

/* --- daemons on the loop --- */

static void
srv_arm(struct srv *s)
{
	MHD_UNSIGNED_LONG_LONG to;

	if (MHD_get_timeout(s->mhd, &to) == MHD_YES)
		loop_timer_arm(s->timer, to > 60000 ? 60000 : to);
	else
		loop_timer_disarm(s->timer);
}

static void
srv_run(struct srv *s)
{
	s->running = true;
	MHD_run(s->mhd);
	s->running = false;
	srv_arm(s);
}

static void
srv_fd_cb(int fd, int events, void *arg)
{
	(void)fd;
	(void)events;
	srv_run(arg);
}

static void
srv_timer_cb(void *arg)
{
	srv_run(arg);
}

static struct srv *
srv_alloc(struct sim *sim, struct dev *owner)
{
	struct srv *s = xcalloc(1, sizeof *s);
	s->sim = sim;
	s->owner = owner;
	return s;
}

static int
srv_attach(struct srv *s, struct MHD_Daemon *mhd, char **cause)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);

	s->mhd = mhd;
	if (!di || di->epoll_fd < 0) {
		*cause = xstrdup("microhttpd gave no epoll fd (built without epoll?)");
		return -1;
	}
	s->watch = loop_watch_new(s->sim->loop, di->epoll_fd, LOOP_READ, srv_fd_cb, s);
	s->timer = loop_timer_new(s->sim->loop, srv_timer_cb, s);
	srv_arm(s);
	return 0;
}

struct srv *
srv_new(struct sim *sim, struct MHD_Daemon *mhd, char **cause)
{
	struct srv *s = srv_alloc(sim, NULL);
	if (srv_attach(s, mhd, cause) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void
park_unlink(struct park *p)
{
	if (!p->on)
		return;
	if (p->prev)
		p->prev->next = p->next;
	else
		p->srv->parked = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
	p->on = false;
}

static void
park_link(struct srv *s, struct park *p, struct MHD_Connection *conn)
{
	p->srv = s;
	p->conn = conn;
	p->prev = NULL;
	p->next = s->parked;
	if (s->parked)
		s->parked->prev = p;
	s->parked = p;
	p->on = true;
}

void
srv_free(struct srv *s)
{
	if (!s)
		return;
	/* MHD requires every suspended connection resumed before MHD_stop_daemon. */
	while (s->parked) {
		struct park *p = s->parked;
		park_unlink(p);
		p->unpark(p);
	}
	if (s->watch)
		loop_watch_free(s->watch);
	if (s->timer)
		loop_timer_free(s->timer);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	free(s);
}

void
srv_kick(struct srv *s)
{
	if (s)
		loop_timer_arm(s->timer, 0);
}

/* --- addresses and devices --- */

struct dev *
sim_dev_lookup(struct sim *sim, const char *key)
{
	char *end;
	unsigned long idx;

	if (!key || !key[0])
		return NULL;
	idx = strtoul(key, &end, 10);
	if (*end == '\0' && end != key)
		return idx < sim->ndevs ? sim->devs[idx] : NULL;
	for (size_t i = 0; i < sim->ndevs; i++)
		if (strcasecmp(sim->devs[i]->id, key) == 0 ||
		    strcasecmp(sim->devs[i]->mac, key) == 0)
			return sim->devs[i];
	return NULL;
}

static struct dev *
dev_by_local(struct sim *sim, int fd)
{
	struct sockaddr_in sa;
	socklen_t l = sizeof sa;
	long pos;

	if (getsockname(fd, (struct sockaddr *)&sa, &l) < 0 || sa.sin_family != AF_INET)
		return NULL;
	pos = addr_pos(sim->base, ntohl(sa.sin_addr.s_addr));
	if (pos < 0 || (size_t)pos >= sim->pool_len)
		return NULL;
	return sim->pool[pos];
}

/* --- MHD callbacks --- */

static void
log_cb(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("microhttpd: %s", buf);
}

static void
conn_notify_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct srv *s = cls;
	struct sim_conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = xcalloc(1, sizeof *c);
		c->fd = ci ? ci->connect_fd : -1;
		c->dev = s->owner ? s->owner : s->sim->adding;
		if (!c->dev && c->fd >= 0)
			c->dev = dev_by_local(s->sim, c->fd);
		if (c->dev) {
			struct dev *d = c->dev;
			c->in_flight = true;
			if (++d->c.in_flight > d->c.max_in_flight)
				d->c.max_in_flight = d->c.in_flight;
			c->next = d->conns;
			if (d->conns)
				d->conns->prev = c;
			d->conns = c;
			d->nconns++;
		}
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	if (c->dev) {
		struct dev *d = c->dev;
		if (c->in_flight)
			d->c.in_flight--;
		if (c->prev)
			c->prev->next = c->next;
		else
			d->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		d->nconns--;
	}
	free(c);
	*socket_context = NULL;
}

static void
req_free(struct sim_req *req)
{
	park_unlink(&req->park);
	if (req->watch)
		loop_watch_free(req->watch);
	free(req->path);
	free(req->body);
	free(req);
}

static void
req_done_cb(
    void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct sim_req *req = *con_cls;
	const union MHD_ConnectionInfo *ci;
	(void)cls;
	(void)toe;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context) {
		struct sim_conn *c = ci->socket_context;
		if (c->in_flight && c->dev) {
			c->in_flight = false;
			c->dev->c.in_flight--;
		}
	}
	if (req)
		req_free(req);
	*con_cls = NULL;
}

static void
count_path(struct dev *d, const char *path)
{
	struct counters *c = &d->c;
	size_t i;

	if (c->npaths >= MAX_PATHS)
		path = "(other)";
	for (i = 0; i < c->npaths; i++)
		if (strcmp(c->paths[i].path, path) == 0) {
			c->paths[i].n++;
			return;
		}
	c->paths = xreallocarray(c->paths, c->npaths + 1, sizeof *c->paths);
	c->paths[c->npaths].path = xstrdup(path);
	c->paths[c->npaths].n = 1;
	c->npaths++;
}

const char *
req_arg(struct sim_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct args_ctx {
	void (*fn)(void *arg, const char *key, const char *value);
	void *arg;
};

static enum MHD_Result
args_it(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct args_ctx *a = cls;
	(void)kind;
	a->fn(a->arg, key, value);
	return MHD_YES;
}

void
req_args(struct sim_req *req, void (*fn)(void *arg, const char *key, const char *value), void *arg)
{
	struct args_ctx a = {fn, arg};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, args_it, &a);
}

const char *
req_header(struct sim_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* --- request faults --- */

static enum sim_fault
active_fault(struct dev *d, struct sim_req *req)
{
	enum sim_fault f = d->fault;

	if (f == SIM_FAULT_NONE || f > SIM_FAULT_LAST_PERSISTENT || f == SIM_FAULT_SILENT ||
	    f == SIM_FAULT_CLOSED)
		return SIM_FAULT_NONE;
	if (d->fault_path && strncmp(req->path, d->fault_path, strlen(d->fault_path)) != 0)
		return SIM_FAULT_NONE;
	if (d->fault_count == 0)
		return SIM_FAULT_NONE;
	if (d->fault_count > 0 && --d->fault_count == 0) {
		/* Last affected request: the device is healthy again afterwards. */
		d->fault = SIM_FAULT_NONE;
		free(d->fault_path);
		d->fault_path = NULL;
		d->fault_count = -1;
		char *cause = NULL;
		if (manifest_write(d->sim, &cause) < 0) {
			log_error("%s", cause);
			free(cause);
		}
	}
	d->c.faults++;
	return f;
}

static void
conn_reset(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct linger lg = {1, 0};
	struct sockaddr sa = {.sa_family = AF_UNSPEC};

	if (!ci)
		return;
	/* connect(AF_UNSPEC) disconnects a TCP socket with an RST right away; MHD closes the fd. */
	setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	if (connect(ci->connect_fd, &sa, sizeof sa) < 0 && errno != EAFNOSUPPORT)
		log_debug("reset: connect(AF_UNSPEC): %s", strerror(errno));
}

static void
noanswer_unpark(struct park *p)
{
	struct sim_req *req = (struct sim_req *)((char *)p - offsetof(struct sim_req, park));
	if (req->watch) {
		loop_watch_free(req->watch);
		req->watch = NULL;
	}
	req->gone = true;
	MHD_resume_connection(p->conn);
}

/* The peer of a parked (noanswer) request: drain what it sends, notice when it goes. */
static void
noanswer_fd_cb(int fd, int events, void *arg)
{
	struct sim_req *req = arg;
	char buf[512];
	ssize_t n;

	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n > 0 && !(events & LOOP_ERROR))
		return;
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & LOOP_ERROR))
		return;
	struct srv *s = req->park.srv;
	park_unlink(&req->park);
	noanswer_unpark(&req->park);
	srv_kick(s);
}

static void
park_noanswer(struct srv *s, struct sim_req *req)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	MHD_suspend_connection(req->conn);
	req->park.unpark = noanswer_unpark;
	park_link(s, &req->park, req->conn);
	if (ci)
		req->watch =
		    loop_watch_new(s->sim->loop, ci->connect_fd, LOOP_READ, noanswer_fd_cb, req);
}

/* A response body served by a reader: truncated (stops early) or slow (drips). */
struct body_src {
	struct srv *srv;
	struct loop *loop;
	struct MHD_Connection *conn;
	struct park park;
	struct loop_timer *timer;
	char *data;
	size_t len, limit, chunk;
	uint64_t next, interval;
	bool drip, aborted;
};

static void
body_unpark(struct park *p)
{
	struct body_src *b = (struct body_src *)((char *)p - offsetof(struct body_src, park));
	loop_timer_disarm(b->timer);
	b->aborted = true;
	MHD_resume_connection(p->conn);
}

static void
body_timer_cb(void *arg)
{
	struct body_src *b = arg;
	if (!b->park.on)
		return;
	park_unlink(&b->park);
	MHD_resume_connection(b->conn);
	srv_kick(b->srv);
}

static ssize_t
body_reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body_src *b = cls;
	size_t n;

	if (b->aborted)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (pos >= b->limit)
		return b->limit < b->len ? MHD_CONTENT_READER_END_WITH_ERROR
		                         : MHD_CONTENT_READER_END_OF_STREAM;
	n = b->limit - (size_t)pos;
	if (n > max)
		n = max;
	if (b->drip) {
		uint64_t now = loop_update_now(b->loop);
		if (now < b->next) {
			MHD_suspend_connection(b->conn);
			park_link(b->srv, &b->park, b->conn);
			loop_timer_arm_at(b->timer, b->next);
			return 0;
		}
		if (n > b->chunk)
			n = b->chunk;
		b->next = now + b->interval;
	}
	memcpy(buf, b->data + pos, n);
	return (ssize_t)n;
}

static void
body_free_cb(void *cls)
{
	struct body_src *b = cls;
	park_unlink(&b->park);
	loop_timer_free(b->timer);
	free(b->data);
	free(b);
}

static struct MHD_Response *
body_response(struct srv *s, struct MHD_Connection *conn, struct reply *rep, bool drip)
{
	struct body_src *b = xcalloc(1, sizeof *b);
	struct MHD_Response *r;

	b->srv = s;
	b->loop = s->sim->loop;
	b->conn = conn;
	b->data = rep->body;
	b->len = rep->len;
	rep->body = NULL;
	b->park.unpark = body_unpark;
	b->timer = loop_timer_new(s->sim->loop, body_timer_cb, b);
	if (drip) {
		uint64_t total = s->sim->o.drip_ms, steps;
		b->drip = true;
		b->limit = b->len;
		b->interval = 100;
		steps = total / b->interval;
		if (steps < 1)
			steps = 1;
		b->chunk = b->len / steps + 1;
	} else {
		b->limit = b->len / 2;
	}
	r = MHD_create_response_from_callback(b->len, 1024, body_reader_cb, b, body_free_cb);
	if (!r)
		body_free_cb(b);
	return r;
}

/* Replaces it (a member of o) by with, keeping its key. */
static void
replace_item(cJSON *o, cJSON *it, cJSON *with)
{
	if (it->string) {
		with->string = xstrdup(it->string);
		with->type &= ~cJSON_StringIsConst;
	}
	cJSON_ReplaceItemViaPointer(o, it, with);
}

/* numbers -> strings, booleans -> objects */
static void
wrong_types(cJSON *o)
{
	cJSON *it, *next;

	for (it = o ? o->child : NULL; it; it = next) {
		next = it->next;
		if (cJSON_IsNumber(it)) {
			char num[64];
			snprintf(num, sizeof num, "%.15g", it->valuedouble);
			replace_item(o, it, cJSON_CreateString(num));
		} else if (cJSON_IsBool(it)) {
			cJSON *w = cJSON_CreateObject();
			cJSON_AddBoolToObject(w, "value", cJSON_IsTrue(it));
			replace_item(o, it, w);
		} else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
			wrong_types(it);
		}
	}
}

static void
body_fault(struct sim *sim, enum sim_fault f, struct reply *rep)
{
	struct buf b = {0};

	switch (f) {
	case SIM_FAULT_MALFORMED:
		buf_add(&b, rep->body, rep->len / 2);
		buf_adds(&b, ",,,<<<not json");
		break;
	case SIM_FAULT_OVERSIZED: {
		size_t pad = sim->o.oversize > rep->len ? sim->o.oversize - rep->len : 1;
		char *p = xmalloc(pad);
		memset(p, 'A', pad);
		if (rep->len >= 2 && rep->body[0] == '{') {
			bool empty = rep->body[1] == '}';
			buf_adds(&b, "{\"_pad\":\"");
			buf_add(&b, p, pad);
			buf_adds(&b, empty ? "\"" : "\",");
			buf_add(&b, rep->body + 1, rep->len - 1);
		} else {
			buf_adds(&b, "{\"_pad\":\"");
			buf_add(&b, p, pad);
			buf_adds(&b, "\",\"_body\":");
			buf_add(&b, rep->body, rep->len);
			buf_adds(&b, "}");
		}
		free(p);
		break;
	}
	case SIM_FAULT_WRONGTYPES: {
		cJSON *o = cJSON_ParseWithLength(rep->body, rep->len);
		if (!o)
			return;
		wrong_types(o);
		size_t n;
		char *t = js_print(o, &n);
		cJSON_Delete(o);
		buf_add(&b, t, n);
		free(t);
		break;
	}
	case SIM_FAULT_DEEP: {
		size_t n = sim->o.deep;
		char *t = xmalloc(2 * n + 1);
		memset(t, '[', n);
		memset(t + n, ']', n);
		t[2 * n] = '\0';
		free(b.p);
		reply_json(rep, 200, t, 2 * n);
		return;
	}
	default:
		return;
	}
	size_t len;
	char *body = buf_take(&b, &len);
	reply_json(rep, rep->status, body, len);
}

static enum MHD_Result
queue_reply(
    struct srv *s, struct dev *d, struct MHD_Connection *conn, struct reply *rep, enum sim_fault f)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (rep->json && rep->status == 200 &&
	    (f == SIM_FAULT_MALFORMED || f == SIM_FAULT_OVERSIZED || f == SIM_FAULT_WRONGTYPES ||
	        f == SIM_FAULT_DEEP))
		body_fault(s->sim, f, rep);
	if (rep->json && (f == SIM_FAULT_TRUNCATED || f == SIM_FAULT_SLOW) && rep->len > 0) {
		r = body_response(s, conn, rep, f == SIM_FAULT_SLOW);
	} else {
		r = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
		if (r)
			rep->body = NULL;
	}
	if (!r) {
		reply_done(rep);
		return MHD_NO;
	}
	if (rep->ctype)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rep->ctype);
	if (rep->www_auth)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, rep->www_auth);
	if (d && d->gen >= 2) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_SERVER, "ShellyHTTP/1.0.0");
		MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, rep->status, r);
	MHD_destroy_response(r);
	reply_done(rep);
	return ret;
}

static struct srv *dev_srv_start(struct sim *sim, struct dev *owner, char **cause);

/*
 * The certificate changes between two requests of a client (tls/rotate "after"): the reply
 * just queued still goes out on the old daemon (every reply closes its connection), the next
 * connection gets the new key.
 */
static void
rotate_now(struct dev *d)
{
	struct srv *fresh;
	char *cause = NULL;

	free(d->rotate_after);
	d->rotate_after = NULL;
	if (tls_issue(d->sim, d, &cause) < 0 || !(fresh = dev_srv_start(d->sim, d, &cause))) {
		log_error("%s", cause);
		free(cause);
		return;
	}
	srv_free(d->retired_srv);
	d->retired_srv = d->tls_srv;
	d->tls_srv = fresh;
	if (manifest_write(d->sim, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
	}
}

static enum MHD_Result
dev_respond(struct srv *s, struct sim_req *req)
{
	struct dev *d = req->dev;
	struct reply rep = {0};
	enum sim_fault f = active_fault(d, req);

	dev_advance(d, loop_now_ms(s->sim->loop));
	switch (f) {
	case SIM_FAULT_RESET:
		conn_reset(req->conn);
		return MHD_NO;
	case SIM_FAULT_NOANSWER:
	case SIM_FAULT_HOLD:
		req->held = f == SIM_FAULT_HOLD;
		park_noanswer(s, req);
		return MHD_YES;
	case SIM_FAULT_HTTP500:
		reply_json(
		    &rep, 500, xstrdup("{\"code\":500,\"message\":\"Internal Server Error\"}"), 46);
		return queue_reply(s, d, req->conn, &rep, SIM_FAULT_NONE);
	default:
		break;
	}
	if (req->too_large) {
		reply_set(&rep, 413, "text/plain", xstrdup("Payload Too Large"), 17);
		return queue_reply(s, d, req->conn, &rep, SIM_FAULT_NONE);
	}
	if (auth_check(d, req, req->path, &rep)) {
		if (d->gen == 1)
			gen1_handle(d, req, &rep);
		else
			gen2_handle(d, req, &rep);
	}
	if (d->sta_drop) { /* the station request was taken: gone before the reply */
		d->sta_drop = false;
		free(rep.body);
		free(rep.www_auth);
		conn_reset(req->conn);
		return MHD_NO;
	}
	enum MHD_Result ret = queue_reply(s, d, req->conn, &rep, f);
	if (d->rotate_after && !strcmp(req->path, d->rotate_after))
		rotate_now(d);
	return ret;
}

static enum MHD_Result
dev_access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct srv *s = cls;
	struct sim_req *req = *con_cls;
	(void)version;

	if (!req) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct sim_conn *c = ci ? ci->socket_context : NULL;
		if (!c || !c->dev)
			return MHD_NO;
		req = xcalloc(1, sizeof *req);
		req->dev = c->dev;
		req->srv = s;
		req->conn = conn;
		req->path = xstrdup(url);
		*con_cls = req;
		c->dev->c.requests++;
		count_path(c->dev, url);
		return MHD_YES;
	}
	if (req->gone)
		return MHD_NO;
	req->conn = conn;
	if (*upload_data_size) {
		if (req->body_len + *upload_data_size > BODY_MAX) {
			req->too_large = true;
		} else {
			req->body = xrealloc(req->body, req->body_len + *upload_data_size + 1);
			memcpy(req->body + req->body_len, upload_data, *upload_data_size);
			req->body_len += *upload_data_size;
			req->body[req->body_len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	req->method = method;
	return dev_respond(s, req);
}

static struct srv *
dev_srv_start(struct sim *sim, struct dev *owner, char **cause)
{
	struct srv *s = srv_alloc(sim, owner);
	unsigned flags = MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, owner ? owner->key_pem : NULL},
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, owner ? owner->cert_pem : NULL},
	    {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.2"},
	    {MHD_OPTION_END, 0, NULL},
	};
	struct MHD_Daemon *mhd;

	if (owner)
		flags |= MHD_USE_TLS;
	if (sim->o.verbose >= 2)
		flags |= MHD_USE_ERROR_LOG;
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, dev_access_cb, s, MHD_OPTION_EXTERNAL_LOGGER,
	    log_cb, NULL, MHD_OPTION_NOTIFY_CONNECTION, conn_notify_cb, s,
	    MHD_OPTION_NOTIFY_COMPLETED, req_done_cb, s, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)sim->o.conn_timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000000,
	    MHD_OPTION_ARRAY, owner ? tls_opts : &tls_opts[3], MHD_OPTION_END);
	if (!mhd) {
		*cause = xasprintf("microhttpd daemon%s%s did not start", owner ? " for " : "",
		    owner ? owner->id : "");
		free(s);
		return NULL;
	}
	if (srv_attach(s, mhd, cause) < 0) {
		MHD_stop_daemon(mhd);
		free(s);
		return NULL;
	}
	return s;
}

/* --- listeners --- */

static int
listen_on(uint32_t addr, uint16_t port, int backlog, char **cause)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char ip[16];

	if (fd < 0) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0) {
		addr_str(addr, ip);
		*cause = xasprintf("listen on %s:%u: %s", ip, (unsigned)port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void dev_listen_cb(int fd, int events, void *arg);

static void
hand_over(struct sim *sim, struct dev *d, int fd, const struct sockaddr_in *peer, socklen_t plen)
{
	struct srv *s = d->tls ? d->tls_srv : sim->plain;

	if (!s || d->mode != NET_UP) {
		struct linger lg = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(fd);
		return;
	}
	sim->adding = d;
	if (MHD_add_connection(s->mhd, fd, (const struct sockaddr *)peer, plen) != MHD_YES)
		log_debug("%s: microhttpd refused a connection: %s", d->id, strerror(errno));
	sim->adding = NULL;
	srv_kick(s);
}

static void
accept_some(struct sim *sim, struct dev *fixed, int lfd, struct loop_watch *w, struct dev *pause)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof peer;
		int fd =
		    accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dev *d;
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: stop accepting for a moment (no busy loop).
				 */
				log_warn("accept: %s", strerror(errno));
				loop_watch_set(w, 0);
				loop_timer_arm(pause ? pause->net_timer : sim->wildcard_timer, 100);
			}
			return;
		}
		d = fixed ? fixed : dev_by_local(sim, fd);
		if (!d) {
			close(fd);
			continue;
		}
		hand_over(sim, d, fd, &peer, plen);
	}
}

static void
dev_listen_cb(int fd, int events, void *arg)
{
	struct dev *d = arg;
	(void)events;
	accept_some(d->sim, d, fd, d->listen_watch, d);
}

static void
close_listener(struct dev *d)
{
	if (d->listen_watch) {
		loop_watch_free(d->listen_watch);
		d->listen_watch = NULL;
	}
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		d->listen_fd = -1;
	}
	if (d->filler_fd >= 0) {
		close(d->filler_fd);
		d->filler_fd = -1;
	}
	d->mode = NET_DOWN;
}

/* Silent: a listener whose accept queue (backlog 0) holds one connection of our own, so the
 * kernel drops every further SYN and a client's connect times out. */
static int
open_silent(struct dev *d, char **cause)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(d->port), .sin_addr.s_addr = htonl(d->addr)};
	int fd = listen_on(d->addr, d->port, 0, cause);

	if (fd < 0)
		return -1;
	d->listen_fd = fd;
	d->filler_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->filler_fd < 0 || (connect(d->filler_fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
	                            errno != EINPROGRESS)) {
		*cause = xasprintf("%s: filling the accept queue: %s", d->id, strerror(errno));
		return -1;
	}
	d->mode = NET_SILENT;
	return 0;
}

/* The requests a "hold" fault parked on d go through dev_respond again, under d's fault now. */
static void
release_held(struct dev *d)
{
	struct srv *srvs[2] = {d->sim->plain, d->tls_srv};

	for (int k = 0; k < 2; k++) {
		struct park *p, *next;
		if (!srvs[k])
			continue;
		for (p = srvs[k]->parked; p; p = next) {
			struct sim_req *req;
			next = p->next;
			if (p->unpark != noanswer_unpark)
				continue;
			req = (struct sim_req *)((char *)p - offsetof(struct sim_req, park));
			if (req->dev != d || !req->held)
				continue;
			park_unlink(p);
			req->held = false;
			loop_watch_free(req->watch);
			req->watch = NULL;
			MHD_resume_connection(p->conn);
		}
		srv_kick(srvs[k]);
	}
}

/* Closes the connections of a device (reboot): parked ones are resumed, others shut down. */
static void
kill_connections(struct dev *d)
{
	struct srv *srvs[2] = {d->sim->plain, d->tls_srv};

	for (int k = 0; k < 2; k++) {
		struct srv *s = srvs[k];
		struct park *p, *next;
		if (!s)
			continue;
		for (p = s->parked; p; p = next) {
			next = p->next;
			if (p->unpark == noanswer_unpark) {
				struct sim_req *req =
				    (struct sim_req *)((char *)p - offsetof(struct sim_req, park));
				if (req->dev != d)
					continue;
			} else {
				struct body_src *b =
				    (struct body_src *)((char *)p -
				                        offsetof(struct body_src, park));
				const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
				    b->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
				struct sim_conn *c = ci ? ci->socket_context : NULL;
				if (!c || c->dev != d)
					continue;
			}
			park_unlink(p);
			p->unpark(p);
		}
		srv_kick(s);
	}
	for (struct sim_conn *c = d->conns; c; c = c->next)
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
}

int
dev_net_sync(struct dev *d, char **cause)
{
	struct sim *sim = d->sim;
	enum net_mode want = NET_UP;

	if (d->rebooting || d->fault == SIM_FAULT_CLOSED)
		want = NET_DOWN;
	else if (d->fault == SIM_FAULT_SILENT)
		want = NET_SILENT;
	if (sim->pool_has_wildcard) {
		/* One listener for all: only the mode flag changes (see hand_over). */
		d->mode = want == NET_UP ? NET_UP : NET_DOWN;
		if (d->tls && !d->tls_srv && want == NET_UP &&
		    !(d->tls_srv = dev_srv_start(sim, d, cause)))
			return -1;
		return 0;
	}
	if (d->mode == want && d->bound_addr == d->addr) {
		if (d->listen_watch && want == NET_UP)
			loop_watch_set(d->listen_watch, LOOP_READ);
		return 0;
	}
	close_listener(d);
	d->bound_addr = d->addr;
	if (want == NET_DOWN)
		return 0;
	if (want == NET_SILENT)
		return open_silent(d, cause);
	if (d->tls && !d->tls_srv && !(d->tls_srv = dev_srv_start(sim, d, cause)))
		return -1;
	int ns = apmode_listen_enter(d, cause);
	if (ns < 0)
		return -1;
	d->listen_fd = listen_on(d->addr, d->port, LISTEN_BACKLOG, cause);
	apmode_listen_leave(d, ns);
	if (d->listen_fd < 0)
		return -1;
	d->listen_watch = loop_watch_new(sim->loop, d->listen_fd, LOOP_READ, dev_listen_cb, d);
	d->mode = NET_UP;
	return 0;
}

static void
net_timer_cb(void *arg)
{
	struct dev *d = arg;
	char *cause = NULL;

	if (dev_net_sync(d, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
		loop_timer_arm(d->net_timer, 1000); /* e.g. the address is briefly busy: retry */
	}
}

void
dev_net_later(struct dev *d)
{
	loop_timer_arm(d->net_timer, 0);
}

static void
manifest_changed(struct sim *sim)
{
	char *cause = NULL;
	if (manifest_write(sim, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
	}
}

void
dev_set_fault(struct dev *d, enum sim_fault f, long count, const char *path)
{
	char *cause = NULL;

	switch (f) {
	case SIM_FAULT_AUTH:
		dev_set_auth(d, true, d->password);
		return;
	case SIM_FAULT_REBOOT:
		dev_reboot(d, 0);
		return;
	case SIM_FAULT_MOVE:
		if (dev_move(d, &cause) < 0) {
			log_error("%s", cause);
			free(cause);
		}
		return;
	default:
		break;
	}
	d->fault = f;
	d->fault_count = count > 0 ? count : -1;
	free(d->fault_path);
	d->fault_path = path && path[0] ? xstrdup(path) : NULL;
	release_held(d);
	if (dev_net_sync(d, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
		loop_timer_arm(d->net_timer, 1000);
	}
	manifest_changed(d->sim);
}

static void
reboot_timer_cb(void *arg)
{
	struct dev *d = arg;

	if (d->reboot_phase == 1) {
		d->reboot_phase = 2;
		d->rebooting = true;
		kill_connections(d);
		net_timer_cb(d);
		loop_timer_arm(d->reboot_timer, d->sim->o.reboot_ms);
		return;
	}
	d->reboot_phase = 0;
	d->rebooting = false;
	dev_reboot_done(d);
	net_timer_cb(d);
}

void
dev_reboot(struct dev *d, uint64_t delay_ms)
{
	if (d->reboot_phase)
		return;
	d->reboot_phase = 1;
	/* Let the reply to the reboot request leave first. */
	loop_timer_arm(d->reboot_timer, delay_ms ? delay_ms : 50);
}

int
dev_move(struct dev *d, char **cause)
{
	struct sim *sim = d->sim;
	uint32_t addr;

	if (sim->pool_has_wildcard) {
		*cause = xstrdup("move is not available in --wildcard mode");
		return -1;
	}
	addr = addr_at(sim->base, sim->pool_next);
	if (!addr || (!sim->o.netns_ok && (addr >> 24) != 127)) {
		*cause = xasprintf("%s: no free address left in the pool", d->id);
		return -1;
	}
	return dev_move_to(d, addr, true, cause);
}

int
dev_move_to(struct dev *d, uint32_t addr, bool new_key, char **cause)
{
	struct sim *sim = d->sim;
	long old = addr_pos(sim->base, d->addr), pos = addr_pos(sim->base, addr);

	if (sim->pool_has_wildcard || pos < 0) {
		*cause = xasprintf("%s: the address is outside the pool", d->id);
		return -1;
	}
	if ((size_t)pos < sim->pool_len && sim->pool[pos] != NULL && sim->pool[pos] != d) {
		*cause = xasprintf("%s: the address is taken by %s", d->id, sim->pool[pos]->id);
		return -1;
	}
	if ((size_t)pos >= sim->pool_len) {
		size_t nl = (size_t)pos * 2 + 16;
		sim->pool = xreallocarray(sim->pool, nl, sizeof *sim->pool);
		memset(sim->pool + sim->pool_len, 0, (nl - sim->pool_len) * sizeof *sim->pool);
		sim->pool_len = nl;
	}
	if (old >= 0 && (size_t)old < sim->pool_len)
		sim->pool[old] = NULL;
	sim->pool[pos] = d;
	if ((size_t)pos >= sim->pool_next)
		sim->pool_next = (size_t)pos + 1;
	d->addr = addr;
	kill_connections(d);
	if (d->tls && new_key && dev_tls_rotate(d, cause) < 0)
		return -1;
	if (dev_net_sync(d, cause) < 0)
		return -1;
	dev_mdns_publish(d, true);
	manifest_changed(sim);
	return 0;
}

void
dev_set_auth(struct dev *d, bool on, const char *password)
{
	if (on) {
		if (password)
			auth_set_password(d, password);
		else if (!d->ha1[0]) {
			char *pw = auth_random_password(d->sim);
			auth_set_password(d, pw);
			free(pw);
		}
	}
	d->auth = on;
	d->cfg_rev++;
	manifest_changed(d->sim);
}

int
dev_tls_rotate(struct dev *d, char **cause)
{
	if (!d->tls) {
		*cause = xasprintf("%s is not an HTTPS device", d->id);
		return -1;
	}
	if (tls_issue(d->sim, d, cause) < 0)
		return -1;
	/* New connections get the new certificate; open ones end with the old daemon. */
	srv_free(d->tls_srv);
	d->tls_srv = NULL;
	if (d->mode == NET_UP && !(d->tls_srv = dev_srv_start(d->sim, d, cause)))
		return -1;
	return 0;
}

int
dev_tls_rotate_after(struct dev *d, const char *path, char **cause)
{
	if (!d->tls) {
		*cause = xasprintf("%s is not an HTTPS device", d->id);
		return -1;
	}
	free(d->rotate_after);
	d->rotate_after = xstrdup(path);
	return 0;
}

void
dev_reset_counters(struct dev *d)
{
	for (size_t i = 0; i < d->c.npaths; i++)
		free(d->c.paths[i].path);
	free(d->c.paths);
	uint64_t in = d->c.in_flight;
	memset(&d->c, 0, sizeof d->c);
	d->c.in_flight = in;
	d->c.max_in_flight = in;
}

static void
wildcard_resume_cb(void *arg)
{
	struct sim *sim = arg;
	loop_watch_set(sim->wildcard_watch, LOOP_READ);
}

static void
wildcard_cb(int fd, int events, void *arg)
{
	struct sim *sim = arg;
	(void)events;
	accept_some(sim, NULL, fd, sim->wildcard_watch, NULL);
}

int
net_init(struct sim *sim, char **cause)
{
	sim->wildcard_fd = -1;
	sim->plain = dev_srv_start(sim, NULL, cause);
	if (!sim->plain)
		return -1;
	for (size_t i = 0; i < sim->ndevs; i++) {
		struct dev *d = sim->devs[i];
		d->net_timer = loop_timer_new(sim->loop, net_timer_cb, d);
		d->reboot_timer = loop_timer_new(sim->loop, reboot_timer_cb, d);
	}
	if (sim->o.wildcard) {
		uint16_t port = (uint16_t)(sim->o.port > 0 ? sim->o.port : 80);
		sim->wildcard_fd = listen_on(INADDR_ANY, port, LISTEN_BACKLOG * 8, cause);
		if (sim->wildcard_fd < 0)
			return -1;
		sim->wildcard_watch =
		    loop_watch_new(sim->loop, sim->wildcard_fd, LOOP_READ, wildcard_cb, sim);
		sim->wildcard_timer = loop_timer_new(sim->loop, wildcard_resume_cb, sim);
		sim->pool_has_wildcard = true;
	}
	for (size_t i = 0; i < sim->ndevs; i++) {
		struct dev *d = sim->devs[i];
		if (dev_net_sync(d, cause) < 0)
			return -1;
	}
	return 0;
}

void
net_done(struct sim *sim)
{
	for (size_t i = 0; i < sim->ndevs; i++) {
		struct dev *d = sim->devs[i];
		close_listener(d);
	}
	if (sim->wildcard_watch)
		loop_watch_free(sim->wildcard_watch);
	if (sim->wildcard_timer)
		loop_timer_free(sim->wildcard_timer);
	sim->wildcard_watch = NULL;
	sim->wildcard_timer = NULL;
	if (sim->wildcard_fd >= 0)
		close(sim->wildcard_fd);
	sim->wildcard_fd = -1;
	for (size_t i = 0; i < sim->ndevs; i++) {
		struct dev *d = sim->devs[i];
		srv_free(d->tls_srv);
		srv_free(d->retired_srv);
		d->tls_srv = d->retired_srv = NULL;
		free(d->rotate_after);
		d->rotate_after = NULL;
	}
	srv_free(sim->plain);
	sim->plain = NULL;
	for (size_t i = 0; i < sim->ndevs; i++) {
		struct dev *d = sim->devs[i];
		if (d->net_timer)
			loop_timer_free(d->net_timer);
		if (d->reboot_timer)
			loop_timer_free(d->reboot_timer);
		if (d->ip_timer)
			loop_timer_free(d->ip_timer);
		d->ip_timer = NULL;
		d->net_timer = d->reboot_timer = NULL;
	}
}
