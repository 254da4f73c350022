/*
 * The credential resolver (engine/creds.h): which user and password go to a device, for
 * polling, actions, discovery and the registry alike. The operator's password is looked for
 * once per resolver; a prompt the front end supplies may answer later, so callers waiting for
 * it are queued and called back in order.
 */
#include "engine/creds.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "shelly/client.h"
#include "engine/engine.h"
#include "model/device.h"
#include "store/store.h"
#include "util/xmalloc.h"

#define NEED_PASSWORD "a password is needed: use --password-file FILE or SHELLY_TUI_PASSWORD"
#define HELD_BACK "credentials held back after a MAC conflict: confirm with --add"

/* A resolution waiting for the operator's password. */
struct creds_wait {
	creds_done_cb done;
	void *arg;
	int gen;
	struct creds_wait *next;
};

struct creds_prompt {
	struct creds *c; /* NULL once the resolver is gone */
};

struct creds {
	char *user, *password_file;
	int use_env;
	creds_prompt_cb prompt_cb;
	void *prompt_arg;
	int asked; /* the operator's password was looked for */
	char *password; /* the operator's password, a secret */
	char *cause; /* why there is none */
	struct creds_prompt *pending;
	struct creds_wait *waiting, **tail;
};

struct creds *
creds_new(const struct creds_opts *o)
{
	struct creds *c = xcalloc(1, sizeof *c);

	c->user = o->user != NULL ? xstrdup(o->user) : NULL;
	c->password_file = o->password_file != NULL ? xstrdup(o->password_file) : NULL;
	c->use_env = o->use_env;
	c->prompt_cb = o->prompt_cb;
	c->prompt_arg = o->prompt_arg;
	c->tail = &c->waiting;
	return c;
}

void
creds_cancel(struct creds *c, void *arg)
{
	struct creds_wait **w = &c->waiting, *dead;

	while (*w != NULL) {
		if ((*w)->arg == arg) {
			dead = *w;
			*w = dead->next;
			free(dead);
		} else
			w = &(*w)->next;
	}
	for (c->tail = &c->waiting; *c->tail != NULL; c->tail = &(*c->tail)->next)
		;
}

void
creds_free(struct creds *c)
{
	struct creds_wait *w, *next;

	if (c == NULL)
		return;
	if (c->pending != NULL)
		c->pending->c = NULL;
	for (w = c->waiting; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	conf_secret_free(c->password);
	free(c->cause);
	free(c->user);
	free(c->password_file);
	free(c);
}

const char *
creds_auth_user(int gen, const char *user)
{
	/* Gen2+ digest auth has the fixed user admin. */
	return gen >= 2 || user == NULL || user[0] == '\0' ? "admin" : user;
}

void
creds_found_done(struct creds_found *found)
{
	free(found->user);
	conf_secret_free(found->password);
	memset(found, 0, sizeof *found);
}

void
creds_found_take(struct creds_found *dst, struct creds_found *src, struct shelly_target *t)
{
	creds_found_done(dst);
	*dst = *src;
	memset(src, 0, sizeof *src);
	t->user = dst->user;
	t->password = dst->password;
}

/* Calls done with the operator's password (or its absence) for generation gen. */
static void
give_operator(struct creds *c, int must, int gen, creds_done_cb done, void *arg)
{
	struct creds_found f;

	memset(&f, 0, sizeof f);
	if (c->password == NULL) {
		if (must || c->cause != NULL) {
			done(-1, &f, c->cause != NULL ? c->cause : NEED_PASSWORD, arg);
			return;
		}
		done(0, &f, NULL, arg);
		return;
	}
	f.user = xstrdup(creds_auth_user(gen, c->user));
	f.password = xstrdup(c->password);
	f.source = "operator";
	done(0, &f, NULL, arg);
	creds_found_done(&f);
}

/* Answers every waiting resolution in order. */
static void
wake(struct creds *c)
{
	struct creds_wait *w;

	while ((w = c->waiting) != NULL) {
		c->waiting = w->next;
		if (c->waiting == NULL)
			c->tail = &c->waiting;
		give_operator(c, 1, w->gen, w->done, w->arg);
		free(w);
	}
}

void
creds_prompt_answer(struct creds_prompt *q, const char *password)
{
	struct creds *c = q->c;

	free(q);
	if (c == NULL)
		return;
	c->pending = NULL;
	c->asked = 1;
	if (password != NULL && password[0] != '\0')
		c->password = xstrdup(password);
	else
		c->cause = xstrdup(NEED_PASSWORD);
	wake(c);
}

/* Queues a resolution for the operator's answer and asks, unless a question is open. */
static void
wait_prompt(struct creds *c, int gen, creds_done_cb done, void *arg)
{
	struct creds_wait *w = xcalloc(1, sizeof *w);

	w->done = done;
	w->arg = arg;
	w->gen = gen;
	*c->tail = w;
	c->tail = &w->next;
	if (c->pending == NULL) {
		char why[128];
		snprintf(why, sizeof why, "password for %s", c->user != NULL ? c->user : "admin");
		c->pending = xcalloc(1, sizeof *c->pending);
		c->pending->c = c;
		c->prompt_cb(c->pending, c->user != NULL ? c->user : "admin", why, c->prompt_arg);
	}
}

/* The operator's password for generation gen; see creds_operator. */
static void
operator(struct creds *c, int must, int gen, creds_done_cb done, void *arg)
{
	const char *env = c->use_env ? getenv("SHELLY_TUI_PASSWORD") : NULL;

	if (c->asked || c->pending == NULL) {
		if (!c->asked && c->password_file != NULL) {
			char *ref = xasprintf("file:%s", c->password_file);
			c->password = conf_read_secret(ref, &c->cause);
			free(ref);
			c->asked = 1;
		} else if (!c->asked && env != NULL && env[0] != '\0') {
			c->password = xstrdup(env);
			c->asked = 1;
		}
		if (c->asked || !must || c->prompt_cb == NULL) {
			give_operator(c, must, gen, done, arg);
			return;
		}
	}
	wait_prompt(c, gen, done, arg);
}

void
creds_operator(struct creds *c, int must, creds_done_cb done, void *arg)
{
	operator(c, must, 0, done, arg);
}

void
creds_ask(struct creds *c, int gen, creds_done_cb done, void *arg)
{
	if (c->prompt_cb == NULL) {
		operator(c, 1, gen, done, arg);
		return;
	}
	if (c->pending == NULL) { /* no question open: the session's answer is forgotten */
		conf_secret_free(c->password);
		c->password = NULL;
		free(c->cause);
		c->cause = NULL;
		c->asked = 0;
	}
	wait_prompt(c, gen, done, arg);
}

/* The registered reference, the configuration's device line, then its credentials. */
static const char *
find_ref(const struct conf *cfg, const struct store_device *reg, const char *mac, const char *id,
    const char *name, const char **user)
{
	const struct conf_device *cd;
	const struct conf_credentials *cc;

	if (reg != NULL && reg->cred_ref != NULL && reg->cred_ref[0] != '\0') {
		*user = reg->user;
		return reg->cred_ref;
	}
	if (cfg == NULL)
		return NULL;
	if (name != NULL && (cd = conf_find_device(cfg, name)) != NULL && cd->secret != NULL) {
		*user = cd->user;
		return cd->secret;
	}
	if ((cc = conf_find_credentials(cfg, mac, id, name)) != NULL) {
		*user = cc->user;
		return cc->secret;
	}
	return NULL;
}

int
creds_known(const struct conf *cfg, const struct store_device *reg, const char *mac, const char *id,
    const char *name)
{
	const char *user = NULL;

	return find_ref(cfg, reg, mac, id, name, &user) != NULL;
}

/* 1 when ref is "store:secret:" + mac: a stored password is only ever its own device's. */
static int
own_stored(const char *ref, const char *mac)
{
	static const char prefix[] = "store:secret:";

	return mac != NULL && strncmp(ref, prefix, sizeof prefix - 1) == 0 &&
	       strcmp(ref + sizeof prefix - 1, mac) == 0;
}

int
creds_lookup(const struct conf *cfg, struct store *st, const struct creds_query *q,
    struct creds_found *found, char **cause)
{
	const struct store_device *reg = q->reg;
	const char *user = NULL, *ref;
	const char *id, *name;
	char *c = NULL;

	/* Credentials keyed by id or name go to the device the registry binds them to, never to
	 * whatever a live reply claims; an unregistered device's id counts only when it ends in
	 * the MAC it showed (a Gen2+ id; a Gen1 one is "<prefix>-<MAC>" too). */
	if (reg != NULL) {
		id = reg->id;
		name = reg->name;
	} else {
		id = device_id_has_mac(q->id, q->mac) ? q->id : NULL;
		name = NULL;
	}

	memset(found, 0, sizeof *found);
	ref = find_ref(cfg, reg, q->mac, id, name, &user);
	if (ref == NULL)
		return 0;
	if (strncmp(ref, "store:", 6) == 0) {
		if (!own_stored(ref, q->mac) || (reg != NULL && !own_stored(ref, reg->mac)))
			c = xstrdup("the stored-password reference names another device");
		else if (st == NULL || (found->password = store_setting_get(st, ref + 6)) == NULL)
			c = xstrdup("the stored password is missing");
	} else
		found->password = conf_read_secret(ref, &c);
	if (found->password == NULL) {
		*cause = xasprintf("credentials not loaded: %s", c != NULL ? c : "?");
		free(c);
		return -1;
	}
	found->user = xstrdup(creds_auth_user(q->gen, user));
	found->source =
	    reg != NULL && reg->cred_ref != NULL && reg->cred_ref[0] ? "registry" : "config";
	return 0;
}

/* 1 when the device with mac is held after a MAC conflict. */
static int
is_held(struct store *st, const char *mac)
{
	char *why = st != NULL ? store_device_held(st, mac) : NULL;
	int held = why != NULL;

	free(why);
	return held;
}

void
creds_resolve(
    struct creds *c, struct engine *eng, const struct creds_query *q, creds_done_cb done, void *arg)
{
	struct creds_found f;
	char *cause = NULL;
	int needs = q->auth_en == 1;

	memset(&f, 0, sizeof f);
	if (q->auth_en == 0) {
		/* /shelly says auth is off: no secret goes out (and no digest round). */
		done(0, &f, NULL, arg);
		return;
	}
	if (q->mac == NULL || q->mac[0] == '\0') {
		/* Nothing says whose credentials these would be: none are sent. */
		if (needs)
			done(-1, &f,
			    "the device wants a password but showed no MAC address; "
			    "credentials are withheld",
			    arg);
		else
			done(0, &f, NULL, arg);
		return;
	}
	if (!q->confirm && is_held(eng->store, q->mac)) {
		done(-1, &f, HELD_BACK, arg);
		return;
	}
	if (c->password_file != NULL) {
		operator(c, 1, q->gen, done, arg);
		return;
	}
	if (creds_lookup(eng->conf, eng->store, q, &f, &cause) != 0) {
		done(-1, &f, cause, arg);
		free(cause);
		return;
	}
	if (f.password != NULL) {
		done(0, &f, NULL, arg);
		creds_found_done(&f);
		return;
	}
	if (needs || c->user != NULL) {
		operator(c, needs, q->gen, done, arg);
		return;
	}
	done(0, &f, NULL, arg);
}
