#ifndef ENGINE_CREDS_H
#define ENGINE_CREDS_H

/*
 * The credential resolver: the one place that decides which user and password go to a
 * device, used by polling, actions, discovery and the registry. Secrets are sent only to a
 * device that has shown (GET /shelly) the MAC they belong to, and the auth style is that of
 * the device's registered generation (Basic for Gen1, digest with user "admin" for Gen2+),
 * never that of a live reply.
 *
 * Sources, in order: the operator's explicit password file (--password-file); the registered
 * device's own reference ("file:PATH", or "store:KEY" for a password kept in the database);
 * the configuration's credentials for its MAC, id or name, then its default; the operator's
 * password (SHELLY_TUI_PASSWORD, else the front end's prompt) when the device wants one or a
 * user was given. A front end that can ask supplies a prompt callback; the answer may come
 * later (a console dialog) or at once (a tty prompt). The operator's password is asked for at
 * most once per resolver and kept (wiped on creds_free).
 *
 * A device held after a MAC conflict (store_device_held) gets nothing from creds_resolve,
 * whichever front end asks (actions, configuration reads and writes, the console), until the
 * operator confirms it (--add, which sets confirm).
 */
#include <stddef.h>

struct engine;
struct conf;
struct store;
struct store_device;
struct creds;
struct creds_prompt;

/*
 * Asks the operator for user's password (why: one line, e.g. "kitchen wants a password").
 * The front end answers with creds_prompt_answer, now or later, exactly once.
 */
typedef void (*creds_prompt_cb)(
    struct creds_prompt *q, const char *user, const char *why, void *arg);

struct creds_opts {
	const char *user; /* the operator's user (--user), NULL none; copied */
	const char *password_file; /* --password-file, NULL none; copied */
	int use_env; /* take SHELLY_TUI_PASSWORD when set */
	creds_prompt_cb prompt_cb; /* NULL: never ask */
	void *prompt_arg;
};

/* Which device the credentials are for. */
struct creds_query {
	const char *mac; /* the MAC the device showed at this address; NULL/"": no secret */
	const char *id, *name; /* NULL unknown */
	int gen; /* the registered generation (identified one when unregistered) */
	int auth_en; /* /shelly: -1 unknown, 0 off (nothing is sent), 1 on */
	const struct store_device *reg; /* the registered row, NULL when not registered */
	int confirm; /* the operator confirms this device (--add): a hold does not apply */
};

/* What the resolver found; user and password NULL when nothing is to be sent. */
struct creds_found {
	char *user; /* "admin" for Gen2+ */
	char *password; /* a secret; creds_found_done wipes it */
	const char *source; /* "operator", "registry", "config" or NULL (static) */
};

/* rc 0: found (possibly nothing to send); -1: the device needs a password, cause says why. */
typedef void (*creds_done_cb)(int rc, struct creds_found *found, const char *cause, void *arg);

/* Returns a resolver; caller frees. */
struct creds *creds_new(const struct creds_opts *o);
/*
 * Wipes the operator's password and frees c (NULL is fine). Resolutions waiting for a prompt
 * are dropped without a call; a prompt still open may be answered later (the answer is dropped).
 */
void creds_free(struct creds *c);
/*
 * Resolves the credentials for q. done runs exactly once, before this returns unless the
 * operator is being asked; found is the callee's until done returns (take a
 * string by setting its member to NULL).
 */
void creds_resolve(struct creds *c, struct engine *eng, const struct creds_query *q,
    creds_done_cb done, void *arg);
/*
 * Same without asking anyone (the poller, discovery): the registered reference, then the
 * configuration (cfg may be NULL; st may be NULL when no "store:" reference is to be read).
 * Returns 0 (found filled, maybe empty) or -1 with *cause when a reference cannot be read.
 */
int creds_lookup(const struct conf *cfg, struct store *st, const struct creds_query *q,
    struct creds_found *found, char **cause);
/* Returns 1 when stored or configured credentials exist for the device, else 0. */
int creds_known(const struct conf *cfg, const struct store_device *reg, const char *mac,
    const char *id, const char *name);
/* Drops every resolution waiting for the prompt with this arg (its owner goes away). */
void creds_cancel(struct creds *c, void *arg);
/* The operator's password, asked for when must (or a user was given); see creds_resolve. */
void creds_operator(struct creds *c, int must, creds_done_cb done, void *arg);
/*
 * Asks the operator for a password again (the console's credentials key after a stored
 * password was refused): the session's earlier answer is forgotten and the prompt opens
 * (without a prompt: as creds_operator with must). done as for creds_resolve, source
 * "operator".
 */
void creds_ask(struct creds *c, int gen, creds_done_cb done, void *arg);
/* The user sent to a device of generation gen: "admin" for Gen2+, user (or "admin") for Gen1. */
const char *creds_auth_user(int gen, const char *user);
/* Answers a prompt (password NULL: none given); q is freed. */
void creds_prompt_answer(struct creds_prompt *q, const char *password);
/*
 * Moves what src holds into dst (whose old secret is wiped; src is left empty) and points the
 * request target's user and password at it (NULL when nothing is to be sent).
 */
struct shelly_target;
void creds_found_take(struct creds_found *dst, struct creds_found *src, struct shelly_target *t);
/* Wipes and frees what found holds (NULL members are fine). */
void creds_found_done(struct creds_found *found);

#endif
