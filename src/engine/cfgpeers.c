/* The check of a configuration run before anything is sent (engine/cfgpeers.h). */
#include "engine/cfgpeers.h"

#include <stdbool.h>
#include <stdlib.h>

#include "engine/cfgholders.h"
#include "engine/cfgunique.h"
#include "model/devconfig.h"
#include "util/xmalloc.h"

/* Whether want gives any field that must differ per device. */
static bool
gives_unique(const struct devconfig *want)
{
	size_t nf;
	const enum devconfig_field *f = cfgunique_fields(&nf);

	for (size_t i = 0; want != NULL && i < nf; i++)
		if (cfgunique_value(want, f[i]) != NULL)
			return true;
	return false;
}

size_t
cfgpeers_check_run(struct store *store, const struct devconfig *const *desired,
    const char *const *macs, size_t n, char **why)
{
	struct cfgholders *h = NULL;
	char *cause = NULL;
	size_t refused = 0;

	cfgunique_check(desired, n, why);
	for (size_t i = 0; i < n; i++) {
		if (why[i] == NULL && store != NULL && gives_unique(desired[i])) {
			if (h == NULL && cause == NULL)
				h = cfgholders_read(store, &cause); /* once, when first needed */
			if (h != NULL)
				cfgholders_check(h, macs[i], desired[i], &why[i]);
			else
				why[i] =
				    xasprintf("the registry could not be read to check the values "
				              "that must differ per device: %s; nothing sent",
				        cause);
		}
		refused += why[i] != NULL;
	}
	cfgholders_free(h);
	free(cause);
	return refused;
}
