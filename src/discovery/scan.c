/*
 * Subnet scan: targets as sorted disjoint intervals, streamed into at most `concurrency`
 * GET /shelly probes on an HTTP client of our own. See discovery/scan.h.
 */
#include "discovery/scan.h"

#include <sys/resource.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "net/http.h"
#include "shelly/client.h"
#include "util/guard.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* A target as given, with the interval of addresses it visits. */
struct target {
	struct cidr c;
	char *text;
	uint32_t first, last;
};

struct interval {
	uint32_t first, last;
};

struct scan_targets {
	struct target *tv;
	size_t nt, capt;
	struct interval *iv; /* sorted by first, disjoint and not adjacent */
	size_t ni, capi;
};

struct probe {
	struct scan *s;
	LIST_ENTRY(probe) entry;
	char host[INET_ADDRSTRLEN];
	char lane[INET_ADDRSTRLEN + 8];
	int https;
	uint16_t port;
	uint64_t id;
};

struct scan {
	struct loop *loop;
	struct http *http;
	struct scan_targets *t;
	struct scan_opts o;
	struct scan_cbs cbs;
	struct scan_iter it;
	int exhausted;
	LIST_HEAD(, probe) inflight;
	struct scan_progress p;
	uint64_t start_ms;
	struct loop_timer *kick;
	int started, stopping, finished, freeing;
};

/* ---- targets ---- */

struct scan_targets *
scan_targets_new(void)
{
	return xcalloc(1, sizeof(struct scan_targets));
}

void
scan_targets_free(struct scan_targets *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nt; i++)
		free(t->tv[i].text);
	free(t->tv);
	free(t->iv);
	free(t);
}

static int
interval_cmp(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Adds [first, last] to the interval set, keeping it sorted, disjoint and not adjacent. */
static void
intervals_add(struct scan_targets *t, uint32_t first, uint32_t last)
{
	size_t out = 0;

	t->iv = xgrowarray(t->iv, &t->capi, t->ni, sizeof *t->iv);
	t->iv[t->ni].first = first;
	t->iv[t->ni].last = last;
	t->ni++;
	qsort(t->iv, t->ni, sizeof *t->iv, interval_cmp);
	for (size_t i = 1; i < t->ni; i++) {
		struct interval *cur = &t->iv[out];
		if ((uint64_t)t->iv[i].first <= (uint64_t)cur->last + 1) {
			if (t->iv[i].last > cur->last)
				cur->last = t->iv[i].last;
		} else
			t->iv[++out] = t->iv[i];
	}
	t->ni = out + 1;
}

int
scan_targets_add_cidr(struct scan_targets *t, const struct cidr *c, const char *text, char **cause)
{
	struct cidr_iter it;
	struct target *tg;
	char buf[CIDR_TEXT_MAX];

	if (t->nt >= SCAN_MAX_TARGETS) {
		*cause = xasprintf("too many targets (at most %d)", SCAN_MAX_TARGETS);
		return -1;
	}
	t->tv = xgrowarray(t->tv, &t->capt, t->nt, sizeof *t->tv);
	cidr_iter_init(&it, c);
	tg = &t->tv[t->nt++];
	tg->c = *c;
	tg->text = xstrdup(text != NULL ? text : cidr_format(c, buf, sizeof buf));
	/* cidr_count() >= 1 for every parsed target: blocks that skip their ends have >= 4. */
	tg->first = (uint32_t)it.next;
	tg->last = (uint32_t)(it.end - 1);
	intervals_add(t, tg->first, tg->last);
	return 0;
}

int
scan_targets_add(struct scan_targets *t, const char *text, char **cause)
{
	struct cidr *cv = NULL;
	char **words = NULL;
	size_t n = 0, cap = 0;
	const char *p = text;
	int rc = -1;

	if (text == NULL) {
		*cause = xstrdup("empty target");
		return -1;
	}
	/* Parse every word first, so that a bad list adds nothing. */
	for (;;) {
		const char *start;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			words = xreallocarray(words, cap, sizeof *words);
			cv = xreallocarray(cv, cap, sizeof *cv);
		}
		words[n] = xstrndup(start, (size_t)(p - start));
		if (cidr_parse(words[n], &cv[n], cause) != 0) {
			free(words[n]);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		*cause = xstrdup("empty target");
		goto out;
	}
	if (t->nt + n > SCAN_MAX_TARGETS) {
		*cause = xasprintf("too many targets (at most %d)", SCAN_MAX_TARGETS);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		scan_targets_add_cidr(t, &cv[i], words[i], cause);
	rc = 0;
out:
	str_array_free(words, n);
	free(cv);
	return rc;
}

size_t
scan_targets_len(const struct scan_targets *t)
{
	return t->nt;
}

uint64_t
scan_targets_count(const struct scan_targets *t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->ni; i++)
		n += (uint64_t)t->iv[i].last - t->iv[i].first + 1;
	return n;
}

int
scan_targets_check_size(const struct scan_targets *t, int force, char **cause)
{
	uint64_t total;

	if (force)
		return 0;
	for (size_t i = 0; i < t->nt; i++) {
		uint64_t n = (uint64_t)t->tv[i].last - t->tv[i].first + 1;
		if (n > SCAN_MAX_UNFORCED) {
			*cause = xasprintf("target %s covers %llu addresses, more than a /16 "
			                   "(%llu); add --force to scan it",
			    t->tv[i].text, (unsigned long long)n,
			    (unsigned long long)SCAN_MAX_UNFORCED);
			return -1;
		}
	}
	total = scan_targets_count(t);
	if (total > SCAN_MAX_UNFORCED) {
		*cause = xasprintf("the targets cover %llu addresses together, more than a /16 "
		                   "(%llu); add --force to scan them",
		    (unsigned long long)total, (unsigned long long)SCAN_MAX_UNFORCED);
		return -1;
	}
	return 0;
}

static void
format_addr(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xFFu, (a >> 8) & 0xFFu, a & 0xFFu);
}

/* What scan_targets_check_guard_counted and _named share: which (may be NULL) is set to the
 * refused target's text on refusal. */
static int
check_guard(const struct scan_targets *t, const struct guard *g, uint64_t *steps,
    const char **which, char **cause)
{
	char host[INET_ADDRSTRLEN];
	const char *name = "?";
	char *why = NULL;
	uint32_t a;
	size_t i;

	if (g == NULL || !guard_is_set(g))
		return 0;
	/* The intervals ascend, so the first refusal is the lowest refused address. */
	for (i = 0; i < t->ni; i++) {
		if (guard_first_refused(g, t->iv[i].first, t->iv[i].last, &a, steps))
			break;
	}
	if (i == t->ni)
		return 0;
	format_addr(a, host, sizeof host);
	for (size_t k = 0; k < t->nt; k++) {
		if (a >= t->tv[k].first && a <= t->tv[k].last) {
			name = t->tv[k].text;
			break;
		}
	}
	if (which != NULL)
		*which = name;
	if (guard_check(g, host, &why) != 0) {
		*cause = xasprintf("target %s: %s; nothing was scanned", name, why);
		free(why);
	} else
		*cause = xasprintf("target %s: %s is not allowed; nothing was scanned", name, host);
	return -1;
}

int
scan_targets_check_guard_counted(
    const struct scan_targets *t, const struct guard *g, uint64_t *steps, char **cause)
{
	return check_guard(t, g, steps, NULL, cause);
}

int
scan_targets_check_guard_named(
    const struct scan_targets *t, const struct guard *g, const char **which, char **cause)
{
	return check_guard(t, g, NULL, which, cause);
}

int
scan_targets_check_guard(const struct scan_targets *t, const struct guard *g, char **cause)
{
	return check_guard(t, g, NULL, NULL, cause);
}

void
scan_iter_init(struct scan_iter *it, const struct scan_targets *t)
{
	it->interval = 0;
	it->next = t->ni > 0 ? t->iv[0].first : 0;
}

int
scan_iter_next(struct scan_iter *it, const struct scan_targets *t, struct in_addr *out)
{
	while (it->interval < t->ni) {
		const struct interval *iv = &t->iv[it->interval];
		if (it->next < iv->first)
			it->next = iv->first;
		if (it->next <= iv->last) {
			out->s_addr = htonl((uint32_t)it->next);
			it->next++;
			return 1;
		}
		it->interval++;
	}
	return 0;
}

/* A deep copy of t. */
static struct scan_targets *
targets_copy(const struct scan_targets *t)
{
	struct scan_targets *c = scan_targets_new();

	c->nt = c->capt = t->nt;
	c->ni = c->capi = t->ni;
	if (t->nt > 0) {
		c->tv = xreallocarray(NULL, t->nt, sizeof *c->tv);
		for (size_t i = 0; i < t->nt; i++) {
			c->tv[i] = t->tv[i];
			c->tv[i].text = xstrdup(t->tv[i].text);
		}
	}
	if (t->ni > 0) {
		c->iv = xreallocarray(NULL, t->ni, sizeof *c->iv);
		memcpy(c->iv, t->iv, t->ni * sizeof *c->iv);
	}
	return c;
}

/* ---- the scan ---- */

int
scan_try_https(enum http_result result, int explicit_port)
{
	switch (result) {
	case HTTP_REFUSED:
		return !explicit_port;
	case HTTP_RESET:
	case HTTP_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int
allow_cb(const char *host, void *arg)
{
	struct scan *s = arg;

	return s->o.guard == NULL || guard_allows(s->o.guard, host);
}

static void fill(struct scan *s);

static void
finish(struct scan *s)
{
	if (s->finished || s->freeing)
		return;
	s->finished = 1;
	s->p.elapsed_ms = loop_now_ms(s->loop) - s->start_ms;
	log_debug("scan done: %llu of %llu addresses, %llu found", (unsigned long long)s->p.done,
	    (unsigned long long)s->p.total, (unsigned long long)s->p.found);
	if (s->cbs.done_cb != NULL)
		s->cbs.done_cb(&s->p, s->cbs.arg);
}

static void
probe_unlink(struct scan *s, struct probe *pr)
{
	LIST_REMOVE(pr, entry);
	s->p.in_flight--;
}

static void probe_cb(const struct shelly_reply *r, void *arg);

static void
probe_send(struct scan *s, struct probe *pr)
{
	struct shelly_target t;

	memset(&t, 0, sizeof t);
	t.host = pr->host;
	t.port = pr->port;
	t.https = pr->https;
	t.lane = pr->lane;
	t.lane_limit = 1;
	t.tls = HTTP_TLS_PIN; /* no pin: first contact, any certificate, pin reported */
	t.connect_timeout_ms = s->o.timeout_ms;
	t.timeout_ms = s->o.timeout_ms;
	t.max_body = s->o.max_body;
	pr->id = shelly_identify(s->http, &t, probe_cb, pr);
}

static void
probe_cb(const struct shelly_reply *r, void *arg)
{
	struct probe *pr = arg;
	struct scan *s = pr->s;

	if (s->freeing) {
		free(pr);
		return;
	}
	if (!pr->https && !s->stopping && r->result != HTTP_OK &&
	    scan_try_https(r->result, s->o.port != 0)) {
		log_debug("scan %s:%u: %s; trying https", pr->host, (unsigned)pr->port,
		    http_result_name(r->result));
		pr->https = 1;
		pr->port = s->o.port != 0 ? s->o.port : SCAN_HTTPS_PORT;
		s->p.https_tried++;
		probe_send(s, pr);
		return;
	}
	if (r->result == HTTP_OK && r->ident != NULL) {
		struct scan_hit hit;
		s->p.found++;
		memset(&hit, 0, sizeof hit);
		hit.address = pr->host;
		hit.port = pr->port;
		hit.https = pr->https;
		hit.ident = r->ident;
		hit.pin = pr->https ? r->pin : NULL;
		hit.elapsed_ms = r->elapsed_ms;
		log_debug("scan %s:%u: %s (gen %d, mac %s)", pr->host, (unsigned)pr->port,
		    r->ident->model, r->ident->gen, r->ident->mac);
		if (s->cbs.hit_cb != NULL)
			s->cbs.hit_cb(&hit, s->cbs.arg);
	} else if (r->result == HTTP_TIMEOUT)
		s->p.no_answer++;
	else if (r->result == HTTP_REFUSED)
		s->p.refused++;
	else
		s->p.other++;
	probe_unlink(s, pr);
	free(pr);
	s->p.done++;
	s->p.elapsed_ms = loop_now_ms(s->loop) - s->start_ms;
	if (s->cbs.progress_cb != NULL)
		s->cbs.progress_cb(&s->p, s->cbs.arg);
	fill(s);
}

/* Starts probes up to the cap; finishes when nothing is left. */
static void
fill(struct scan *s)
{
	struct in_addr a;

	while (!s->stopping && !s->exhausted && s->p.in_flight < (uint64_t)s->o.concurrency) {
		struct probe *pr;
		if (!scan_iter_next(&s->it, s->t, &a)) {
			s->exhausted = 1;
			break;
		}
		pr = xcalloc(1, sizeof *pr);
		pr->s = s;
		inet_ntop(AF_INET, &a, pr->host, sizeof pr->host);
		snprintf(pr->lane, sizeof pr->lane, "scan:%s", pr->host);
		pr->port = s->o.port != 0 ? s->o.port : SCAN_DEFAULT_PORT;
		LIST_INSERT_HEAD(&s->inflight, pr, entry);
		s->p.in_flight++;
		probe_send(s, pr);
	}
	if (s->p.in_flight == 0 && (s->exhausted || s->stopping))
		finish(s);
}

static void
kick_cb(void *arg)
{
	fill(arg);
}

/* Caps concurrency below the open-file limit, leaving room for the rest of the process. */
static int
cap_concurrency(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)want + 64) {
		int cap = rl.rlim_cur > 96 ? (int)(rl.rlim_cur - 64) : 32;
		if (cap < want) {
			log_warn("scan: %d probes at once would exceed the open-file limit (%llu); "
			         "using %d",
			    want, (unsigned long long)rl.rlim_cur, cap);
			return cap;
		}
	}
	return want;
}

struct scan *
scan_new(struct loop *loop, const struct scan_targets *targets, const struct scan_opts *opts,
    const struct scan_cbs *cbs, char **cause)
{
	struct scan *s;

	if (scan_targets_check_size(targets, opts->force, cause) != 0 ||
	    scan_targets_check_guard(targets, opts->guard, cause) != 0)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	LIST_INIT(&s->inflight);
	s->o = *opts;
	if (s->o.timeout_ms == 0)
		s->o.timeout_ms = SCAN_DEFAULT_TIMEOUT_MS;
	if (s->o.concurrency <= 0)
		s->o.concurrency = SCAN_DEFAULT_CONCURRENCY;
	s->o.concurrency = cap_concurrency(s->o.concurrency);
	if (s->o.max_body == 0)
		s->o.max_body = SCAN_DEFAULT_MAX_BODY;
	if (cbs != NULL)
		s->cbs = *cbs;
	s->t = targets_copy(targets);
	scan_iter_init(&s->it, s->t);
	s->p.total = scan_targets_count(s->t);
	s->http = http_new(loop);
	http_set_max_inflight(s->http, s->o.concurrency);
	http_set_allow(s->http, allow_cb, s);
	s->kick = loop_timer_new(loop, kick_cb, s);
	return s;
}

void
scan_start(struct scan *s)
{
	if (s->started)
		return;
	s->started = 1;
	s->start_ms = loop_update_now(s->loop);
	loop_timer_arm(s->kick, 0);
}

void
scan_stop(struct scan *s)
{
	struct probe *pr;

	if (s->stopping || s->finished)
		return;
	s->stopping = 1;
	if (!s->started) {
		s->started = 1;
		s->start_ms = loop_update_now(s->loop);
	}
	LIST_FOREACH(pr, &s->inflight, entry)
		http_cancel(s->http, pr->id);
	if (s->p.in_flight == 0)
		loop_timer_arm(s->kick, 0);
}

int
scan_finished(const struct scan *s)
{
	return s->finished;
}

const struct scan_progress *
scan_get_progress(const struct scan *s)
{
	return &s->p;
}

void
scan_free(struct scan *s)
{
	if (s == NULL)
		return;
	s->freeing = 1;
	http_free(s->http); /* completes what is in flight: probe_cb frees each probe */
	loop_timer_free(s->kick);
	scan_targets_free(s->t);
	free(s);
}
