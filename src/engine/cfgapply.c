/* Read, apply, restore and verify one device's configuration (see engine/cfgapply.h). */
#include "engine/cfgapply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "net/http.h"
#include "shelly/action.h"
#include "util/json.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

enum phase { PH_READ, PH_WRITE, PH_RESTORE, PH_FOLLOW, PH_REBOOT, PH_VERIFY, PH_DONE };

struct cfgapply {
	struct loop *loop;
	struct http *http;
	struct shelly_target t;
	char *host, *mac, *user, *password, *pin, *ca_file, *lane;
	struct devconfig desired;
	struct cfgapply_opts o;
	cfgapply_cb cb;
	void *arg;

	enum phase phase;
	uint64_t req_id; /* in flight, 0 none */
	struct loop_timer *timer;
	unsigned tries;
	uint64_t verify_until; /* after a reboot: loop_now_ms() before which read-back goes on */
	uint64_t restore_until; /* a restore step the device was away for is sent again till */

	struct devconfig before, after, changes, restore;
	struct devconfig_diff *rows;
	size_t nrows;
	struct devconfig_request *reqs;
	size_t nreqs, next;
	bool restart_required, rebooted, failed_write;
	bool answered; /* the first read failed, but not for want of a connection */
	bool server_error; /* answered with an HTTP 5xx */
	bool interrupted; /* cfgapply_interrupt was called */
	/* A static address the changes give the device, where it is looked for after the writes. */
	char *new_host, *old_host;
	bool moved; /* seen at new_host with its MAC, generation and scheme: t.host is new_host */
	uint64_t follow_until; /* loop_now_ms() bound of the search */
	char *follow_why; /* why the last answer at new_host was not the device */
	char *write_error;
	size_t secrets_sent; /* after a failed write: secrets of the requests that succeeded */
	enum cfgapply_outcome outcome;
	char *message;
};

static const char *const outcome_names[] = {
    "ok", "unchanged", "dry-run", "refused", "unreachable", "restored", "failed", "verify-failed"};

const char *
cfgapply_outcome_name(enum cfgapply_outcome o)
{
	return (size_t)o < sizeof outcome_names / sizeof outcome_names[0] ? outcome_names[o] : "?";
}

static void progress(struct cfgapply *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress(struct cfgapply *a, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (a->o.progress_cb == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	a->o.progress_cb(buf, a->arg);
}

/* Ends the operation: one callback with what happened. */
static void
finish(struct cfgapply *a, enum cfgapply_outcome o, char *message)
{
	struct cfgapply_result r;

	a->phase = PH_DONE;
	a->outcome = o;
	free(a->message);
	a->message = str_sanitize(message, 400);
	free(message);
	memset(&r, 0, sizeof r);
	r.outcome = o;
	r.message = a->message;
	r.before = &a->before;
	r.after = &a->after;
	r.rows = a->rows;
	r.nrows = a->nrows;
	r.changed = a->changes.n;
	r.restart_required = a->restart_required;
	r.rebooted = a->rebooted;
	r.answered = a->answered;
	r.server_error = a->server_error;
	r.moved_to = a->moved ? a->new_host : NULL;
	r.moved_from = a->moved ? a->old_host : NULL;
	a->cb(&r, a->arg);
}

static void read_cb(const struct shelly_reply *r, void *arg);
static void send_next(struct cfgapply *a);

static bool
is_secret(enum devconfig_field f)
{
	return (devconfig_field(f)->flags & DCF_SECRET) != 0;
}

static void
start_read(struct cfgapply *a)
{
	a->req_id = shelly_config(a->http, &a->t, read_cb, a);
}

/* The changes: fields that differ, and secrets (which cannot be compared). */
static void
plan(struct cfgapply *a)
{
	devconfig_diff(&a->desired, &a->before, &a->rows, &a->nrows);
	devconfig_init(&a->changes);
	for (size_t i = 0; i < a->nrows; i++) {
		const struct devconfig_diff *d = &a->rows[i];
		if (d->kind == DIFF_DRIFT || d->kind == DIFF_UNKNOWN) {
			const struct devconfig_entry *e =
			    devconfig_get(&a->desired, d->field, d->index);
			devconfig_set(&a->changes, e->field, e->index, e->state, e->value);
		}
	}
}

/* Whether request q carries the station's address mode or address. */
static bool
moves_device(const struct cfgapply *a, const struct devconfig_request *q)
{
	for (size_t j = 0; j < q->nfields; j++) {
		enum devconfig_field f = a->changes.e[q->fields[j]].field;
		if (f == DCFG_WIFI_STA_IPV4MODE || f == DCFG_WIFI_STA_IP)
			return true;
	}
	return false;
}

/*
 * A change to a static address other than the one the device is reached at: the device is
 * looked for there after the writes, so the request that moves it goes last.
 */
static void
plan_move(struct cfgapply *a)
{
	char ip[64];

	if (!devconfig_static_address(&a->changes, &a->before, ip, sizeof ip) ||
	    strcmp(ip, a->t.host) == 0)
		return;
	a->new_host = xstrdup(ip);
	a->old_host = xstrdup(a->t.host);
	for (size_t i = 0; i + 1 < a->nreqs; i++) {
		if (moves_device(a, &a->reqs[i])) {
			struct devconfig_request q = a->reqs[i];
			memmove(&a->reqs[i], &a->reqs[i + 1], (a->nreqs - i - 1) * sizeof q);
			a->reqs[a->nreqs - 1] = q;
			break;
		}
	}
}

static size_t
count_kind(const struct cfgapply *a, enum devconfig_diff_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < a->nrows; i++)
		n += a->rows[i].kind == k;
	return n;
}

/* Why nothing is written: the first field the device's reply holds with a wrong type. */
static char *
unreadable_why(const struct cfgapply *a)
{
	char name[96] = "";

	for (size_t i = 0; i < a->nrows && name[0] == '\0'; i++)
		if (a->rows[i].kind == DIFF_UNREADABLE)
			devconfig_name(a->rows[i].field, a->rows[i].index, name, sizeof name);
	return xasprintf("%s: unreadable: the device's configuration reply holds it with a wrong "
	                 "type or a value the model does not know; nothing written",
	    name);
}

static void
after_first_read(struct cfgapply *a)
{
	char why[128], *cause = NULL;
	size_t unsupported;

	plan(a);
	if (count_kind(a, DIFF_UNREADABLE) > 0) {
		finish(a, CFGA_REFUSED, unreadable_why(a));
		return;
	}
	unsupported = count_kind(a, DIFF_UNSUPPORTED);
	if (a->desired.n == 0 || a->changes.n == 0) {
		finish(a,
		    unsupported && unsupported == a->desired.n ? CFGA_REFUSED : CFGA_UNCHANGED,
		    unsupported ? xasprintf("nothing to change (%zu field(s) unsupported here)",
		                      unsupported)
		                : xstrdup(a->desired.n ? "nothing to change" : "read"));
		return;
	}
	if (devconfig_static_without_address(&a->changes, &a->before)) {
		finish(a, CFGA_REFUSED,
		    xstrdup("wifi.sta.ipv4mode: static addressing without an address "
		            "(wifi.sta.ip) would cut the device off the network; nothing written"));
		return;
	}
	if (!a->o.allow_network &&
	    devconfig_cuts_network(&a->changes, &a->before, why, sizeof why)) {
		finish(a, CFGA_REFUSED,
		    xasprintf("%s may cut the device off the network; confirm with "
		              "--allow-network-change",
		        why));
		return;
	}
	if (devconfig_timer_changes(&a->changes, &a->desired, &a->before, &cause) != 0 ||
	    devconfig_requests(a->t.gen, &a->changes, &a->reqs, &a->nreqs, &cause) != 0) {
		finish(a, CFGA_REFUSED, cause);
		return;
	}
	plan_move(a);
	if (a->o.dry_run) {
		finish(a, CFGA_DRY_RUN,
		    xasprintf("%zu field(s) would change%s%s", a->changes.n,
		        a->new_host ? "; the device would move to " : "",
		        a->new_host ? a->new_host : ""));
		return;
	}
	a->phase = PH_WRITE;
	a->next = 0;
	send_next(a);
}

/*
 * After a failed write: what could not be set back. A secret already sent stays on the device
 * (its old value is never known), so such a write is never reported as restored.
 */
static char *
unrestored(const struct cfgapply *a)
{
	return a->secrets_sent == 0
	           ? xstrdup("")
	           : xasprintf("; %zu secret(s) already sent could not be restored (their old "
	                       "value is unknown)",
	                 a->secrets_sent);
}

/* The outcome of a failed write once the restore was read back (drift: a field that differs). */
static void
finish_failed(struct cfgapply *a, size_t drift, const char *name)
{
	char *rest = unrestored(a);

	if (drift > 0)
		finish(a, CFGA_FAILED,
		    xasprintf(
		        "%s; the restore did not take (%s differs)%s", a->write_error, name, rest));
	else if (a->secrets_sent > 0)
		finish(a, CFGA_FAILED,
		    xasprintf("%s%s%s", a->write_error,
		        a->restore.n > 0 ? "; the other fields were restored" : "", rest));
	else
		finish(a, CFGA_FAILED_RESTORED,
		    xasprintf("%s; the previous configuration was restored", a->write_error));
	free(rest);
}

/*
 * The success sentence: "N field(s) set and verified[ at the new address X][, M secret(s)
 * sent (...)][, rebooted | ; the device needs a restart ...][; K field(s) unsupported here,
 * left alone]", each part only when it holds.
 */
static void
finish_ok(struct cfgapply *a)
{
	size_t secrets = devconfig_secrets(&a->changes), fields = a->changes.n - secrets;
	size_t unsupported = count_kind(a, DIFF_UNSUPPORTED);
	char set[160] = "", sent[80] = "", lacks[64] = "";

	if (fields > 0)
		snprintf(set, sizeof set, "%zu field(s) set and verified%s%s", fields,
		    a->moved ? " at the new address " : "", a->moved ? a->new_host : "");
	/* A secret is sent but never read back: it is counted apart from what was verified. */
	if (secrets > 0)
		snprintf(sent, sizeof sent, "%s%zu secret(s) sent (a device never reads them back)",
		    fields > 0 ? ", " : "", secrets);
	/* A field the device lacks is left alone, and said so (not only when nothing changed). */
	if (unsupported > 0)
		snprintf(lacks, sizeof lacks, "; %zu field(s) unsupported here, left alone",
		    unsupported);
	finish(a, CFGA_OK,
	    xasprintf("%s%s%s%s", set, sent,
	        a->rebooted ? ", rebooted"
	        : a->restart_required
	            ? "; the device needs a restart for them to take effect (--allow-reboot)"
	            : "",
	        lacks));
}

/* Verification after writing (or restoring): compare, then report. */
static void
after_verify_read(struct cfgapply *a)
{
	const struct devconfig *want = a->failed_write ? &a->restore : &a->changes;
	struct devconfig_diff *rows;
	size_t n, drift = devconfig_diff(want, &a->after, &rows, &n);
	char name[96] = "";

	if (drift > 0) {
		for (size_t i = 0; i < n; i++)
			if (rows[i].kind == DIFF_DRIFT) {
				devconfig_name(rows[i].field, rows[i].index, name, sizeof name);
				break;
			}
	}
	free(rows);
	if (a->failed_write)
		finish_failed(a, drift, name);
	else if (drift > 0)
		finish(a, CFGA_VERIFY_FAILED,
		    xasprintf("written, but the device reads back %zu field(s) differently (%s)",
		        drift, name));
	else
		finish_ok(a);
}

static void start_follow_req(struct cfgapply *a);

static void
retry_timer_cb(void *arg)
{
	struct cfgapply *a = arg;

	if (a->phase == PH_FOLLOW)
		start_follow_req(a);
	else if (a->phase == PH_RESTORE)
		send_next(a); /* the step the device was away for, again */
	else
		start_read(a);
}

/* Whether a request failed for want of a connection (the device is away), not by its answer. */
static bool
lost_connection(enum http_result res)
{
	return res == HTTP_TIMEOUT || res == HTTP_REFUSED || res == HTTP_RESET ||
	       res == HTTP_UNREACHABLE || res == HTTP_TRUNCATED;
}

static void
read_cb(const struct shelly_reply *r, void *arg)
{
	struct cfgapply *a = arg;
	struct devconfig *into;
	char *cause = NULL;

	if (r->result == HTTP_CANCELLED)
		return;
	a->req_id = 0;
	into = a->phase == PH_READ ? &a->before : &a->after;
	if (r->result == HTTP_OK && r->body != NULL) {
		devconfig_done(into);
		if (devconfig_parse(a->t.gen, r->body, r->body_len, into, &cause) == 0) {
			if (a->phase == PH_READ)
				after_first_read(a);
			else
				after_verify_read(a);
			return;
		}
	}
	if (a->phase == PH_READ) {
		a->answered = cause != NULL || !lost_connection(r->result);
		a->server_error = a->answered && cause == NULL && r->http_status >= 500;
		finish(a, CFGA_UNREACHABLE,
		    xasprintf("cannot read the configuration: %s%s",
		        cause         ? cause
		        : r->cause[0] ? r->cause
		                      : http_result_name(r->result),
		        a->answered ? "; nothing written" : ""));
		free(cause);
		return;
	}
	free(cause);
	/* A device that reboots or changes network is away for a while. */
	if (++a->tries < a->o.verify_tries || loop_now_ms(a->loop) < a->verify_until) {
		loop_timer_arm(a->timer, a->o.verify_delay_ms);
		return;
	}
	cause = a->failed_write ? unrestored(a) : xstrdup("");
	finish(a, a->failed_write ? CFGA_FAILED : CFGA_VERIFY_FAILED,
	    xasprintf("%s%sthe device could not be read back: %s%s",
	        a->failed_write ? a->write_error : "", a->failed_write ? "; " : "",
	        r->cause[0] ? r->cause : http_result_name(r->result), cause));
	free(cause);
}

static void
start_verify(struct cfgapply *a)
{
	a->phase = PH_VERIFY;
	a->tries = 0;
	progress(a, "reading back");
	start_read(a);
}

/*
 * Builds the restore: the snapshot's values of every field already (maybe) written, the
 * failed request's too. Secrets are not restored (their old value is never known); those of
 * the requests that succeeded are counted, as they stay on the device.
 */
static void
start_restore(struct cfgapply *a, const char *error)
{
	char *cause = NULL;

	a->failed_write = true;
	a->write_error = str_sanitize(error, 240); /* room for what could not be restored */
	devconfig_init(&a->restore);
	for (size_t i = 0; i <= a->next && i < a->nreqs; i++) {
		for (size_t j = 0; j < a->reqs[i].nfields; j++) {
			const struct devconfig_entry *c = &a->changes.e[a->reqs[i].fields[j]];
			const struct devconfig_entry *b =
			    devconfig_get(&a->before, c->field, c->index);
			if (is_secret(c->field)) {
				/* (the request in flight when interrupted may have landed) */
				a->secrets_sent += i < a->next || (a->interrupted && i == a->next);
				continue;
			}
			if (b == NULL || b->state == DEVCONFIG_SECRET)
				continue;
			devconfig_set(&a->restore, b->field, b->index, b->state, b->value);
		}
	}
	devconfig_requests_free(a->reqs, a->nreqs);
	a->reqs = NULL;
	a->nreqs = 0;
	progress(a, "write failed (%s): restoring %zu field(s)", a->write_error, a->restore.n);
	if (a->restore.n == 0 ||
	    devconfig_requests(a->t.gen, &a->restore, &a->reqs, &a->nreqs, &cause) != 0) {
		free(cause);
		start_verify(a);
		return;
	}
	a->phase = PH_RESTORE;
	a->next = 0;
	/* A device that went away (a reboot half-way) is waited for as a rebooted one is. */
	if (!a->interrupted)
		a->restore_until = loop_now_ms(a->loop) + a->o.reboot_wait_ms;
	send_next(a);
}

/* Whether a Gen2+ SetConfig reply asks for a restart. */
static bool
says_restart(const struct shelly_reply *r)
{
	cJSON *o;
	bool yes;

	if (r->body == NULL || (o = json_parse(r->body, r->body_len, 0, NULL)) == NULL)
		return false;
	yes = json_get_bool(json_get_object(o, "result") ? json_get_object(o, "result") : o,
	          "restart_required") == 1;
	cJSON_Delete(o);
	return yes;
}

static void
reboot_cb(const struct shelly_reply *r, void *arg)
{
	struct cfgapply *a = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	a->req_id = 0;
	a->rebooted = r->result == HTTP_OK;
	if (!a->rebooted)
		progress(a, "reboot refused: %s", r->cause);
	else if (!a->interrupted)
		a->verify_until = loop_now_ms(a->loop) + a->o.reboot_wait_ms;
	/* Give the device time to go down before the first read-back. */
	a->phase = PH_VERIFY;
	a->tries = 0;
	loop_timer_arm(a->timer, a->o.verify_delay_ms);
}

static void
write_cb(const struct shelly_reply *r, void *arg)
{
	struct cfgapply *a = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	a->req_id = 0;
	if (r->result != HTTP_OK && a->phase == PH_WRITE && a->new_host != NULL &&
	    a->next + 1 == a->nreqs && r->result != HTTP_STATUS && r->result != HTTP_RPC_ERROR &&
	    moves_device(a, &a->reqs[a->next])) {
		/* The device may have taken its new address before it answered: look there. */
		progress(a, "no answer to the address change (%s)", http_result_name(r->result));
		a->next++;
		send_next(a);
		return;
	}
	if (r->result != HTTP_OK) {
		const struct devconfig_request *q = &a->reqs[a->next];
		char *err = xasprintf("%.*s failed: %s", (int)strcspn(q->path, "?"), q->path,
		    r->cause[0] ? r->cause : http_result_name(r->result));
		if (a->phase == PH_WRITE) {
			start_restore(a, err);
		} else if (lost_connection(r->result) && loop_now_ms(a->loop) < a->restore_until) {
			progress(
			    a, "restore step failed: %s; the device is away, trying again", err);
			loop_timer_arm(a->timer, a->o.verify_delay_ms);
		} else {
			progress(a, "restore step failed: %s", err);
			a->next++;
			send_next(a);
		}
		free(err);
		return;
	}
	if (a->phase == PH_WRITE && a->t.gen >= 2 && says_restart(r))
		a->restart_required = true;
	a->next++;
	send_next(a);
}

/*
 * Everything is sent: follow the device to its new address, reboot it when it must and may,
 * then read back.
 */
static void
after_writes(struct cfgapply *a)
{
	if (!a->failed_write && a->t.gen == 1 && devconfig_needs_reboot1(&a->changes))
		a->restart_required = true;
	if (!a->failed_write && a->new_host != NULL && !a->moved) {
		a->phase = PH_FOLLOW;
		a->follow_until = loop_now_ms(a->loop) + a->o.follow_timeout_ms;
		a->t.host = a->new_host;
		progress(a, "looking for the device at %s", a->new_host);
		start_follow_req(a);
		return;
	}
	if (!a->failed_write && a->restart_required && a->o.allow_reboot) {
		struct action reboot = {.kind = ACTION_REBOOT};
		a->phase = PH_REBOOT;
		progress(a, "rebooting (the device asked for it)");
		a->req_id = shelly_action(a->http, &a->t, &reboot, reboot_cb, a);
		return;
	}
	start_verify(a);
}

/* Why the device that answered /shelly at the new address is not the one moved, or NULL. */
static char *
follow_mismatch(const struct cfgapply *a, const struct device_ident *id)
{
	if (a->t.mac == NULL || a->t.mac[0] == '\0')
		return xstrdup("the device's MAC is not known, so it cannot be confirmed there");
	if (strcasecmp(id->mac, a->t.mac) != 0)
		return xasprintf(
		    "a device with MAC %s answers there", id->mac[0] ? id->mac : "(none)");
	if (a->t.gen > 0 && id->gen != a->t.gen)
		return xasprintf("the device there says gen %d, not %d", id->gen, a->t.gen);
	return NULL;
}

static void
follow_cb(const struct shelly_reply *r, void *arg)
{
	struct cfgapply *a = arg;

	if (r->result == HTTP_CANCELLED)
		return;
	a->req_id = 0;
	free(a->follow_why);
	a->follow_why = NULL;
	if (r->result == HTTP_OK && r->ident != NULL &&
	    (a->follow_why = follow_mismatch(a, r->ident)) == NULL) {
		a->moved = true;
		progress(a, "seen at %s", a->new_host);
		after_writes(a);
		return;
	}
	if (a->follow_why == NULL)
		a->follow_why = xstrdup(r->cause[0] ? r->cause : http_result_name(r->result));
	if (loop_now_ms(a->loop) < a->follow_until) {
		loop_timer_arm(a->timer, a->o.verify_delay_ms);
		return;
	}
	/* Not back at the old address either, maybe: nothing is restored there blindly. */
	a->t.host = a->old_host;
	finish(a, CFGA_VERIFY_FAILED,
	    xasprintf(
	        "not seen at %s (%s); last known %s", a->new_host, a->follow_why, a->old_host));
}

/*
 * GET /shelly at the new address, over the same scheme and (HTTPS) for the pinned key; the
 * answer must show the device's MAC and generation before anything with credentials goes there.
 */
static void
start_follow_req(struct cfgapply *a)
{
	a->req_id = shelly_identify(a->http, &a->t, follow_cb, a);
}

static void
send_next(struct cfgapply *a)
{
	const struct devconfig_request *q;

	if (a->next >= a->nreqs) {
		after_writes(a);
		return;
	}
	q = &a->reqs[a->next];
	/* The path of a Gen1 request may carry a secret: progress names the endpoint only. */
	progress(a, "%s %.*s (%zu field(s))", a->phase == PH_RESTORE ? "restoring" : "writing",
	    (int)strcspn(q->path, "?"), q->path, q->nfields);
	a->req_id = shelly_request(a->http, &a->t, q->method, q->path, q->body, write_cb, a);
}

/* Cancels the request in flight and the retry timer (no callback). */
static void
cancel(struct cfgapply *a)
{
	uint64_t id = a->req_id;

	a->req_id = 0;
	if (id != 0)
		http_cancel(a->http, id);
	loop_timer_disarm(a->timer);
}

void
cfgapply_interrupt(struct cfgapply *a)
{
	if (a == NULL || a->interrupted || a->phase == PH_DONE)
		return;
	a->interrupted = true;
	if (a->phase == PH_READ) {
		cancel(a);
		finish(a, CFGA_REFUSED, xstrdup("interrupted before anything was written"));
	} else if (a->phase == PH_WRITE) {
		/* The write in flight may have landed: it is set back with the others. */
		cancel(a);
		start_restore(a, "interrupted while writing");
	}
	/* Restoring, following, rebooting or reading back: each ends on its own, bounded (a
	 * rebooted device gets its few quick tries, not the whole wait). */
	a->verify_until = 0;
	a->restore_until = 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct cfgapply *
cfgapply_start(struct loop *loop, struct http *http, const struct shelly_target *t,
    const struct devconfig *desired, const struct cfgapply_opts *o, cfgapply_cb cb, void *arg)
{
	struct cfgapply *a = xcalloc(1, sizeof *a);

	a->loop = loop;
	a->http = http;
	a->t = *t;
	a->t.host = a->host = dup_or_null(t->host);
	a->t.mac = a->mac = dup_or_null(t->mac);
	a->t.user = a->user = dup_or_null(t->user);
	a->t.password = a->password = dup_or_null(t->password);
	a->t.pin = a->pin = dup_or_null(t->pin);
	a->t.ca_file = a->ca_file = dup_or_null(t->ca_file);
	a->t.lane = a->lane = dup_or_null(t->lane);
	if (desired != NULL)
		devconfig_copy(&a->desired, desired);
	else
		devconfig_init(&a->desired);
	if (o != NULL)
		a->o = *o;
	/* The defaults cfgapply_opts names for 0, once, so every use reads the option. */
	if (a->o.verify_tries == 0)
		a->o.verify_tries = 10;
	if (a->o.verify_delay_ms == 0)
		a->o.verify_delay_ms = 500;
	if (a->o.reboot_wait_ms == 0)
		a->o.reboot_wait_ms = 60000;
	if (a->o.follow_timeout_ms == 0)
		a->o.follow_timeout_ms = 30000;
	a->cb = cb;
	a->arg = arg;
	a->timer = loop_timer_new(loop, retry_timer_cb, a);
	devconfig_init(&a->before);
	devconfig_init(&a->after);
	devconfig_init(&a->changes);
	devconfig_init(&a->restore);
	a->phase = PH_READ;
	start_read(a);
	return a;
}

void
cfgapply_free(struct cfgapply *a)
{
	if (a == NULL)
		return;
	if (a->req_id != 0)
		http_cancel(a->http, a->req_id);
	loop_timer_free(a->timer);
	devconfig_requests_free(a->reqs, a->nreqs);
	free(a->rows);
	devconfig_done(&a->desired);
	devconfig_done(&a->before);
	devconfig_done(&a->after);
	devconfig_done(&a->changes);
	devconfig_done(&a->restore);
	free(a->host);
	free(a->mac);
	free(a->user);
	str_free_secret(a->password);
	free(a->pin);
	free(a->ca_file);
	free(a->lane);
	free(a->write_error);
	free(a->new_host);
	free(a->old_host);
	free(a->follow_why);
	free(a->message);
	free(a);
}
