/* Member tables: a device reply's members into a struct (shelly/members.h). */
#include "shelly/members.h"

#include <stdio.h>
#include <string.h>

#include "util/json.h"

/* The object at path in ("a.b") below o, o itself for "", or NULL. */
static const cJSON *
member_object(const cJSON *o, const char *in)
{
	char seg[64];

	while (*in != '\0' && o != NULL) {
		size_t n = strcspn(in, ".");

		if (n >= sizeof seg)
			return NULL;
		memcpy(seg, in, n);
		seg[n] = '\0';
		o = json_get_object(o, seg);
		in += n + (in[n] == '.');
	}
	return o;
}

void
members_read(void *obj, const struct member *t, size_t n, const char *prefix, const cJSON *o)
{
	char key[64];
	const char *in = NULL; /* the path of `at`: rows of one object follow each other */
	const cJSON *at = NULL;
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < n; i++) {
		char *dst = (char *)obj + t[i].off;
		const char *k = t[i].key;
		const cJSON *v;

		if (plen > 0) {
			/* prefix + key, as snprintf would write it (a meter's three phases read every
			 * row with their prefix: snprintf was most of a phase's reading) */
			size_t klen = strlen(k);

			if (plen + klen < sizeof key) {
				memcpy(key, prefix, plen);
				memcpy(key + plen, k, klen + 1);
			} else
				snprintf(key, sizeof key, "%s%s", prefix, k);
			k = key;
		}
		if (in == NULL || strcmp(in, t[i].in) != 0) {
			in = t[i].in;
			at = member_object(o, in);
		}
		if ((v = json_get(at, k)) == NULL)
			continue;
		if (t[i].how == MEMBER_FLAG)
			*(int *)(void *)dst = json_bool(v);
		else if (t[i].how == MEMBER_TEXT)
			json_strlcpy(dst, json_string(v), t[i].size);
		else
			*(double *)(void *)dst =
			    t[i].sub ? json_get_number(v, t[i].sub) : json_number(v);
	}
}
