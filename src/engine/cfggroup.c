/* Per-device fields in a group's fields and template (engine/cfggroup.h). */
#include "engine/cfggroup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfgdesired.h"
#include "engine/cfgunique.h"
#include "exchange/cfgdoc.h"
#include "store/cfgstore.h"
#include "util/str.h"
#include "util/xmalloc.h"

char *
cfggroup_fixed(const struct devconfig *c)
{
	static const char *const per_device[] = {"${id}", "${mac}", "${index}", "${name}"};
	size_t nf;
	const enum devconfig_field *unique = cfgunique_fields(&nf);
	char name[96];

	for (size_t f = 0; f < nf; f++) {
		const char *value = cfgunique_value(c, unique[f]);
		bool varies = false;
		if (value == NULL)
			continue;
		for (size_t v = 0; v < sizeof per_device / sizeof per_device[0]; v++)
			varies = varies || strstr(value, per_device[v]) != NULL;
		if (!varies)
			return xasprintf(
			    "%s: every member would get the same value, which must "
			    "differ per device (use ${id}, ${mac} or ${index} in it, or set "
			    "it per device with --config-set); nothing stored",
			    devconfig_name(unique[f], -1, name, sizeof name));
	}
	return NULL;
}

size_t
cfggroup_members_after(struct store *s, const char *g, const char *const *macs, size_t n)
{
	char **members = NULL, *why = NULL;
	size_t nmembers = 0, count;

	if (cfgdoc_members(s, g, &members, &nmembers, &why) != 0) {
		free(why);
		count = 2;
	} else {
		count = nmembers;
		for (size_t i = 0; i < n; i++)
			count += !str_list_has(members, nmembers, macs[i]) &&
			         !str_list_has((char *const *)macs, i, macs[i]);
	}
	str_array_free(members, nmembers);
	return count;
}

struct group_tmpl {
	const char *name;
	char *tmpl;
};

static int
group_tmpl_cb(const struct cfgstore_row *r, void *arg)
{
	struct group_tmpl *gt = arg;

	if (gt->tmpl == NULL && r->name != NULL && strcmp(r->name, gt->name) == 0 &&
	    r->tmpl != NULL && r->tmpl[0] != '\0')
		gt->tmpl = xstrdup(r->tmpl);
	return 0;
}

char *
cfggroup_add_refusal(struct store *s, const char *g, const char *const *macs, size_t n)
{
	struct group_tmpl gt = {g, NULL};
	struct devconfig c;
	char key[96], *body, *cause = NULL, *why = NULL;

	if (cfggroup_members_after(s, g, macs, n) < 2)
		return NULL;
	cfgdesired_group_key(g, key, sizeof key);
	body = store_setting_get(s, key);
	if (body != NULL && devconfig_template_parse(body, strlen(body), &c, &cause) == 0) {
		why = cfggroup_fixed(&c);
		devconfig_done(&c);
	}
	free(body);
	free(cause);
	cause = NULL;
	if (why == NULL && cfgstore_groups(s, group_tmpl_cb, &gt, &cause) == 0 && gt.tmpl != NULL &&
	    cfgdesired_template_load(gt.tmpl, &c, &cause) == 0) {
		why = cfggroup_fixed(&c);
		devconfig_done(&c);
	}
	free(cause);
	free(gt.tmpl);
	return why;
}
