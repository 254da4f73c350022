/*
 * The discovery view: a scan's live progress (addresses probed of the total, devices found)
 * and the devices found, new ones first, each waiting for the operator: add it to the
 * registry, or ignore it (remembered for the session: a later scan lists it as ignored, at
 * the end). A registered device found at another address is listed MOVED (with the address
 * the registry has) and waits the same way. Nothing found is registered without the
 * operator's key; an add stores what the scan read through the engine's merge, as --discover
 * does: a moved device gets its new address, a claim the registry cannot confirm is HELD.
 * Closing the view does not cancel the scan (a wide range takes minutes): it goes on with the
 * console's other jobs (tui/jobshelf), its end is reported on the status line, and the
 * last-results key opens the view again on it. Quitting the console asks first, then cancels it.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* A found device the operator added (or tried to). */
struct add_op {
	char mac[DEV_MAC_LEN];
	int ok;
	int moved; /* it was registered at another address: the add moved it */
	int held; /* the registry did not take the claim: held as a MAC conflict */
	char why[160];
};

struct vdiscover {
	struct view v;
	char title[160];
	struct source_job *scan;
	size_t *order; /* results in display order */
	size_t norder;
	struct add_op **adds;
	size_t nadds;
};

static struct add_op *
add_of(const struct vdiscover *d, const char *mac)
{
	for (size_t i = 0; i < d->nadds; i++)
		if (strcmp(d->adds[i]->mac, mac) == 0)
			return d->adds[i];
	return NULL;
}

/* Waiting for the operator: new, or registered at another address; not ignored. */
static int
is_new(const struct vdiscover *d, const struct source_result *r)
{
	return (!r->known || r->moved) && !source_ignored(d->v.t->src, r->mac);
}

/* 0 new or moved and waiting, 1 added (or failed), 2 known already, 3 ignored. */
static int
rank(const struct vdiscover *d, const struct source_result *r)
{
	if (source_ignored(d->v.t->src, r->mac))
		return 3;
	if (add_of(d, r->mac) != NULL)
		return 1;
	return r->known && !r->moved ? 2 : 0;
}

static void
rebuild(struct vdiscover *d)
{
	size_t n;
	const struct source_result *res = source_job_results(d->scan, &n);

	d->order = xreallocarray(d->order, n ? n : 1, sizeof *d->order);
	d->norder = 0;
	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < n; i++)
			if (rank(d, &res[i]) == k)
				d->order[d->norder++] = i;
}

static const struct source_result *
current(struct vdiscover *d)
{
	size_t n;
	const struct source_result *res = source_job_results(d->scan, &n);

	rebuild(d);
	return d->v.cur.sel < d->norder ? &res[d->order[d->v.cur.sel]] : NULL;
}

static void
scan_done_cb(struct source_job *job, void *arg)
{
	struct vdiscover *d = arg;
	struct source_progress p;
	size_t n, fresh = 0, moved = 0;
	const struct source_result *res = source_job_results(job, &n);

	source_job_progress(job, &p);
	for (size_t i = 0; i < n; i++) {
		fresh += is_new(d, &res[i]) && !res[i].moved;
		moved += is_new(d, &res[i]) && res[i].moved;
	}
	if (p.error != NULL)
		tui_message(d->v.t, 1, "%s", p.error);
	else
		tui_message(d->v.t, 0,
		    "scan done: %zu found, %zu new, %zu moved (a adds or moves, A all of them, i "
		    "ignores, q closes)",
		    n, fresh, moved);
}

/* Adds the found device r (or moves it, when registered at another address) unless it was
 * added. Returns 1 when stored. */
static int
add(struct vdiscover *d, const struct source_result *r)
{
	struct add_op *op = add_of(d, r->mac);
	char *cause = NULL;
	int rc;

	if (op != NULL && op->ok)
		return 0;
	if (op == NULL) {
		op = xcalloc(1, sizeof *op);
		str_copy(op->mac, sizeof op->mac, r->mac);
		d->adds = xreallocarray(d->adds, d->nadds + 1, sizeof *d->adds);
		d->adds[d->nadds++] = op;
	}
	op->moved = r->moved;
	rc = source_add_found(d->v.t->src, d->scan, r->mac, &cause);
	op->ok = rc == 0;
	op->held = rc == 1;
	str_copy(op->why, sizeof op->why, op->ok ? "" : cause);
	if (!op->ok)
		tui_message(d->v.t, 1, "%s: %s", r->target, cause);
	free(cause);
	return op->ok;
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	const struct vdiscover *d = (struct vdiscover *)v;
	size_t n;
	const struct source_result *r = &source_job_results(d->scan, &n)[d->order[k]];
	const struct add_op *op = add_of(d, r->mac);
	const char *state = "NEW", *why = "";
	char from[96];
	enum tui_color color = TC_NORMAL;

	if (source_ignored(d->v.t->src, r->mac)) {
		state = "ignored";
		color = TC_DIM;
	} else if (op != NULL) {
		state = op->held ? "HELD" : !op->ok ? "FAILED" : op->moved ? "UPDATED" : "ADDED";
		why = op->why;
		color = op->ok ? TC_OK : TC_ERROR;
	} else if (r->moved) {
		state = "MOVED";
		snprintf(from, sizeof from, "from %s%.64s:%u", r->https ? "https://" : "",
		    r->old_host, (unsigned)r->old_port);
		why = from;
	} else if (r->known) {
		state = "known";
		color = TC_DIM;
	}
	/* 32: the longest ids (shellyplusplugit-441793000025) keep the columns aligned; on a
	 * narrow terminal the model, then the id give way so that the address (IPv4:port, 21
	 * cells) shows whole */
	int short_by = 9 + 33 + 23 + 23 - (d->v.t->cols - 4), tw = draw_width(r->text);
	int textw = tw < 22 ? 22 : tw < 60 ? tw : 60, idw = 32;
	char id[160], text[260];

	if (short_by > 0) {
		textw = 22 - short_by > 14 ? 22 - short_by : 14;
		short_by -= 22 - textw;
		idw = 32 - short_by > 20 ? 32 - short_by : 20;
	}
	snprintf(buf, size, "%-8s %s %s %s%.64s:%u  %.100s", state,
	    draw_cells(id, sizeof id, r->target, idw),
	    draw_cells(text, sizeof text, r->text, textw), r->https ? "https://" : "", r->host,
	    (unsigned)r->port, why);
	return color;
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vdiscover *d = (struct vdiscover *)v;
	struct source_progress p;
	char buf[400];

	rebuild(d);
	source_job_progress(d->scan, &p);
	view_panel(t, y, h, w, d->title);
	if (p.error != NULL && p.finished) {
		draw_text(y + 1, 2, w - 4, p.error, theme_attr(t->theme, TC_ERROR));
		return;
	}
	/* Probed of the total and found, live; mDNS has no total. */
	snprintf(buf, sizeof buf, "%s: %zu probed / %zu addresses, %zu found",
	    p.finished ? "done" : "scanning", p.done, p.total, p.results);
	draw_text(y + 1, 2, w - 4, buf, theme_attr(t->theme, TC_TITLE));
	if (!p.finished && w > 60)
		draw_progress(t, y + 2, 2, w - 4, p.done, p.total);
	view_draw_list(v, t, &(struct view_area){y + 4, 2, h - 5, w - 4}, d->norder, line_of, NULL);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vdiscover *d = (struct vdiscover *)v;
	const struct source_result *r;

	switch (a) {
	case TA_FOUND_ADD:
		if ((r = current(d)) == NULL)
			return R_DIRTY;
		if (source_ignored(t->src, r->mac))
			tui_message(t, 1, "%s is ignored (i stops ignoring it)", r->target);
		else if (!add(d, r))
			tui_message(t, 0, "%s is %s", r->target,
			    add_of(d, r->mac) != NULL ? "added already" : "registered already");
		return R_DIRTY;
	case TA_FOUND_ADD_ALL: {
		size_t n, k = 0;
		const struct source_result *res = source_job_results(d->scan, &n);
		for (size_t i = 0; i < n; i++)
			if (is_new(d, &res[i]))
				k += (size_t)add(d, &res[i]);
		tui_message(t, 0, "adding %zu new device%s", k, k == 1 ? "" : "s");
		return R_DIRTY;
	}
	case TA_FOUND_IGNORE:
		if ((r = current(d)) != NULL) {
			int on = !source_ignored(t->src, r->mac);
			source_ignore(t->src, r->mac, on);
			tui_message(t, 0, "%s %s for this session", r->target,
			    on ? "ignored" : "no longer ignored");
		}
		return R_DIRTY;
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vdiscover *d = (struct vdiscover *)v;
	struct source_progress p;

	source_job_progress(d->scan, &p);
	if (!p.finished)
		tui_message(v->t, 0, "%s: the scan goes on (L shows it)", d->title);
	jobshelf_put(v->t->shelf, d->title, d->scan);
	for (size_t i = 0; i < d->nadds; i++)
		free(d->adds[i]);
	free(d->adds);
	free(d->order);
}

static const struct view_ops vdiscover_ops = {
    .kind = TV_KIND_DISCOVER,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vdiscover_new(struct tui *t, const char *title, struct source_job *scan)
{
	struct vdiscover *d = view_new(t, sizeof *d, &vdiscover_ops);

	d->scan = scan;
	str_copy(d->title, sizeof d->title, title);
	source_job_set_done(scan, scan_done_cb, d);
	return &d->v;
}
