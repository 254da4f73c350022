/*
 * Control interface (JSON over HTTP on a loopback port of its own) and the manifest.
 *   GET  /manifest                        the manifest (also written to --manifest)
 *   GET  /devices                         every device's state
 *   GET  /devices/<i|id>/state            one device: outputs, power, energy, counters, ...
 *   POST /devices/<i|id>/fault            {"fault":"reset"|"none"|..., "count":N, "path":"/x"}
 *   POST /devices/<i|id>/auth             {"enable":true, "password":".."}
 *   POST /devices/<i|id>/tls/rotate       new key and certificate; {"after":"/shelly"}: once a
 *                                         request to that path is answered
 *   POST /devices/<i|id>/reset-counters
 *   POST /devices/<i|id>/move             IP change to the next free pool address
 *   POST /devices/<i|id>/reboot
 *   POST /devices/<i|id>/offer-update     {"stable":"1.9.0","beta":null,"unchecked":false}
 *   POST /devices/<i|id>/config           {"patch":{...}} change config behind the tool's back
 *   POST /devices/<i|id>/config-fail      {"after":N} the setter request after N more fails
 *   GET  /devices/<i|id>/secrets          the Gen2+ "pass" keys SetConfig received (tests only)
 *   POST /reset-counters                  every device
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "sim.h"
#include "sim_mdns.h"
#include "util/log.h"
#include "util/json.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define CONTROL_BODY_MAX (64u << 10)

static cJSON *
str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *
manifest_device(struct dev *d)
{
	cJSON *o = cJSON_CreateObject();
	char ip[16];

	addr_str(d->addr, ip);
	cJSON_AddNumberToObject(o, "index", (double)d->index);
	cJSON_AddStringToObject(o, "id", d->id);
	cJSON_AddStringToObject(o, "mac", d->mac);
	cJSON_AddNumberToObject(o, "gen", d->gen);
	cJSON_AddStringToObject(o, "model", d->fx->model);
	cJSON_AddItemToObject(o, "app", str_or_null(d->fx->app));
	cJSON_AddStringToObject(o, "fixture", d->fx->path);
	cJSON_AddStringToObject(o, "addr", ip);
	cJSON_AddNumberToObject(o, "port", d->port);
	cJSON_AddStringToObject(o, "scheme", d->tls ? "https" : "http");
	if (d->auth) {
		cJSON *a = cJSON_AddObjectToObject(o, "auth");
		cJSON_AddStringToObject(a, "user", d->user[0] ? d->user : "admin");
		cJSON_AddItemToObject(a, "password", str_or_null(d->password));
		if (d->gen >= 2) {
			cJSON_AddStringToObject(a, "ha1", d->ha1);
			cJSON_AddStringToObject(a, "digest", digest_name(d->digest));
		}
	} else {
		cJSON_AddNullToObject(o, "auth");
	}
	cJSON_AddStringToObject(o, "fault", fault_name(d->fault));
	return o;
}

char *
manifest_render(struct sim *sim, size_t *len)
{
	cJSON *m = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(m, "devices");
	char ctl[96];
	char *out;

	for (size_t i = 0; i < sim->ndevs; i++)
		cJSON_AddItemToArray(arr, manifest_device(sim->devs[i]));
	snprintf(ctl, sizeof ctl, "%s:%u", sim->control_host, (unsigned)sim->control_port);
	cJSON_AddStringToObject(m, "control", ctl);
	cJSON_AddItemToObject(m, "ca", str_or_null(sim->ca_path));
	if (sim->mdns)
		cJSON_AddBoolToObject(m, "mdns_ready", sim_mdns_ready(sim->mdns));
	cJSON_AddNumberToObject(m, "pid", (double)getpid());
	cJSON *sk = cJSON_AddArrayToObject(m, "skipped");
	for (size_t i = 0; i < sim->nskipped; i++)
		cJSON_AddItemToArray(sk, cJSON_CreateString(sim->skipped[i]));
	out = js_print(m, len);
	cJSON_Delete(m);
	return out;
}

int
manifest_write(struct sim *sim, char **cause)
{
	const char *path = sim->o.manifest;
	char *tmp, *text;
	size_t len, off = 0;
	int fd;

	if (!path || !sim->manifest_ready)
		return 0;
	text = manifest_render(sim, &len);
	tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || close(fd) < 0 || rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	free(text);
	return 0;
fail:
	*cause = xasprintf("manifest %s: %s", path, strerror(errno));
	unlink(tmp);
	free(tmp);
	free(text);
	return -1;
}

static cJSON *
state_object(struct dev *d)
{
	cJSON *o = manifest_device(d), *arr, *c;
	uint64_t now = loop_now_ms(d->sim->loop);
	const char *modes[] = {"down", "up", "silent"};

	dev_advance(d, now);
	cJSON_AddStringToObject(o, "mode", modes[d->mode]);
	cJSON_AddBoolToObject(o, "online", d->mode == NET_UP && !d->rebooting);
	cJSON_AddBoolToObject(o, "rebooting", d->rebooting);
	cJSON_AddNumberToObject(o, "fault_count", (double)d->fault_count);
	cJSON_AddItemToObject(o, "fault_path", str_or_null(d->fault_path));
	cJSON_AddBoolToObject(o, "auth_enabled", d->auth);
	cJSON_AddNumberToObject(o, "uptime_s", (double)dev_uptime_s(d, now));
	cJSON_AddNumberToObject(o, "reboots", (double)d->reboots);
	cJSON_AddNumberToObject(o, "cfg_rev", d->cfg_rev);
	cJSON_AddItemToObject(o, "fw", str_or_null(d->fw));
	cJSON_AddItemToObject(o, "ver", str_or_null(d->ver));
	cJSON_AddItemToObject(o, "name", str_or_null(d->name));
	cJSON *upd = cJSON_AddObjectToObject(o, "updates");
	cJSON_AddItemToObject(upd, "stable", str_or_null(d->upd_stable));
	cJSON_AddItemToObject(upd, "beta", str_or_null(d->upd_beta));
	cJSON_AddBoolToObject(upd, "pending", d->pending_update);
	cJSON_AddNumberToObject(upd, "ota_checks", (double)d->ota_checks);
	arr = cJSON_AddArrayToObject(o, "switches");
	for (size_t i = 0; i < d->nsw; i++) {
		struct sim_switch *s = &d->sw[i];
		c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "id", s->id);
		cJSON_AddBoolToObject(c, "on", s->on);
		cJSON_AddItemToObject(c, "power_w",
		    s->has_power ? cJSON_CreateNumber(sw_power(d, s, now)) : cJSON_CreateNull());
		cJSON_AddItemToObject(c, "energy_wh",
		    s->has_energy ? cJSON_CreateNumber(round_n(s->energy_wh, 4))
		                  : cJSON_CreateNull());
		cJSON_AddStringToObject(c, "source", s->source);
		cJSON_AddItemToArray(arr, c);
	}
	arr = cJSON_AddArrayToObject(o, "covers");
	for (size_t i = 0; i < d->ncv; i++) {
		struct sim_cover *cv = &d->cv[i];
		c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "id", cv->id);
		cJSON_AddStringToObject(c, "state", cover_state_gen2(cv));
		cJSON_AddNumberToObject(c, "pos", round_n(cv->pos, 1));
		cJSON_AddNumberToObject(c, "target", round_n(cv->target, 1));
		cJSON_AddBoolToObject(c, "pos_control", cv->pos_control);
		cJSON_AddItemToObject(c, "power_w",
		    cv->has_power ? cJSON_CreateNumber(cv_power(d, cv, now)) : cJSON_CreateNull());
		cJSON_AddItemToObject(c, "energy_wh",
		    cv->has_energy ? cJSON_CreateNumber(round_n(cv->energy_wh, 4))
		                   : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, c);
	}
	arr = cJSON_AddArrayToObject(o, "lights");
	for (size_t i = 0; i < d->nlt; i++) {
		struct sim_light *l = &d->lt[i];
		c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "id", l->id);
		cJSON_AddStringToObject(c, "type", l->type);
		cJSON_AddBoolToObject(c, "on", l->on);
		cJSON_AddNumberToObject(c, "brightness", l->brightness);
		cJSON_AddItemToObject(c, "power_w",
		    l->has_power ? cJSON_CreateNumber(lt_power(d, l, now)) : cJSON_CreateNull());
		cJSON_AddItemToObject(c, "energy_wh",
		    l->has_energy ? cJSON_CreateNumber(round_n(l->energy_wh, 4))
		                  : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, c);
	}
	if (d->tls) {
		c = cJSON_AddObjectToObject(o, "tls");
		cJSON_AddStringToObject(c, "fingerprint_sha256", d->fingerprint);
		cJSON_AddNumberToObject(c, "serial", d->cert_serial);
	} else {
		cJSON_AddNullToObject(o, "tls");
	}
	c = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(c, "requests", (double)d->c.requests);
	cJSON_AddNumberToObject(c, "in_flight", (double)d->c.in_flight);
	cJSON_AddNumberToObject(c, "max_in_flight", (double)d->c.max_in_flight);
	cJSON_AddNumberToObject(c, "auth_challenges", (double)d->c.auth_challenges);
	cJSON_AddNumberToObject(c, "auth_failures", (double)d->c.auth_failures);
	cJSON_AddNumberToObject(c, "auth_stale", (double)d->c.auth_stale);
	cJSON_AddNumberToObject(c, "faults", (double)d->c.faults);
	cJSON_AddNumberToObject(c, "connections", (double)d->nconns);
	cJSON *bp = cJSON_AddObjectToObject(c, "by_path");
	for (size_t i = 0; i < d->c.npaths; i++)
		cJSON_AddNumberToObject(bp, d->c.paths[i].path, (double)d->c.paths[i].n);
	return o;
}

char *
dev_state_render(struct dev *d, size_t *len)
{
	cJSON *o = state_object(d);
	char *s = js_print(o, len);
	cJSON_Delete(o);
	return s;
}

/* --- the control daemon --- */

struct creq {
	struct buf body;
	bool too_large;
};

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned status, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
ctl_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	size_t len;
	char *s;

	cJSON_AddStringToObject(o, "error", msg);
	s = js_print(o, &len);
	cJSON_Delete(o);
	return respond(conn, status, s, len);
}

static enum MHD_Result
device_state(struct MHD_Connection *conn, struct dev *d)
{
	size_t len;
	char *s = dev_state_render(d, &len);
	return respond(conn, 200, s, len);
}

static enum MHD_Result
device_post(struct sim *sim, struct MHD_Connection *conn, struct dev *d, const char *action,
    const char *body, size_t blen)
{
	cJSON *in = blen ? json_parse(body, blen, 0, NULL) : cJSON_CreateObject();
	char *cause = NULL;
	enum MHD_Result ret;

	if (!cJSON_IsObject(in)) {
		cJSON_Delete(in);
		return ctl_error(conn, 400, "body must be a JSON object");
	}
	if (!strcmp(action, "fault")) {
		const char *name = js_str(in, "fault");
		enum sim_fault f;
		if (!name || fault_parse(name, &f) < 0) {
			cJSON_Delete(in);
			return ctl_error(conn, 400, "unknown fault (see shelly-sim --help)");
		}
		dev_set_fault(d, f, (long)js_num(in, "count", -1), js_str(in, "path"));
	} else if (!strcmp(action, "auth")) {
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(in, "enable");
		const char *pw = js_str(in, "password");
		if (!cJSON_IsBool(en)) {
			cJSON_Delete(in);
			return ctl_error(conn, 400, "\"enable\": true|false required");
		}
		dev_set_auth(d, cJSON_IsTrue(en), pw);
	} else if (!strcmp(action, "tls/rotate")) {
		const char *after = js_str(in, "after");
		if (after ? dev_tls_rotate_after(d, after, &cause) < 0 : dev_tls_rotate(d, &cause) < 0)
			goto fail;
		manifest_write(sim, &cause);
		free(cause);
		cause = NULL;
	} else if (!strcmp(action, "reset-counters")) {
		dev_reset_counters(d);
	} else if (!strcmp(action, "move")) {
		if (dev_move(d, &cause) < 0)
			goto fail;
	} else if (!strcmp(action, "reboot")) {
		dev_reboot(d, (uint64_t)js_num(in, "delay_ms", 0));
	} else if (!strcmp(action, "offer-update")) {
		const char *st = js_str(in, "stable"), *be = js_str(in, "beta");
		if (js_has(in, "stable")) {
			free(d->upd_stable);
			d->upd_stable = st ? xstrdup(st) : NULL;
		}
		if (js_has(in, "beta")) {
			free(d->upd_beta);
			d->upd_beta = be ? xstrdup(be) : NULL;
		}
		/* "unchecked": true: a Gen1 device has not seen the offer until /ota/check. */
		d->ota_unchecked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "unchecked"));
	} else if (!strncmp(action, "config", 6)) {
		if (simcfg_control(d, action, in, &cause) < 0)
			goto fail;
	} else {
		cJSON_Delete(in);
		return ctl_error(conn, 404, "unknown action");
	}
	cJSON_Delete(in);
	return device_state(conn, d);
fail:
	cJSON_Delete(in);
	ret = ctl_error(conn, 409, cause ? cause : "failed");
	free(cause);
	return ret;
}

static enum MHD_Result
route(struct sim *sim, struct MHD_Connection *conn, const char *url, const char *method,
    struct creq *cr)
{
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");

	if (cr->too_large)
		return ctl_error(conn, 413, "body too large");
	if (!strcmp(url, "/manifest") && get) {
		size_t len;
		char *s = manifest_render(sim, &len);
		return respond(conn, 200, s, len);
	}
	if (!strcmp(url, "/devices") && get) {
		cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "devices");
		size_t len;
		for (size_t i = 0; i < sim->ndevs; i++)
			cJSON_AddItemToArray(arr, state_object(sim->devs[i]));
		char *s = js_print(o, &len);
		cJSON_Delete(o);
		return respond(conn, 200, s, len);
	}
	if (!strcmp(url, "/reset-counters") && post) {
		for (size_t i = 0; i < sim->ndevs; i++)
			dev_reset_counters(sim->devs[i]);
		return respond(conn, 200, xstrdup("{\"ok\":true}"), 11);
	}
	if (!strncmp(url, "/devices/", 9)) {
		const char *key = url + 9, *slash = strchr(key, '/');
		char k[128];
		struct dev *d;
		if (!slash || (size_t)(slash - key) >= sizeof k)
			return ctl_error(conn, 404, "use /devices/<index or id>/<action>");
		memcpy(k, key, (size_t)(slash - key));
		k[slash - key] = '\0';
		if (!(d = sim_dev_lookup(sim, k)))
			return ctl_error(conn, 404, "no such device");
		if (!strcmp(slash + 1, "state") && get)
			return device_state(conn, d);
		if (!strcmp(slash + 1, "secrets") && get) {
			size_t len;
			char *s = simcfg_secrets(d, &len);
			return respond(conn, 200, s, len);
		}
		if (post)
			return device_post(sim, conn, d, slash + 1, cr->body.p, cr->body.len);
		return ctl_error(conn, 405, "method not allowed");
	}
	return ctl_error(conn, 404, "not found");
}

static enum MHD_Result
control_access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct sim *sim = cls;
	struct creq *cr = *con_cls;
	(void)version;

	if (!cr) {
		*con_cls = xcalloc(1, sizeof *cr);
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (cr->body.len + *upload_data_size > CONTROL_BODY_MAX)
			cr->too_large = true;
		else
			buf_add(&cr->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return route(sim, conn, url, method, cr);
}

static void
control_done_cb(
    void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct creq *cr = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (cr) {
		free(cr->body.p);
		free(cr);
	}
	*con_cls = NULL;
}

int
control_start(struct sim *sim, char **cause)
{
	const char *spec = sim->o.control ? sim->o.control : "127.0.0.1:0";
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof sa;
	struct MHD_Daemon *mhd;
	uint32_t addr;
	char host[64];
	char *end;
	unsigned long port;
	int one = 1;

	if (!colon || (size_t)(colon - spec) >= sizeof host) {
		*cause = xasprintf("--control %s: expected ADDR:PORT", spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || addr_parse(host, &addr) < 0) {
		*cause = xasprintf("--control %s: expected ADDR:PORT", spec);
		return -1;
	}
	if ((addr >> 24) != 127 && !sim->o.netns_ok) {
		*cause = xasprintf(
		    "--control %s: not a loopback address (use --netns-ok inside a namespace)",
		    spec);
		return -1;
	}
	sim->control_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sim->control_fd < 0) {
		*cause = xasprintf("control socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(sim->control_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(addr);
	if (bind(sim->control_fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(sim->control_fd, 64) < 0 ||
	    getsockname(sim->control_fd, (struct sockaddr *)&sa, &sl) < 0) {
		*cause = xasprintf("--control %s: %s", spec, strerror(errno));
		close(sim->control_fd);
		sim->control_fd = -1;
		return -1;
	}
	sim->control_port = ntohs(sa.sin_port);
	snprintf(sim->control_host, sizeof sim->control_host, "%s", host);
	mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, control_access_cb, sim,
	    MHD_OPTION_LISTEN_SOCKET, sim->control_fd, MHD_OPTION_NOTIFY_COMPLETED, control_done_cb,
	    NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
	if (!mhd) {
		*cause = xstrdup("control: microhttpd did not start");
		close(sim->control_fd);
		sim->control_fd = -1;
		return -1;
	}
	sim->control_fd = -1; /* the daemon owns it now */
	if (!(sim->control = srv_new(sim, mhd, cause))) {
		MHD_stop_daemon(mhd);
		return -1;
	}
	return 0;
}

void
control_stop(struct sim *sim)
{
	srv_free(sim->control);
	sim->control = NULL;
}
