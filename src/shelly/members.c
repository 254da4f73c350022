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

	for (size_t i = 0; i < n; i++) {
		char *dst = (char *)obj + t[i].off;
		const cJSON *v;

		snprintf(key, sizeof key, "%s%s", prefix, t[i].key);
		if ((v = json_get(member_object(o, t[i].in), key)) == NULL)
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
