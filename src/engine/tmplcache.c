/*
 * Parsed templates and groups' fields between drift recomputations (see engine/tmplcache.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/cfgdesired.h"
#include "engine/tmplcache.h"
#include "model/devconfig.h"
#include "store/cfgstore.h"
#include "store/store.h"
#include "util/str.h"
#include "util/xmalloc.h"

struct tentry {
	char *name;
	int is_group;
	uint64_t pass; /* the pass that last checked the file */
	int has_id; /* dev..size name the file cfg was read from */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
	int has_cfg;
	struct devconfig cfg;
	char *cause; /* when the last check failed */
	/* A group: its fields and its members (MAC order) were read at the store's version. */
	int has_fields, has_members;
	char (*members)[13];
	size_t nmembers;
};

struct tmplcache {
	struct tentry *e;
	size_t n;
	uint64_t pass;
	int64_t version;
	size_t reads;
};

struct tmplcache *
tmplcache_new(void)
{
	struct tmplcache *c = xcalloc(1, sizeof *c);

	c->version = -1;
	return c;
}

static void
entry_clear(struct tentry *e)
{
	if (e->has_cfg)
		devconfig_wipe(&e->cfg); /* a template may hold secrets */
	e->has_cfg = 0;
	free(e->cause);
	e->cause = NULL;
	free(e->members);
	e->members = NULL;
	e->nmembers = 0;
	e->has_fields = e->has_members = 0;
}

void
tmplcache_free(struct tmplcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		entry_clear(&c->e[i]);
		free(c->e[i].name);
	}
	free(c->e);
	free(c);
}

void
tmplcache_pass(struct tmplcache *c, int64_t store_version)
{
	size_t k = 0;

	c->pass++;
	if (store_version == c->version)
		return;
	c->version = store_version;
	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i].is_group) {
			entry_clear(&c->e[i]);
			free(c->e[i].name);
		} else
			c->e[k++] = c->e[i];
	}
	c->n = k;
}

static struct tentry *
entry_get(struct tmplcache *c, const char *name, int is_group, int *fresh)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].is_group == is_group && strcmp(c->e[i].name, name) == 0) {
			*fresh = 0;
			return &c->e[i];
		}
	c->e = xreallocarray(c->e, c->n + 1, sizeof *c->e);
	memset(&c->e[c->n], 0, sizeof *c->e);
	c->e[c->n].name = xstrdup(name);
	c->e[c->n].is_group = is_group;
	*fresh = 1;
	return &c->e[c->n++];
}

static int
same_file(const struct tentry *e, const struct stat *sb)
{
	return e->has_id && e->dev == sb->st_dev && e->ino == sb->st_ino &&
	       e->size == sb->st_size && e->mtime.tv_sec == sb->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == sb->st_mtim.tv_nsec;
}

/*
 * Checks the template file of e against what was read before; reads and parses it again (as
 * cfgdesired_template_load does, with its refusals and their wording) if it changed. The
 * identity is taken before the read: a file replaced in between is read again next pass.
 */
static void
entry_check(struct tmplcache *c, struct tentry *e)
{
	char *path = cfgdesired_template_path(e->name, &e->cause);
	struct stat sb;
	int found = path != NULL && stat(path, &sb) == 0;

	if (path != NULL && !found)
		e->cause = xasprintf("%s: %s", path, strerror(errno));
	free(path);
	if (found && e->has_cfg && same_file(e, &sb))
		return;
	if (e->has_cfg)
		devconfig_wipe(&e->cfg); /* a template may hold secrets */
	e->has_cfg = e->has_id = 0;
	if (!found)
		return;
	c->reads++;
	if (cfgdesired_template_load(e->name, &e->cfg, &e->cause) != 0)
		return;
	e->has_cfg = e->has_id = 1;
	e->dev = sb.st_dev;
	e->ino = sb.st_ino;
	e->mtime = sb.st_mtim;
	e->size = sb.st_size;
}

const struct devconfig *
tmplcache_template(struct tmplcache *c, const char *name, char **cause)
{
	int fresh;
	struct tentry *e = entry_get(c, name, 0, &fresh);

	if (fresh || e->pass != c->pass) {
		free(e->cause);
		e->cause = NULL;
		e->pass = c->pass;
		entry_check(c, e);
	}
	if (e->has_cfg)
		return &e->cfg;
	*cause = xstrdup(e->cause != NULL ? e->cause : "template cannot be read");
	return NULL;
}

const struct devconfig *
tmplcache_group(struct tmplcache *c, struct store *st, const char *group, char **cause)
{
	int fresh;
	struct tentry *e = entry_get(c, group, 1, &fresh);
	char key[96], *body, *why = NULL;

	if (!e->has_fields) {
		e->has_fields = 1;
		cfgdesired_group_key(group, key, sizeof key);
		if ((body = store_setting_get(st, key)) != NULL) {
			if (devconfig_template_parse(body, strlen(body), &e->cfg, &why) == 0)
				e->has_cfg = 1;
			else {
				e->cause = xasprintf("group %s: %s", group, why);
				free(why);
			}
			free(body);
		}
	}
	if (e->cause != NULL)
		*cause = xstrdup(e->cause);
	return e->has_cfg ? &e->cfg : NULL;
}

static int
member_cb(const struct cfgstore_row *r, void *arg)
{
	struct tentry *e = arg;

	e->members = xreallocarray(e->members, e->nmembers + 1, sizeof *e->members);
	str_copy(e->members[e->nmembers++], sizeof *e->members, r->mac);
	return 0;
}

static int
mac_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
tmplcache_index(struct tmplcache *c, struct store *st, const char *group, const char *mac,
    char *buf, size_t size, char **cause)
{
	int fresh;
	struct tentry *e = entry_get(c, group, 1, &fresh);
	const char(*at)[13];

	if (!e->has_members) {
		if (cfgstore_group_members(st, group, member_cb, e, cause) != 0) {
			free(e->members);
			e->members = NULL;
			e->nmembers = 0;
			return -1;
		}
		if (e->nmembers > 1) /* (qsort takes no NULL array, even empty) */
			qsort(e->members, e->nmembers, sizeof *e->members, mac_cmp);
		e->has_members = 1;
	}
	at = e->nmembers > 0 ? bsearch(mac, e->members, e->nmembers, sizeof *e->members, mac_cmp)
	                     : NULL;
	if (at == NULL)
		return 0;
	snprintf(buf, size, "%zu", (size_t)(at - (const char(*)[13])e->members) + 1);
	return 1;
}

int
tmplcache_changed(const struct tmplcache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct tentry *e = &c->e[i];
		char *path, *why = NULL;
		struct stat sb;
		int same;
		if (e->is_group)
			continue;
		if ((path = cfgdesired_template_path(e->name, &why)) == NULL) {
			free(why);
			continue;
		}
		same = stat(path, &sb) == 0 ? same_file(e, &sb) : !e->has_id;
		free(path);
		if (!same)
			return 1;
	}
	return 0;
}

size_t
tmplcache_reads(const struct tmplcache *c)
{
	return c->reads;
}
