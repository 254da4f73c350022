/*
 * Configuration work of the console (see tui/cfgjob.h): per device, devtarget identifies and
 * picks credentials, then cfgapply reads, diffs, writes, restores and verifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "engine/cfgdesired.h"
#include "engine/cfgmove.h"
#include "engine/cfgpending.h"
#include "engine/cfgpeers.h"
#include "engine/devtarget.h"
#include "store/store.h"
#include "tui/cfgjob.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct slot {
	struct cfgjob *job;
	struct cfgjob_dev *dev;
	struct devtarget dt;
	int have_dt;
	struct cfgapply *op;
};

struct cfgjob {
	struct app *app;
	struct cfgjob_opts o;
	struct cfgjob_dev *devs;
	struct slot *slots;
	size_t n, ndone;
	struct loop_timer *kick; /* starts the work from the loop */
	cfgjob_cb cb;
	void *arg;
};

static void
set_message(struct cfgjob_dev *d, const char *s)
{
	str_copy(d->message, sizeof d->message, s != NULL ? s : "");
	str_sanitize_inplace(d->message);
}

/* Offline: the change waits in the queue for the device to be seen again. */
static void
queue(struct cfgjob *job, struct cfgjob_dev *d)
{
	char *cause = NULL;

	if (job->o.read_only || job->o.dry_run || d->desired.n == 0)
		return;
	if (cfgpending_queue(job->app->store, d->mac, &d->desired, job->o.allow_reboot,
	        job->o.allow_network, &cause) == 0) {
		d->queued = 1;
		d->failed = 0;
		set_message(d, "offline: queued, applied when the device is next seen");
	} else {
		char buf[240];
		snprintf(buf, sizeof buf, "offline, and not queued: %s", cause);
		set_message(d, buf);
		free(cause);
	}
}

static void
finish(struct slot *s)
{
	struct cfgjob *job = s->job;

	s->dev->state = CJ_DONE;
	job->ndone++;
	if (job->cb != NULL)
		job->cb(job, job->arg);
}

static void
apply_done_cb(const struct cfgapply_result *r, void *arg)
{
	struct slot *s = arg;
	struct cfgjob_dev *d = s->dev;
	char *cause = NULL;

	d->outcome = r->outcome;
	d->failed =
	    r->outcome != CFGA_OK && r->outcome != CFGA_UNCHANGED && r->outcome != CFGA_DRY_RUN;
	set_message(d, r->message);
	devconfig_done(&d->before);
	devconfig_done(&d->after);
	devconfig_copy(&d->before, r->before);
	devconfig_copy(&d->after, r->after);
	if (cfgpending_keep_result(s->job->app->store, d->mac, r,
	        s->job->o.read_only ? "console-read" : "console-apply", &cause) != 0)
		free(cause); /* history only: the apply's own outcome stands */
	if (s->dt.reg != NULL && r->moved_to != NULL) {
		cause = NULL;
		if (cfgmove_record(s->job->app->store, s->dt.reg->mac, r, "console", &cause) != 0) {
			set_message(d, cause);
			free(cause);
		} else
			d->moved = 1;
	}
	if (r->outcome == CFGA_UNREACHABLE && !r->answered)
		queue(s->job, d);
	finish(s);
}

static void
progress_cb(const char *line, void *arg)
{
	struct slot *s = arg;

	str_copy(s->dev->progress, sizeof s->dev->progress, line);
	str_sanitize_inplace(s->dev->progress);
	if (s->job->cb != NULL)
		s->job->cb(s->job, s->job->arg);
}

/* The device's desired configuration from the store; 0, or -1 with the reason set. */
static int
stored_desired(struct cfgjob *job, struct slot *s)
{
	const struct store_device *reg = s->dt.reg;
	struct devconfig_vars v = {0};
	char *cause = NULL;

	if (reg == NULL) {
		set_message(s->dev, "not registered");
		return -1;
	}
	v.name = reg->name;
	v.id = reg->id;
	v.mac = reg->mac; /* index: the engine's, from the device's group */
	if (cfgdesired_stored(job->app->store, reg->mac, NULL, &v, &s->dev->desired, &cause) != 0) {
		set_message(s->dev, cause);
		free(cause);
		return -1;
	}
	if (s->dev->desired.n == 0) {
		set_message(
		    s->dev, "no desired configuration (no group template, no stored fields)");
		return -1;
	}
	return 0;
}

static void
target_cb(struct devtarget *dt, void *arg)
{
	struct slot *s = arg;
	struct cfgjob *job = s->job;
	struct cfgapply_opts o = {0};

	if (dt->result != HTTP_OK) {
		s->dev->failed = 1;
		s->dev->outcome = CFGA_UNREACHABLE; /* nothing sent (not "ok" by default) */
		set_message(s->dev, dt->error != NULL ? dt->error : "not reached");
		if (!dt->have_ident)
			queue(job, s->dev);
		finish(s);
		return;
	}
	o.dry_run = job->o.dry_run || job->o.read_only;
	o.allow_reboot = job->o.allow_reboot;
	o.allow_network = job->o.allow_network;
	o.follow_timeout_ms = (uint32_t)conf_get_ms(job->app->cfg, OPT_READDRESS_TIMEOUT);
	o.progress_cb = progress_cb;
	s->dev->state = CJ_RUNNING;
	s->op = cfgapply_start(job->app->loop, job->app->http, &dt->t,
	    job->o.read_only ? NULL : &s->dev->desired, &o, apply_done_cb, s);
}

/* Identifies the registry entry of slot s and fills its desired configuration; 0, or -1 done. */
static int
prepare(struct cfgjob *job, struct slot *s)
{
	char *cause = NULL;

	s->have_dt = 1;
	s->dev->outcome = CFGA_REFUSED; /* until the device is reached: nothing sent */
	if (devtarget_init(&s->dt, app_engine(job->app), s->dev->mac, 0, &cause) != 0) {
		s->dev->failed = 1;
		set_message(s->dev, cause);
		free(cause);
		finish(s);
		return -1;
	}
	if (s->dt.reg != NULL && s->dt.reg->name != NULL && s->dt.reg->name[0])
		str_copy(s->dev->label, sizeof s->dev->label, s->dt.reg->name);
	else if (s->dt.reg != NULL && s->dt.reg->id != NULL)
		str_copy(s->dev->label, sizeof s->dev->label, s->dt.reg->id);
	str_sanitize_inplace(s->dev->label);
	if (!job->o.read_only && s->dev->desired.n == 0 && stored_desired(job, s) != 0) {
		s->dev->failed = 1;
		finish(s);
		return -1;
	}
	return 0;
}

/* Refuses device i of the job for why (malloc'd, freed): nothing sent, nothing queued. */
static void
refuse(struct cfgjob *job, size_t i, char *why)
{
	job->devs[i].failed = 1;
	job->devs[i].refused = 1;
	set_message(&job->devs[i], why);
	free(why);
	finish(&job->slots[i]);
}

/*
 * Refuses (nothing sent, nothing queued) every device of the job that would get the static
 * address, MQTT client id or topic prefix another one of the job gets, or that another
 * registered device's desired configuration gives, or a static address another registered
 * device is at now (engine/cfgunique, engine/cfgpeers: the check of the headless queue and the
 * command line).
 */
static void
refuse_shared(struct cfgjob *job)
{
	const struct devconfig **desired = xcalloc(job->n ? job->n : 1, sizeof *desired);
	const char **macs = xcalloc(job->n ? job->n : 1, sizeof *macs);
	char **why = xcalloc(job->n ? job->n : 1, sizeof *why);

	for (size_t i = 0; i < job->n; i++) {
		if (job->devs[i].state != CJ_DONE && !job->o.read_only)
			desired[i] = &job->devs[i].desired;
		macs[i] = job->devs[i].mac;
	}
	cfgpeers_check_run(job->app->store, desired, macs, job->n, why);
	for (size_t i = 0; i < job->n; i++)
		if (why[i] != NULL)
			refuse(job, i, why[i]);
	free(why);
	free(macs);
	free(desired);
}

static void
kick_cb(void *arg)
{
	struct cfgjob *job = arg;

	for (size_t i = 0; i < job->n; i++)
		prepare(job, &job->slots[i]);
	refuse_shared(job);
	for (size_t i = 0; i < job->n; i++)
		if (job->devs[i].state != CJ_DONE)
			devtarget_start(&job->slots[i].dt, target_cb, &job->slots[i]);
}

struct cfgjob *
cfgjob_start(struct app *app, const char *const *macs, size_t n, const struct devconfig *desired,
    const struct cfgjob_opts *o, cfgjob_cb changed, void *arg)
{
	struct cfgjob *job = xcalloc(1, sizeof *job);

	job->app = app;
	job->o = *o;
	job->n = n;
	job->cb = changed;
	job->arg = arg;
	job->devs = xcalloc(n ? n : 1, sizeof *job->devs);
	job->slots = xcalloc(n ? n : 1, sizeof *job->slots);
	for (size_t i = 0; i < n; i++) {
		struct cfgjob_dev *d = &job->devs[i];
		str_copy(d->mac, sizeof d->mac, macs[i]);
		str_copy(d->label, sizeof d->label, macs[i]);
		devconfig_init(&d->before);
		devconfig_init(&d->after);
		if (desired != NULL)
			devconfig_copy(&d->desired, desired);
		else
			devconfig_init(&d->desired);
		job->slots[i].job = job;
		job->slots[i].dev = d;
	}
	job->kick = loop_timer_new(app->loop, kick_cb, job);
	loop_timer_arm(job->kick, 0);
	return job;
}

void
cfgjob_free(struct cfgjob *job)
{
	if (job == NULL)
		return;
	loop_timer_free(job->kick);
	for (size_t i = 0; i < job->n; i++) {
		struct slot *s = &job->slots[i];
		cfgapply_free(s->op);
		if (s->have_dt)
			devtarget_done(&s->dt);
		devconfig_done(&job->devs[i].desired);
		devconfig_done(&job->devs[i].before);
		devconfig_done(&job->devs[i].after);
	}
	free(job->slots);
	free(job->devs);
	free(job);
}

struct cfgjob_dev *
cfgjob_devs(struct cfgjob *job, size_t *n)
{
	*n = job->n;
	return job->devs;
}

size_t
cfgjob_done(const struct cfgjob *job)
{
	return job->ndone;
}

int
cfgjob_finished(const struct cfgjob *job)
{
	return job->ndone == job->n;
}

size_t
cfgjob_writing(const struct cfgjob *job)
{
	if (job == NULL || job->o.read_only || job->o.dry_run)
		return 0;
	return job->n - job->ndone;
}
