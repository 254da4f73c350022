/*
 * The set-up around an OPNsense sync that every front end shares: options and key files from
 * the configuration, the registry as the desired state, the writer's lease and the services
 * whose reconfigure is still pending.
 */
#include "integrations/opnsense_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/conf.h"
#include "store/store.h"
#include "util/guard.h"
#include "util/holder.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Everything a sync needs that the configuration gives; secrets wiped by opts_done. */
struct opts {
	struct opnsense_options o;
	char *key, *secret, *ca;
};

/*
 * The value of a key file that holds one line which is not a named line ("key=..." or
 * "secret=..."), malloc'd (free with conf_secret_free); NULL otherwise. OPNsense keys and
 * secrets are base64, so the value alone may hold '=' (padding).
 */
static char *
value_alone(const char *raw)
{
	size_t n = strcspn(raw, "\r\n");

	if (raw[n + strspn(raw + n, "\r\n")] != '\0')
		return NULL; /* more than one line */
	if (strncmp(raw, "key=", 4) == 0 || strncmp(raw, "secret=", 7) == 0)
		return NULL;
	return xstrndup(raw, n);
}

/*
 * Reads a key or secret file named by option id. A file readable by everyone is refused; a
 * file downloaded from OPNsense ("key=...\nsecret=...") may serve for both options, the line
 * named field being taken. Returns the value (free with conf_secret_free) or NULL + *cause.
 */
static char *
read_keyfile(const struct opnsense_env *env, enum option_id id, const char *field, char **cause)
{
	const char *ref = conf_get_str(env->cfg, id), *name = conf_option_info(id)->name;
	char *raw, *err = NULL, *path, *line, *save = NULL, *out = NULL, *alone;
	struct stat st;
	size_t flen = strlen(field);

	if (ref[0] == '\0') {
		*cause = xasprintf("%s is not set (set %s file:PATH)", name, name);
		return NULL;
	}
	path = str_sanitize(ref + 5, 0);
	if (stat(ref + 5, &st) != 0) {
		*cause = xasprintf("%s: cannot read %s: %s", name, path, strerror(errno));
		free(path);
		return NULL;
	}
	if (st.st_mode & S_IROTH) {
		*cause = xasprintf("%s: %s is readable by everyone (mode %03o); chmod 600 it", name,
		    path, (unsigned)(st.st_mode & 0777));
		free(path);
		return NULL;
	}
	free(path);
	if ((raw = conf_read_secret(ref, &err)) == NULL) {
		*cause = xasprintf("%s: %s", name, err);
		free(err);
		return NULL;
	}
	alone = value_alone(raw);
	for (line = strtok_r(raw, "\r\n", &save); line != NULL && out == NULL;
	     line = strtok_r(NULL, "\r\n", &save))
		if (strncmp(line, field, flen) == 0 && line[flen] == '=')
			out = xstrdup(line + flen + 1);
	if (out == NULL) {
		out = alone;
		alone = NULL;
	}
	conf_secret_free(alone);
	conf_secret_free(raw);
	if (out == NULL || out[0] == '\0') {
		conf_secret_free(out);
		*cause = xasprintf("%s: the file holds no %s (expected the value alone, or a line "
		                   "%s=...)",
		    name, field, field);
		return NULL;
	}
	return out;
}

static void
opts_done(struct opts *op)
{
	conf_secret_free(op->key);
	conf_secret_free(op->secret);
	free(op->ca);
	memset(op, 0, sizeof *op);
}

/* Fills op from the configuration and checks the firewall against the network guard. */
static int
opts_init(const struct opnsense_env *env, struct opts *op, char **cause)
{
	const char *ca = conf_get_str(env->cfg, OPT_OPNSENSE_CA);
	char *host = NULL, *prefix = NULL;
	uint16_t port;

	memset(op, 0, sizeof *op);
	op->o.url = conf_get_str(env->cfg, OPT_OPNSENSE_URL);
	if (opnsense_parse_url(op->o.url, &host, &port, &prefix, cause) != 0)
		return -1;
	free(prefix);
	if (guard_check(env->guard, host, cause) != 0) {
		free(host);
		return -1;
	}
	free(host);
	if ((op->key = read_keyfile(env, OPT_OPNSENSE_KEY, "key", cause)) == NULL ||
	    (op->secret = read_keyfile(env, OPT_OPNSENSE_SECRET, "secret", cause)) == NULL) {
		opts_done(op);
		return -1;
	}
	op->o.key = op->key;
	op->o.secret = op->secret;
	if (ca[0] != '\0') {
		op->ca = xstrdup(ca + 5);
		op->o.ca_file = op->ca;
	}
	op->o.insecure = conf_get_bool(env->cfg, OPT_OPNSENSE_INSECURE);
	op->o.pin = conf_get_str(env->cfg, OPT_OPNSENSE_PIN);
	if (op->o.insecure)
		log_warn(
		    "opnsense: the firewall's certificate is not verified (opnsense-insecure on)");
	switch (conf_get_enum(env->cfg, OPT_OPNSENSE_BACKEND)) {
	case OPT_OPNSENSE_KEA:
		op->o.backend = OPNSENSE_KEA;
		break;
	case OPT_OPNSENSE_DNSMASQ:
		op->o.backend = OPNSENSE_DNSMASQ;
		break;
	default:
		op->o.backend = OPNSENSE_AUTO;
		break;
	}
	op->o.alias = conf_get_str(env->cfg, OPT_OPNSENSE_ALIAS);
	op->o.timeout_ms = (uint32_t)conf_get_ms(env->cfg, OPT_OPNSENSE_TIMEOUT);
	op->o.connect_timeout_ms = (uint32_t)conf_get_ms(env->cfg, OPT_CONNECT_TIMEOUT);
	return 0;
}

/* The registry as the desired state. */
struct devlist {
	struct opn_device *v;
	struct store_device **rec;
	size_t n;
};

static int
devlist_cb(const struct store_device *d, void *arg)
{
	struct devlist *dl = arg;
	struct store_device *copy = store_device_dup(d);

	dl->v = xreallocarray(dl->v, dl->n + 1, sizeof *dl->v);
	dl->rec = xreallocarray(dl->rec, dl->n + 1, sizeof *dl->rec);
	dl->rec[dl->n] = copy;
	memset(&dl->v[dl->n], 0, sizeof dl->v[dl->n]);
	memcpy(dl->v[dl->n].mac, copy->mac, sizeof dl->v[dl->n].mac);
	dl->v[dl->n].name = copy->name;
	dl->v[dl->n].id = copy->id;
	dl->v[dl->n].ip = copy->host;
	dl->v[dl->n].first_seen_ms = copy->first_seen_ms;
	dl->n++;
	return 0;
}

static void
devlist_done(struct devlist *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		store_device_free(dl->rec[i]);
	free(dl->rec);
	free(dl->v);
	memset(dl, 0, sizeof *dl);
}

static int
devlist_load(struct store *s, struct devlist *dl, char **cause)
{
	memset(dl, 0, sizeof *dl);
	if (store_device_list(s, devlist_cb, dl, cause) != 0) {
		devlist_done(dl);
		return -1;
	}
	return 0;
}

/*
 * Services whose changes were saved but not made live (a reconfigure failed) are remembered in
 * the settings, so that the next sync reconfigures them even when it finds nothing to change.
 */
#define PENDING_KEY "opnsense.pending_reconfigure"

static void
pending_load(struct store *s, struct opnsense_options *o)
{
	char *v = store_setting_get(s, PENDING_KEY);

	o->pending_dhcp = v != NULL && strstr(v, "dhcp") != NULL;
	o->pending_alias = v != NULL && strstr(v, "alias") != NULL;
	free(v);
}

int
opnsense_job_remember(const struct opnsense_env *env, int dhcp, int alias, char **cause)
{
	const char *v = dhcp && alias ? "dhcp,alias" : dhcp ? "dhcp" : alias ? "alias" : NULL;

	return store_setting_set(env->store, PENDING_KEY, v, cause);
}

/*
 * One writer at a time: --opnsense-sync and --headless take this lease around a sync, and
 * renew it every tenth of its time while the sync runs (struct opnsense_keeper). It runs out
 * 15 minutes after the last renewal, so that a plan the console shows (no renewal: nothing
 * runs) does not hold the firewall from the others for long. Tests shorten it with
 * SHELLY_TUI_TEST_OPNSENSE_LEASE_MS (at least 100 ms).
 */
#define LEASE_NAME "opnsense"
#define LEASE_MS (15 * 60 * 1000)
#define LEASE_TEST_ENV "SHELLY_TUI_TEST_OPNSENSE_LEASE_MS"

static int64_t
lease_ms(void)
{
	const char *v = getenv(LEASE_TEST_ENV);
	char *end;
	long long ms = v != NULL ? strtoll(v, &end, 10) : 0;

	return v != NULL && *end == '\0' && ms >= 100 && ms <= LEASE_MS ? (int64_t)ms : LEASE_MS;
}

/* "opnsense:HOST:PID:PIDNS" (util/holder.h): one name for the whole process, renewed by it. */
static void
holder_of(char *buf, size_t size)
{
	holder_name(buf, size, "opnsense", NULL);
}

/* Takes the writer's lease: 1, 0 with *other (held by a live process), -1 with *cause. */
static int
lease_take(struct store *st, const char *holder, char **other, char **cause)
{
	long pid;
	int got =
	    store_lease_acquire(st, LEASE_NAME, holder, loop_wall_ms(), lease_ms(), other, cause);

	if (got == 0 && *other != NULL && holder_gone(holder, *other, &pid)) {
		log_warn("opnsense: taking over the lease of %s (that process is gone)", *other);
		if (store_lease_release(st, LEASE_NAME, *other, cause) != 0)
			return -1;
		free(*other);
		*other = NULL;
		got = store_lease_acquire(
		    st, LEASE_NAME, holder, loop_wall_ms(), lease_ms(), other, cause);
	}
	return got;
}

/* Takes the writer's lease as holder: 0, or -1 with *cause naming the process holding it. */
static int
lease_claim(struct store *st, const char *holder, char **cause)
{
	char *other = NULL;
	int got;

	if ((got = lease_take(st, holder, &other, cause)) == 1)
		return 0;
	if (got == 0)
		*cause = xasprintf("another sync (%s) is writing to the firewall; try later",
		    other != NULL ? other : "?");
	free(other);
	return -1;
}

int
opnsense_job_renew(const struct opnsense_env *env, char **cause)
{
	char holder[128];
	int r;

	holder_of(holder, sizeof holder);
	/* Still named as the holder (expired or not): nobody else has written since. */
	r = store_lease_heartbeat(
	    env->store, LEASE_NAME, holder, loop_wall_ms(), lease_ms(), cause);
	if (r != 0)
		return r > 0 ? 0 : -1;
	/* Another process took it meanwhile: it may be writing, or may have written and given
	 * it back, and the plan was made from what the firewall held before. */
	if (lease_claim(env->store, holder, cause) != 0)
		return -1;
	*cause = xstrdup("another sync may have written since this plan was read: r reads again");
	return -1;
}

/* The sync's renewal of the lease (arg: the store): 1, 0 (another holds it), -1. */
static int
renew_cb(void *arg, char **cause)
{
	char holder[128];
	int r;

	holder_of(holder, sizeof holder);
	r = store_lease_heartbeat(arg, LEASE_NAME, holder, loop_wall_ms(), lease_ms(), cause);
	if (r == 0)
		*cause = xstrdup("it ran out, or another process took it");
	return r;
}

struct opnsense_sync *
opnsense_job_begin(
    const struct opnsense_env *env, int dry_run, opnsense_done_cb cb, void *arg, char **cause)
{
	struct opnsense_sync *sync = NULL;
	struct opts op;
	struct devlist dl;
	char holder[128];
	struct opnsense_keeper keeper = {renew_cb, env->store, 0, 0};

	if (opts_init(env, &op, cause) != 0)
		return NULL;
	if (devlist_load(env->store, &dl, cause) != 0) {
		opts_done(&op);
		return NULL;
	}
	holder_of(holder, sizeof holder);
	if (!dry_run && lease_claim(env->store, holder, cause) != 0)
		goto out;
	if (!dry_run) {
		keeper.timeout_ms = (uint64_t)lease_ms();
		keeper.heartbeat_ms = keeper.timeout_ms / 10;
		op.o.keeper = &keeper;
	}
	pending_load(env->store, &op.o);
	sync = opnsense_sync_start(env->loop, env->http, &op.o, dl.v, dl.n, 1, cb, arg, cause);
	if (sync == NULL && !dry_run)
		store_lease_release(env->store, LEASE_NAME, holder, NULL);
out:
	devlist_done(&dl);
	opts_done(&op);
	return sync;
}

int
opnsense_job_end(const struct opnsense_env *env, const struct opnsense_report *r)
{
	char holder[128], *cause = NULL;
	int rc = 0;

	if (r != NULL &&
	    opnsense_job_remember(env, r->dhcp.pending, r->alias.pending, &cause) != 0) {
		log_warn("opnsense: cannot remember the pending reconfigure: %s", cause);
		free(cause);
		cause = NULL;
		rc = -1;
	}
	holder_of(holder, sizeof holder);
	if (store_lease_release(env->store, LEASE_NAME, holder, &cause) != 0) {
		log_warn("opnsense: lease: %s", cause);
		free(cause);
	}
	return rc;
}
