/*
 * Jobs the views let go of. An action that was sent, or a scan, belongs to the console, not to
 * the view that shows it: closing the results, detail or discovery view leaves it running here,
 * its end is reported on the status line, and the newest job (running or done) opens again in
 * its view (the last-results key); a job that ends becomes the newest, so that key shows the
 * results its end announced. Finished jobs other than the newest are freed.
 */
#include <stdlib.h>
#include <string.h>

#include "tui/source.h"
#include "tui/view.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct shelf_entry {
	struct jobshelf *shelf;
	struct source_job *job;
	char title[160];
};

struct jobshelf {
	struct tui *t;
	struct shelf_entry **v; /* oldest first */
	size_t n, cap;
};

struct jobshelf *
jobshelf_new(struct tui *t)
{
	struct jobshelf *s = xcalloc(1, sizeof *s);

	s->t = t;
	return s;
}

/* Frees the entry at i and its job. */
static void
drop(struct jobshelf *s, size_t i)
{
	source_job_free(s->v[i]->job);
	free(s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
	s->n--;
}

/* Finished jobs other than the newest go. */
static void
prune(struct jobshelf *s)
{
	for (size_t i = s->n; i > 1; i--) {
		struct source_progress p;
		source_job_progress(s->v[i - 2]->job, &p);
		if (p.finished)
			drop(s, i - 2);
	}
}

/* A job that ends becomes the newest: L shows the results its end announces. */
static void
to_newest(struct jobshelf *s, struct shelf_entry *e)
{
	for (size_t i = 0; i + 1 < s->n; i++)
		if (s->v[i] == e) {
			memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
			s->v[s->n - 1] = e;
			return;
		}
}

static void
shelved_done_cb(struct source_job *job, void *arg)
{
	struct shelf_entry *e = arg;
	struct source_progress p;

	to_newest(e->shelf, e);
	source_job_progress(job, &p);
	if (p.error != NULL)
		tui_message(e->shelf->t, 1, "%s: %s", e->title, p.error);
	else if (p.scan)
		tui_message(e->shelf->t, 0, "%s: %zu found (L shows them)", e->title, p.results);
	else
		tui_message(e->shelf->t, p.ok < p.results,
		    "%s: %zu ok, %zu failed (L shows the results)", e->title, p.ok,
		    p.results - p.ok);
	prune(e->shelf);
}

void
jobshelf_put(struct jobshelf *s, const char *title, struct source_job *job)
{
	struct shelf_entry *e;

	if (job == NULL)
		return;
	e = xcalloc(1, sizeof *e);
	e->shelf = s;
	e->job = job;
	str_copy(e->title, sizeof e->title, title);
	source_job_set_done(job, shelved_done_cb, e);
	s->v = xgrowarray(s->v, &s->cap, s->n, sizeof *s->v);
	s->v[s->n++] = e;
	prune(s);
}

struct source_job *
jobshelf_take(struct jobshelf *s, char *title, size_t size)
{
	struct source_job *job;

	if (s->n == 0)
		return NULL;
	job = s->v[s->n - 1]->job;
	str_copy(title, size, s->v[s->n - 1]->title);
	free(s->v[--s->n]);
	source_job_set_done(job, NULL, NULL);
	return job;
}

void
jobshelf_free(struct jobshelf *s)
{
	if (s == NULL)
		return;
	while (s->n > 0)
		drop(s, s->n - 1);
	free(s->v);
	free(s);
}
