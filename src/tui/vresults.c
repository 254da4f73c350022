/*
 * The results view of a bulk action: a progress bar while the job runs, then one
 * line per device (ok, or failed and why). It stays until the operator dismisses it; closing
 * it while the job runs leaves the job running on the console's shelf (which reports its end
 * and shows it again on the last-results key).
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct vresults {
	struct view v;
	char title[160];
	struct source_job *job;
	size_t skipped; /* failed toggles a retry left out (they may have switched) */
};

static void
done_cb(struct source_job *job, void *arg)
{
	struct vresults *r = arg;
	struct source_progress p;

	source_job_progress(job, &p);
	if (p.error != NULL)
		tui_message(r->v.t, 1, "%s", p.error);
	else if (r->skipped > 0) /* the retry's end still says what it left out, and why */
		tui_message(r->v.t, 1,
		    "%s: %zu ok, %zu failed, %zu not retried (a lost reply: look, then use on or off)",
		    r->title, p.ok, p.results - p.ok, r->skipped);
	else
		tui_message(r->v.t, p.ok < p.results, "%s: %zu ok, %zu failed (q closes)", r->title,
		    p.ok, p.results - p.ok);
}

static enum tui_color
line_of(struct view *v, size_t k, char *buf, size_t size)
{
	size_t n;
	const struct source_result *x = &source_job_results(((struct vresults *)v)->job, &n)[k];
	const struct source_dev *d = x->mac[0] ? source_device(v->t->src, x->mac) : NULL;

	/* The name the table shows first (names repeat, so the id after it); below 120 columns
	 * a shorter name leaves the outcome in view. */
	int namew = v->t->cols < 120 ? 18 : 28;

	char name[160];

	snprintf(buf, size, "%-6s %s %-32s %s", x->ok ? "OK" : "FAILED",
	    draw_cells(name, sizeof name, d != NULL && d->name[0] ? d->name : "", namew), x->target,
	    x->text);
	return x->ok ? TC_OK : TC_ERROR;
}

/* The selected result in full over 3 rows from y: its device and what happened, wrapped. */
static void
draw_reason(struct vresults *r, struct tui *t, int y, int w)
{
	size_t n;
	const struct source_result *res = source_job_results(r->job, &n);
	const struct source_result *x = r->v.cur.sel < n ? &res[r->v.cur.sel] : NULL;
	char buf[400];

	if (x == NULL)
		return;
	snprintf(
	    buf, sizeof buf, "%s: %s", x->mac[0] ? view_dev_label(t, x->mac) : x->target, x->text);
	draw_wrap(y, 2, 3, w - 4, buf, theme_attr(t->theme, x->ok ? TC_DIM : TC_ERROR));
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vresults *r = (struct vresults *)v;
	struct source_progress p;
	char buf[400];

	source_job_progress(r->job, &p);
	view_panel(t, y, h, w, r->title);
	if (!p.finished) {
		view_progress(t, y + 1, w, "running", p.done, p.total);
	} else if (p.error != NULL) {
		draw_text(y + 1, 2, w - 4, p.error, theme_attr(t->theme, TC_ERROR));
	} else {
		snprintf(buf, sizeof buf, "done: %zu ok, %zu failed", p.ok, p.results - p.ok);
		draw_text(y + 1, 2, w - 4, buf,
		    theme_attr(t->theme, p.results > p.ok ? TC_ERROR : TC_OK));
	}
	/* Below 120 columns a reason is cut in its line: the selected one is shown whole under the
	 * list, wrapped. */
	if (w < 120 && p.results > 0 && h > 10) {
		view_draw_list(
		    v, t, &(struct view_area){y + 3, 2, h - 8, w - 4}, p.results, line_of, NULL);
		draw_reason(r, t, y + h - 4, w);
	} else
		view_draw_list(
		    v, t, &(struct view_area){y + 3, 2, h - 4, w - 4}, p.results, line_of, NULL);
}

/* How many failed toggles of job may have reached their device (never retried). */
static size_t
count_unsure(const struct source_job *job)
{
	size_t n, k = 0;
	const struct source_result *res = source_job_results(job, &n);

	for (size_t i = 0; i < n; i++)
		k += !res[i].ok && res[i].unsure;
	return k;
}

static const char *
unsure_text(size_t n)
{
	return n == 1 ? "a toggle whose reply was lost may have switched its device: look, then "
	                "use on or off"
	              : "toggles whose replies were lost may have switched their devices: look, "
	                "then use on or off";
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vresults *r = (struct vresults *)v;

	if (a == TA_RETRY) {
		struct source_job *again;
		struct source_progress p;
		size_t unsure;
		source_job_progress(r->job, &p);
		if (!p.finished) {
			tui_message(t, 1, "still running");
			return R_DIRTY;
		}
		again = source_job_retry(t->src, r->job);
		unsure = count_unsure(r->job);
		if (again == NULL) {
			if (unsure > 0)
				tui_message(t, 1, "nothing retried: %s", unsure_text(unsure));
			else
				tui_message(t, 0, "nothing to retry");
			return R_DIRTY;
		}
		/* The view shows the new run over the failed devices. */
		source_job_free(r->job);
		r->job = again;
		r->v.cur.sel = r->v.cur.top = 0;
		r->skipped += unsure;
		source_job_set_done(again, done_cb, r);
		if (unsure > 0)
			tui_message(t, 1, "%zu not retried: %s", unsure, unsure_text(unsure));
		if (strncmp(r->title, "Retry: ", 7) != 0) {
			char title[sizeof r->title + 8];
			snprintf(title, sizeof title, "Retry: %s", r->title);
			str_copy(r->title, sizeof r->title, title);
		}
		return R_DIRTY;
	}
	return R_UNHANDLED;
}

static void
vfree(struct view *v)
{
	struct vresults *r = (struct vresults *)v;

	jobshelf_put(v->t->shelf, r->title, r->job);
}

static const struct view_ops vresults_ops = {
    .kind = TV_KIND_RESULTS,
    .list = VL_SELECT,
    .draw = draw,
    .action = action,
    .free = vfree,
};

struct view *
vresults_new(struct tui *t, const char *title, struct source_job *job)
{
	struct vresults *r;
	struct source_progress p;

	source_job_progress(job, &p);
	if (p.scan) /* a scan's progress and findings have their own view */
		return vdiscover_new(t, title, job);
	r = view_new(t, sizeof *r, &vresults_ops);
	r->job = job;
	str_copy(r->title, sizeof r->title, title);
	source_job_set_done(job, done_cb, r);
	return &r->v;
}
