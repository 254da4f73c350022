/*
 * Typed device configuration: the field table, parsers of Gen1 /settings and Gen2+
 * Shelly.GetConfig into canonical values, validation, diff, request builders and templates.
 */
#include "model/devconfig.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

static const struct devconfig_field_info fields[] = {
#define DEVCONFIG_ROW(                                                                \
    id, path, type, unit, lo, hi, choices, flags, g1e, g1p, g1r, g1m, g2c, g2p, help) \
	{DCFG_##id, path, type, unit, lo, hi, choices, flags, g1e, g1p, g1r, g1m, g2c, g2p, help},
    DEVCONFIG_FIELDS(DEVCONFIG_ROW)
#undef DEVCONFIG_ROW
};

/* Length of "switch" in "switch:N.x", else 0. */
static size_t
kind_len(const char *path)
{
	const char *c = strstr(path, ":N.");

	return c != NULL ? (size_t)(c - path) : 0;
}

static const char *const type_names[] = {"bool", "int", "number", "string", "enum", "ipv4"};

const char *
devconfig_type_name(enum devconfig_type t)
{
	return str_table_name(type_names, (int)(sizeof type_names / sizeof type_names[0]), (int)t);
}

const struct devconfig_field_info *
devconfig_field(enum devconfig_field f)
{
	if ((int)f < 0 || f >= DCFG__COUNT)
		return NULL;
	return &fields[f];
}

bool
devconfig_field_gen(enum devconfig_field f, int gen)
{
	const struct devconfig_field_info *fi = devconfig_field(f);

	if (fi == NULL)
		return false;
	return gen == 1 ? fi->g1_endpoint != NULL : fi->g2_component != NULL;
}

const char *
devconfig_name(enum devconfig_field f, int index, char *buf, size_t size)
{
	const struct devconfig_field_info *fi = devconfig_field(f);
	size_t kl;

	if (fi == NULL) {
		snprintf(buf, size, "?");
		return buf;
	}
	kl = kind_len(fi->path);
	if (kl == 0)
		snprintf(buf, size, "%s", fi->path);
	else
		snprintf(buf, size, "%.*s:%d%s", (int)kl, fi->path, index, fi->path + kl + 2);
	return buf;
}

int
devconfig_parse_name(const char *name, enum devconfig_field *f, int *index, char **cause)
{
	char norm[96];
	const char *colon;
	int idx = -1;

	if (name == NULL || strlen(name) >= sizeof norm - 8) {
		*cause = xstrdup("field name missing or too long");
		return -1;
	}
	colon = strchr(name, ':');
	if (colon != NULL) {
		char *end;
		long v;
		errno = 0;
		if (!isdigit((unsigned char)colon[1])) {
			*cause =
			    xstrdup("a component field wants a number after ':' (switch:0.name)");
			return -1;
		}
		v = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '.' || v < 0 || v > DEVCONFIG_INDEX_MAX) {
			*cause =
			    xasprintf("component number out of range 0-%d", DEVCONFIG_INDEX_MAX);
			return -1;
		}
		idx = (int)v;
		snprintf(norm, sizeof norm, "%.*s:N%s", (int)(colon - name), name, end);
	} else
		snprintf(norm, sizeof norm, "%s", name);
	for (int i = 0; i < DCFG__COUNT; i++) {
		if (strcmp(fields[i].path, norm) == 0) {
			*f = (enum devconfig_field)i;
			*index = idx;
			return 0;
		}
	}
	*cause = xstrdup("unknown field (see --config-fields)");
	return -1;
}

int
devconfig_check_selector(const char *sel, char **cause)
{
	char norm[96];
	const char *colon = strchr(sel, ':');
	size_t n;

	if (sel[0] == '\0' || strlen(sel) >= sizeof norm - 8) {
		*cause = xstrdup("empty or too long");
		return -1;
	}
	if (colon != NULL) {
		char *end;
		long v;
		errno = 0;
		v = isdigit((unsigned char)colon[1]) ? strtol(colon + 1, &end, 10) : -1;
		if (v < 0 || errno != 0 || v > DEVCONFIG_INDEX_MAX ||
		    (*end != '.' && *end != '\0')) {
			*cause = xasprintf("a component wants a number 0-%d after ':' (switch:0)",
			    DEVCONFIG_INDEX_MAX);
			return -1;
		}
		snprintf(norm, sizeof norm, "%.*s:N%s", (int)(colon - sel), sel, end);
	} else
		snprintf(norm, sizeof norm, "%s", sel);
	n = strlen(norm);
	for (int i = 0; i < DCFG__COUNT; i++)
		if (strncmp(fields[i].path, norm, n) == 0 &&
		    (fields[i].path[n] == '\0' || fields[i].path[n] == '.'))
			return 0;
	*cause = xstrdup("not a field or section of the model (see --config-fields)");
	return -1;
}

/* Whether choice is one of "a|b|c". */
static bool
in_choices(const char *choices, const char *v, size_t vlen)
{
	const char *p = choices;

	while (p != NULL && *p) {
		const char *bar = strchr(p, '|');
		size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n == vlen && strncmp(p, v, n) == 0)
			return true;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}

static int
check_ipv4(const char *v)
{
	int parts = 0;
	const char *p = v;

	while (*p) {
		long n = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p) && digits < 4) {
			n = n * 10 + (*p - '0');
			p++;
			digits++;
		}
		if (digits == 0 || digits > 3 || n > 255)
			return -1;
		parts++;
		if (*p == '.' && parts < 4)
			p++;
		else if (*p != '\0')
			return -1;
	}
	return parts == 4 ? 0 : -1;
}

/* The length of the run of decimal digits at p. */
static size_t
digits(const char *p)
{
	size_t n = 0;

	while (isdigit((unsigned char)p[n]))
		n++;
	return n;
}

/*
 * Whether v is a decimal number as JSON writes one: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * (no hex, no blanks, no leading '+', no "inf" or "nan").
 */
static bool
json_number_text(const char *v)
{
	size_t n;

	if (*v == '-')
		v++;
	if ((n = digits(v)) == 0 || (v[0] == '0' && n > 1))
		return false;
	v += n;
	if (*v == '.') {
		if ((n = digits(v + 1)) == 0)
			return false;
		v += 1 + n;
	}
	if (*v == 'e' || *v == 'E') {
		v++;
		if (*v == '+' || *v == '-')
			v++;
		if ((n = digits(v)) == 0)
			return false;
		v += n;
	}
	return *v == '\0';
}

static int
check_number(const struct devconfig_field_info *fi, const char *value, char **canon, char **cause)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(value, &end);
	if (!json_number_text(value) || *end != '\0' || errno != 0 || !isfinite(d)) {
		*cause = xasprintf("'%s' is not a decimal number", value);
		return -1;
	}
	if (d == 0)
		d = 0; /* -0 is 0 */
	if (fi->type == DCT_INT && d != floor(d)) {
		*cause = xasprintf("'%s' is not a whole number", value);
		return -1;
	}
	if (d < fi->min || d > fi->max) {
		*cause = xasprintf("%s is outside %.10g-%.10g%s%s", value, fi->min, fi->max,
		    fi->unit[0] ? " " : "", fi->unit);
		return -1;
	}
	*canon = fi->type == DCT_INT ? xasprintf("%lld", (long long)d) : xasprintf("%.10g", d);
	return 0;
}

int
devconfig_check(enum devconfig_field f, const char *value, char **canon, char **cause)
{
	const struct devconfig_field_info *fi = devconfig_field(f);
	size_t len;

	*canon = NULL;
	if (fi == NULL || value == NULL) {
		*cause = xstrdup("no value");
		return -1;
	}
	len = strlen(value);
	if (!str_is_safe(value)) {
		*cause = xstrdup("control characters are not allowed");
		return -1;
	}
	if (len > DEVCONFIG_VALUE_MAX) {
		*cause = xasprintf("value longer than %d bytes", DEVCONFIG_VALUE_MAX);
		return -1;
	}
	switch (fi->type) {
	case DCT_BOOL:
		if (str_caseeq(value, "true") || str_caseeq(value, "on") ||
		    str_caseeq(value, "yes") || strcmp(value, "1") == 0)
			*canon = xstrdup("true");
		else if (str_caseeq(value, "false") || str_caseeq(value, "off") ||
		         str_caseeq(value, "no") || strcmp(value, "0") == 0)
			*canon = xstrdup("false");
		else {
			*cause = xasprintf("'%s' is not a boolean (true/false, on/off)", value);
			return -1;
		}
		return 0;
	case DCT_INT:
	case DCT_NUM:
		return check_number(fi, value, canon, cause);
	case DCT_ENUM:
		if (!in_choices(fi->choices, value, len)) {
			*cause = xasprintf("'%s' is not one of %s", value, fi->choices);
			return -1;
		}
		break;
	case DCT_IPV4:
		if (len > 0 && check_ipv4(value) != 0) {
			*cause = xasprintf("'%s' is not an IPv4 address", value);
			return -1;
		}
		break;
	case DCT_STR:
		if ((double)len > fi->max) {
			*cause = xasprintf("longer than %g characters", fi->max);
			return -1;
		}
		break;
	}
	*canon = xstrdup(value);
	return 0;
}

void
devconfig_init(struct devconfig *c)
{
	memset(c, 0, sizeof *c);
}

void
devconfig_done(struct devconfig *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].value);
	free(c->e);
	for (size_t i = 0; i < c->nbad; i++)
		free(c->bad[i].value);
	free(c->bad);
	devconfig_init(c);
}

void
devconfig_wipe(struct devconfig *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].value != NULL)
			explicit_bzero(c->e[i].value, strlen(c->e[i].value));
	devconfig_done(c);
}

size_t
devconfig_secrets(const struct devconfig *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += (fields[c->e[i].field].flags & DCF_SECRET) != 0;
	return n;
}

void
devconfig_copy(struct devconfig *dst, const struct devconfig *src)
{
	devconfig_init(dst);
	dst->gen = src->gen;
	dst->has_rev = src->has_rev;
	dst->rev = src->rev;
	for (size_t i = 0; i < src->n; i++)
		devconfig_set(
		    dst, src->e[i].field, src->e[i].index, src->e[i].state, src->e[i].value);
	if (src->nbad > 0) {
		dst->bad = xcalloc(src->nbad, sizeof *dst->bad);
		memcpy(dst->bad, src->bad, src->nbad * sizeof *dst->bad);
		dst->nbad = src->nbad;
		for (size_t i = 0; i < dst->nbad; i++)
			if (dst->bad[i].value != NULL)
				dst->bad[i].value = xstrdup(dst->bad[i].value);
	}
}

const struct devconfig_entry *
devconfig_unreadable_entry(const struct devconfig *c, enum devconfig_field f, int index)
{
	for (size_t i = 0; i < c->nbad; i++)
		if (c->bad[i].field == f && c->bad[i].index == index)
			return &c->bad[i];
	return NULL;
}

bool
devconfig_unreadable(const struct devconfig *c, enum devconfig_field f, int index)
{
	return devconfig_unreadable_entry(c, f, index) != NULL;
}

/*
 * Records that the reply holds (f, index) with a type the field cannot have, or with text it
 * does not know (raw: kept sanitised, at most 64 characters; NULL for a wrong type).
 */
static void
mark_unreadable(struct devconfig *c, enum devconfig_field f, int index, const char *raw)
{
	struct devconfig_entry *b;

	if (devconfig_unreadable(c, f, index))
		return;
	c->bad = xreallocarray(c->bad, c->nbad + 1, sizeof *c->bad);
	b = &c->bad[c->nbad++];
	memset(b, 0, sizeof *b);
	b->field = f;
	b->index = index;
	b->value = raw != NULL ? str_sanitize(raw, 64) : NULL;
}

/* Position of (f, index) in the sorted entries; *found tells whether it is there. */
static size_t
find_pos(const struct devconfig *c, enum devconfig_field f, int index, bool *found)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct devconfig_entry *e = &c->e[mid];
		if (e->field < f || (e->field == f && e->index < index))
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < c->n && c->e[lo].field == f && c->e[lo].index == index;
	return lo;
}

const struct devconfig_entry *
devconfig_get(const struct devconfig *c, enum devconfig_field f, int index)
{
	bool found;
	size_t pos = find_pos(c, f, index, &found);

	return found ? &c->e[pos] : NULL;
}

void
devconfig_set(struct devconfig *c, enum devconfig_field f, int index, enum devconfig_state state,
    const char *value)
{
	bool found;
	size_t pos = find_pos(c, f, index, &found);
	struct devconfig_entry *e;

	if (!found) {
		c->e = xgrowarray(c->e, &c->cap, c->n, sizeof *c->e);
		memmove(&c->e[pos + 1], &c->e[pos], (c->n - pos) * sizeof *c->e);
		c->n++;
		c->e[pos].value = NULL;
	}
	e = &c->e[pos];
	free(e->value);
	e->field = f;
	e->index = index;
	e->state = state;
	e->value = state == DEVCONFIG_VALUE && value != NULL ? xstrdup(value) : NULL;
	if (state == DEVCONFIG_VALUE && e->value == NULL)
		e->state = DEVCONFIG_NULL;
}

int
devconfig_unset(struct devconfig *c, enum devconfig_field f, int index)
{
	bool found;
	size_t pos = find_pos(c, f, index, &found);

	if (!found)
		return 0;
	free(c->e[pos].value);
	memmove(&c->e[pos], &c->e[pos + 1], (c->n - pos - 1) * sizeof *c->e);
	c->n--;
	return 1;
}

/* --- Reading device documents --------------------------------------------------------- */

/* Follows a dotted path ("relays.0.auto_off", "switch:0.name"); N is replaced by index. */
static const cJSON *
json_path(const cJSON *root, const char *path, int index)
{
	const cJSON *cur = root;
	char seg[64];
	const char *p = path;

	while (cur != NULL && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof seg)
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (strcmp(seg, "N") == 0 && cJSON_IsArray(cur))
			cur = cJSON_GetArrayItem(cur, index);
		else if (cJSON_IsObject(cur))
			cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
		else
			return NULL;
		p = dot != NULL ? dot + 1 : p + n;
	}
	return cur;
}

/* Maps a device enum name to the model's (gen1: "last" -> "restore_last"), or back. */
static const char *
map_enum(const char *map, const char *v, bool to_device, char *buf, size_t size)
{
	const char *p = map;

	while (p != NULL && *p) {
		const char *eq = strchr(p, '=');
		const char *comma = strchr(p, ',');
		size_t kl, vl;
		if (eq == NULL)
			break;
		kl = (size_t)(eq - p);
		vl = comma != NULL ? (size_t)(comma - eq - 1) : strlen(eq + 1);
		const char *from = to_device ? p : eq + 1;
		size_t fl = to_device ? kl : vl;
		if (strlen(v) == fl && strncmp(v, from, fl) == 0) {
			snprintf(
			    buf, size, "%.*s", (int)(to_device ? vl : kl), to_device ? eq + 1 : p);
			return buf;
		}
		p = comma != NULL ? comma + 1 : NULL;
	}
	return v;
}

static int timer_delay(enum devconfig_field f);

/* Reads one item as the field's canonical value into c. A value of the wrong type, or a choice
 * the model does not know, is marked unreadable (other text a field refuses is left out: the
 * device has it, but it cannot be kept). */
static void
read_item(struct devconfig *c, const struct devconfig_field_info *fi, int index, const cJSON *item,
    const char *g1map)
{
	char buf[64], *canon = NULL, *cause = NULL;
	const char *s;
	double d;
	int b;

	if (fi->flags & DCF_SECRET) {
		if (cJSON_IsObject(item))
			devconfig_set(c, fi->id, index, DEVCONFIG_SECRET, NULL);
		return;
	}
	if (cJSON_IsNull(item)) {
		devconfig_set(c, fi->id, index, DEVCONFIG_NULL, NULL);
		return;
	}
	switch (fi->type) {
	case DCT_BOOL:
		if ((b = json_bool(item)) < 0) {
			mark_unreadable(c, fi->id, index, NULL);
			return;
		}
		devconfig_set(c, fi->id, index, DEVCONFIG_VALUE, b ? "true" : "false");
		return;
	case DCT_INT:
	case DCT_NUM:
		d = json_number(item);
		if (isnan(d)) {
			mark_unreadable(c, fi->id, index, NULL);
			return;
		}
		if (d == 0)
			d = 0; /* -0 is 0 */
		if (fi->type == DCT_INT)
			snprintf(buf, sizeof buf, "%lld", (long long)llround(d));
		else
			snprintf(buf, sizeof buf, "%.10g", d);
		devconfig_set(c, fi->id, index, DEVCONFIG_VALUE, buf);
		return;
	default:
		if ((s = json_string(item)) == NULL) {
			mark_unreadable(c, fi->id, index, NULL);
			return;
		}
		if (fi->type == DCT_ENUM && g1map != NULL)
			s = map_enum(g1map, s, false, buf, sizeof buf);
		/* Device text is kept only when it is what the field accepts; a choice the model
		 * does not know is unreadable (shown with its raw value), never silently absent. */
		if (fi->type == DCT_STR || devconfig_check(fi->id, s, &canon, &cause) == 0)
			devconfig_set(c, fi->id, index, DEVCONFIG_VALUE, s);
		else if (fi->type == DCT_ENUM)
			mark_unreadable(c, fi->id, index, json_string(item));
		free(canon);
		free(cause);
		return;
	}
}

/* The parent of a Gen2 config path ("sta.pass" -> "sta"), or "" at the top. */
static void
parent_path(const char *path, char *buf, size_t size)
{
	const char *dot = strrchr(path, '.');

	snprintf(buf, size, "%.*s", dot != NULL ? (int)(dot - path) : 0, path);
}

/*
 * Calls read() for each field generation gen reads, at each instance index: -1 for a
 * singleton, 0, 1 ... for a component kind until read() returns -1 (no more instances).
 */
static void
each_field(const cJSON *root, struct devconfig *c, int gen,
    int (*read)(const cJSON *, struct devconfig *, const struct devconfig_field_info *, int))
{
	for (int i = 0; i < DCFG__COUNT; i++) {
		const struct devconfig_field_info *fi = &fields[i];
		int last = kind_len(fi->path) ? DEVCONFIG_INDEX_MAX : -1;

		if ((gen == 1 ? fi->g1_read : fi->g2_component) == NULL)
			continue;
		for (int idx = last < 0 ? -1 : 0; idx <= last; idx++)
			if (read(root, c, fi, idx) < 0)
				break;
	}
}

static int
read_gen1(const cJSON *root, struct devconfig *c, const struct devconfig_field_info *fi, int idx)
{
	const cJSON *item = json_path(root, fi->g1_read, idx);

	if (item == NULL)
		return -1;
	if (timer_delay(fi->id) >= 0 && cJSON_IsNumber(item)) {
		/* A Gen1 timer is on while its delay is above 0. */
		devconfig_set(
		    c, fi->id, idx, DEVCONFIG_VALUE, item->valuedouble > 0 ? "true" : "false");
		return 0;
	}
	read_item(c, fi, idx, item, fi->g1_map);
	return 0;
}

/* "Switch" -> "switch:3" (or "sys" for singletons) into buf. */
static void
g2_key(const struct devconfig_field_info *fi, int index, char *buf, size_t size)
{
	size_t i, n = strlen(fi->g2_component);

	for (i = 0; i < n && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)fi->g2_component[i]);
	buf[i] = '\0';
	if (index >= 0)
		snprintf(buf + i, size - i, ":%d", index);
}

static int
read_gen2(const cJSON *root, struct devconfig *c, const struct devconfig_field_info *fi, int idx)
{
	const cJSON *comp, *item;
	char key[48], parent[64];

	g2_key(fi, idx, key, sizeof key);
	comp = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!cJSON_IsObject(comp))
		return 0; /* instances may have gaps (switch:0, switch:2) */
	if (fi->flags & DCF_SECRET) {
		parent_path(fi->g2_path, parent, sizeof parent);
		item = parent[0] ? json_path(comp, parent, idx) : comp;
	} else
		item = json_path(comp, fi->g2_path, idx);
	/* sys.location may be null as a whole: the fields inside are unset. */
	if (item == NULL && fi->id != DCFG_SYS_TIMEZONE && fi->id != DCFG_SYS_LAT &&
	    fi->id != DCFG_SYS_LON)
		return 0;
	if (item == NULL) {
		if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(comp, "location")))
			devconfig_set(c, fi->id, idx, DEVCONFIG_NULL, NULL);
		return 0;
	}
	read_item(c, fi, idx, item, NULL);
	return 0;
}

int
devconfig_parse(int gen, const char *body, size_t len, struct devconfig *out, char **cause)
{
	cJSON *root;
	const cJSON *doc;
	long long rev;

	devconfig_init(out);
	out->gen = gen;
	if ((root = json_parse(body, len, 0, cause)) == NULL)
		return -1;
	doc = root;
	if (gen >= 2 && json_get_object(root, "result") != NULL && json_get(root, "src") != NULL)
		doc = json_get_object(root, "result");
	if (gen >= 2 && json_get(root, "error") != NULL && json_get(root, "src") != NULL) {
		*cause = xstrdup("the device answered with an error");
		cJSON_Delete(root);
		return -1;
	}
	if (!cJSON_IsObject(doc)) {
		*cause = xstrdup("the configuration is not a JSON object");
		cJSON_Delete(root);
		return -1;
	}
	each_field(doc, out, gen, gen == 1 ? read_gen1 : read_gen2);
	if (json_get_int(gen == 1 ? doc : json_get_object(doc, "sys"),
	        gen == 1 ? "cfg_changed_cnt" : "cfg_rev", 0, 1ll << 52, &rev) == 0) {
		out->has_rev = 1;
		out->rev = (double)rev;
	}
	cJSON_Delete(root);
	return 0;
}

/* --- Timers: an enable flag and a delay, one number on Gen1 -------------------------------- */

static const enum devconfig_field timer_pairs[][2] = {
    {DCFG_SWITCH_AUTO_ON, DCFG_SWITCH_AUTO_ON_DELAY},
    {DCFG_SWITCH_AUTO_OFF, DCFG_SWITCH_AUTO_OFF_DELAY},
    {DCFG_LIGHT_AUTO_ON, DCFG_LIGHT_AUTO_ON_DELAY},
    {DCFG_LIGHT_AUTO_OFF, DCFG_LIGHT_AUTO_OFF_DELAY},
};

/* The other field of f's timer pair when f is its flag (side 0) or delay (side 1), else -1. */
static int
timer_other(enum devconfig_field f, int side)
{
	for (size_t i = 0; i < sizeof timer_pairs / sizeof timer_pairs[0]; i++)
		if (timer_pairs[i][side] == f)
			return (int)timer_pairs[i][!side];
	return -1;
}

/* The flag of a timer delay field, or -1. */
static int
timer_enable(enum devconfig_field f)
{
	return timer_other(f, 1);
}

/* The delay of a timer flag field, or -1. */
static int
timer_delay(enum devconfig_field f)
{
	return timer_other(f, 0);
}

/* Whether c holds the flag of field f (f is a flag) with the value want. */
static bool
flag_is(const struct devconfig *c, int f, int index, const char *want)
{
	const struct devconfig_entry *e =
	    f < 0 ? NULL : devconfig_get(c, (enum devconfig_field)f, index);

	return e != NULL && e->state == DEVCONFIG_VALUE && strcmp(e->value, want) == 0;
}

/* Why a Gen1 device cannot take the timer of delay field (index) as changes hold it, or NULL. */
static char *
gen1_timer_refusal(const struct devconfig *changes, enum devconfig_field delay, int index)
{
	int flag = timer_enable(delay);
	const struct devconfig_entry *d = devconfig_get(changes, delay, index);
	char dn[96], fn[96];

	devconfig_name(delay, index, dn, sizeof dn);
	devconfig_name((enum devconfig_field)flag, index, fn, sizeof fn);
	if (flag_is(changes, flag, index, "false"))
		return NULL;
	if (!flag_is(changes, flag, index, "true"))
		return xasprintf(
		    "%s: on Gen1 a delay above 0 turns the timer on; set %s with it", dn, fn);
	if (d == NULL || d->state != DEVCONFIG_VALUE || !(strtod(d->value, NULL) > 0))
		return xasprintf("%s: a Gen1 timer that is on needs %s above 0", fn, dn);
	return NULL;
}

/* Copies field f (index) into changes from desired, else from actual, when either has it. */
static void
take_from(struct devconfig *changes, const struct devconfig *desired,
    const struct devconfig *actual, enum devconfig_field f, int index)
{
	const struct devconfig_entry *e = devconfig_get(desired, f, index);

	if (e == NULL)
		e = devconfig_get(actual, f, index);
	if (e != NULL)
		devconfig_set(changes, f, index, e->state, e->value);
}

int
devconfig_timer_changes(struct devconfig *changes, const struct devconfig *desired,
    const struct devconfig *actual, char **cause)
{
	if (actual->gen != 1)
		return 0;
	for (size_t i = 0; i < sizeof timer_pairs / sizeof timer_pairs[0]; i++) {
		enum devconfig_field flag = timer_pairs[i][0], delay = timer_pairs[i][1];
		for (int index = 0; index <= DEVCONFIG_INDEX_MAX; index++) {
			bool has_flag = devconfig_get(changes, flag, index) != NULL;
			bool has_delay = devconfig_get(changes, delay, index) != NULL;
			if (!has_flag && !has_delay)
				continue;
			if (!has_flag && devconfig_get(desired, flag, index) == NULL &&
			    !flag_is(actual, flag, index, "true")) {
				/* A delay alone would turn on a timer that is off. */
				*cause = gen1_timer_refusal(desired, delay, index);
				return -1;
			}
			if (!has_flag)
				take_from(changes, desired, actual, flag, index);
			else if (!has_delay && flag_is(changes, flag, index, "true"))
				take_from(changes, desired, actual, delay, index);
			if ((*cause = gen1_timer_refusal(changes, delay, index)) != NULL)
				return -1;
		}
	}
	return 0;
}

/* --- Diff -------------------------------------------------------------------------------- */

/*
 * Gen1 firmware keeps its numbers with a fraction (lat, lng, timer delays, max times) as 32-bit
 * floats and prints them with up to 6 decimals: 45.7754 reads back as 45.775398. Two values
 * are the same when they differ by no more than that storage and printing lose: a float's
 * relative precision (FLT_EPSILON) or half the last printed decimal, whichever is larger.
 */
static bool
gen1_float_equal(double want, double have)
{
	double tolerance = fmax(fabs(want) * FLT_EPSILON, 0.5e-6);

	return fabs(want - have) <= tolerance + 1e-12;
}

static bool
values_equal(const struct devconfig_field_info *fi, const struct devconfig_entry *d,
    const struct devconfig_entry *a, int gen)
{
	const char *dv = d->state == DEVCONFIG_VALUE ? d->value : "";
	const char *av = a->state == DEVCONFIG_VALUE ? a->value : "";

	if (fi->type == DCT_INT || fi->type == DCT_NUM) {
		if (d->state != a->state)
			return false;
		if (d->state != DEVCONFIG_VALUE)
			return true;
		if (fi->type == DCT_NUM && gen == 1)
			return gen1_float_equal(strtod(dv, NULL), strtod(av, NULL));
		return fabs(strtod(dv, NULL) - strtod(av, NULL)) < 1e-9;
	}
	if (fi->type == DCT_BOOL && d->state != a->state)
		return false;
	/* Strings, enums and addresses: null and "" are both "unset". */
	return strcmp(dv, av) == 0;
}

size_t
devconfig_diff(const struct devconfig *desired, const struct devconfig *actual,
    struct devconfig_diff **out, size_t *n)
{
	size_t drift = 0;

	*out = desired->n ? xcalloc(desired->n, sizeof **out) : NULL;
	*n = desired->n;
	for (size_t i = 0; i < desired->n; i++) {
		const struct devconfig_entry *d = &desired->e[i];
		const struct devconfig_entry *a = devconfig_get(actual, d->field, d->index);
		struct devconfig_diff *r = &(*out)[i];
		r->field = d->field;
		r->index = d->index;
		r->desired = d->value;
		r->actual = a != NULL ? a->value : NULL;
		if (a == NULL && (a = devconfig_unreadable_entry(actual, d->field, d->index))) {
			r->kind = DIFF_UNREADABLE;
			r->actual = a->value;
		} else if (a == NULL)
			r->kind = DIFF_UNSUPPORTED;
		else if (flag_is(desired, timer_enable(d->field), d->index, "false"))
			r->kind = DIFF_SAME; /* the delay of a timer that is off does not matter */
		else if ((fields[d->field].flags & DCF_SECRET) || a->state == DEVCONFIG_SECRET)
			r->kind = DIFF_UNKNOWN;
		else if (values_equal(&fields[d->field], d, a, actual->gen))
			r->kind = DIFF_SAME;
		else {
			r->kind = DIFF_DRIFT;
			drift++;
		}
	}
	return drift;
}

/* --- Requests ------------------------------------------------------------------------------ */

/* The Gen1 endpoint of an entry with N replaced ("/settings/relay/0") into buf. */
static void
g1_endpoint(const struct devconfig_field_info *fi, int index, char *buf, size_t size)
{
	const char *n = strstr(fi->g1_endpoint, "/N");

	if (n != NULL && n[2] == '\0')
		snprintf(buf, size, "%.*s/%d", (int)(n - fi->g1_endpoint), fi->g1_endpoint, index);
	else
		snprintf(buf, size, "%s", fi->g1_endpoint);
}

/* The JSON value of an entry for a Gen2+ request. */
static cJSON *
g2_value(const struct devconfig_field_info *fi, const struct devconfig_entry *e)
{
	if (e->state != DEVCONFIG_VALUE)
		return cJSON_CreateNull();
	switch (fi->type) {
	case DCT_BOOL:
		return cJSON_CreateBool(strcmp(e->value, "true") == 0);
	case DCT_INT:
	case DCT_NUM:
		return cJSON_CreateNumber(strtod(e->value, NULL));
	default:
		if (e->value[0] == '\0' && fi->id != DCFG_SYS_TIMEZONE)
			return cJSON_CreateNull();
		return cJSON_CreateString(e->value);
	}
}

/* Puts value at a dotted path below obj, creating objects on the way. */
static void
put_path(cJSON *obj, const char *path, cJSON *value)
{
	const char *dot;
	char seg[64];

	while ((dot = strchr(path, '.')) != NULL) {
		cJSON *next;
		snprintf(seg, sizeof seg, "%.*s", (int)(dot - path), path);
		next = cJSON_GetObjectItemCaseSensitive(obj, seg);
		if (!cJSON_IsObject(next)) {
			cJSON_DeleteItemFromObjectCaseSensitive(obj, seg);
			next = cJSON_AddObjectToObject(obj, seg);
		}
		obj = next;
		path = dot + 1;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, path);
	cJSON_AddItemToObject(obj, path, value);
}

/* Group key of an entry: the request it belongs to. */
static void
group_key(int gen, const struct devconfig_entry *e, char *buf, size_t size)
{
	const struct devconfig_field_info *fi = &fields[e->field];

	if (gen == 1)
		g1_endpoint(fi, e->index, buf, size);
	else
		g2_key(fi, e->index, buf, size);
}

static void
add_gen1_param(
    struct strbuf *q, const struct devconfig_field_info *fi, const struct devconfig_entry *e)
{
	char buf[64];
	const char *v = e->state == DEVCONFIG_VALUE ? e->value : "";
	char *enc;

	if (fi->type == DCT_ENUM && fi->g1_map != NULL)
		v = map_enum(fi->g1_map, v, true, buf, sizeof buf);
	enc = str_urlencode(v);
	strbuf_appendf(q, "%c%s=%s", strchr(strbuf_str(q), '?') ? '&' : '?', fi->g1_param, enc);
	free(enc);
}

/*
 * Adds the Gen1 parameter of a change: a timer is one number there, written with its flag (0
 * when off, else its delay), so a delay with its flag in the changes adds nothing.
 */
static void
add_gen1_entry(struct strbuf *q, const struct devconfig *changes, const struct devconfig_entry *e)
{
	struct devconfig_entry t = *e;
	int delay = timer_delay(e->field);
	const struct devconfig_entry *d;

	if (timer_enable(e->field) >= 0 &&
	    devconfig_get(changes, (enum devconfig_field)timer_enable(e->field), e->index) != NULL)
		return;
	if (delay >= 0) {
		d = devconfig_get(changes, (enum devconfig_field)delay, e->index);
		t.value =
		    flag_is(changes, e->field, e->index, "true") && d != NULL ? d->value : "0";
		t.state = DEVCONFIG_VALUE;
	}
	add_gen1_param(q, &fields[e->field], &t);
}

static void
finish_gen2(
    struct devconfig_request *r, const struct devconfig_field_info *fi, int index, cJSON *config)
{
	cJSON *params = cJSON_CreateObject();

	if (index >= 0)
		cJSON_AddNumberToObject(params, "id", index);
	cJSON_AddItemToObject(params, "config", config);
	r->method = "POST";
	snprintf(r->rpc_method, sizeof r->rpc_method, "%s.SetConfig", fi->g2_component);
	r->path = xasprintf("/rpc/%s", r->rpc_method);
	r->body = json_compact_free(params);
}

/* Whether e sets a choice only the Gen1 API has (a Gen2+ device refuses it). */
static bool
gen1_only_choice(const struct devconfig_entry *e)
{
	static const struct {
		enum devconfig_field f;
		const char *v;
	} only[] = {{DCFG_SWITCH_IN_MODE, "momentary_on_release"},
	    {DCFG_LIGHT_INITIAL_STATE, "match_input"}};

	for (size_t i = 0; i < sizeof only / sizeof only[0]; i++)
		if (e->field == only[i].f && e->value != NULL && strcmp(e->value, only[i].v) == 0)
			return true;
	return false;
}

int
devconfig_requests(int gen, const struct devconfig *changes, struct devconfig_request **out,
    size_t *n, char **cause)
{
	struct devconfig_request *reqs = NULL;
	size_t nreq = 0;
	bool *taken = changes->n ? xcalloc(changes->n, sizeof *taken) : NULL;
	char name[96], key[96], other[96];

	for (size_t i = 0; i < changes->n; i++) {
		if (!devconfig_field_gen(changes->e[i].field, gen)) {
			*cause = xasprintf("%s cannot be set on a Gen%d device",
			    devconfig_name(
			        changes->e[i].field, changes->e[i].index, name, sizeof name),
			    gen);
			free(taken);
			return -1;
		}
		if (gen >= 2 && gen1_only_choice(&changes->e[i])) {
			*cause = xasprintf("%s: %s is a Gen1 choice only",
			    devconfig_name(
			        changes->e[i].field, changes->e[i].index, name, sizeof name),
			    changes->e[i].value);
			free(taken);
			return -1;
		}
		int delay = timer_enable(changes->e[i].field) >= 0
		                ? (int)changes->e[i].field
		                : timer_delay(changes->e[i].field);
		if (gen == 1 && delay >= 0 &&
		    (*cause = gen1_timer_refusal(
		         changes, (enum devconfig_field)delay, changes->e[i].index)) != NULL) {
			free(taken);
			return -1;
		}
	}
	for (size_t i = 0; i < changes->n; i++) {
		const struct devconfig_entry *e = &changes->e[i];
		const struct devconfig_field_info *fi = &fields[e->field];
		struct devconfig_request *r;
		struct strbuf q;
		cJSON *config = NULL;
		if (taken[i])
			continue;
		reqs = xreallocarray(reqs, nreq + 1, sizeof *reqs);
		r = &reqs[nreq++];
		memset(r, 0, sizeof *r);
		r->fields = xcalloc(changes->n, sizeof *r->fields);
		group_key(gen, e, key, sizeof key);
		strbuf_init(&q);
		if (gen == 1)
			strbuf_append(&q, key);
		else
			config = cJSON_CreateObject();
		for (size_t j = i; j < changes->n; j++) {
			const struct devconfig_entry *o = &changes->e[j];
			if (taken[j])
				continue;
			group_key(gen, o, other, sizeof other);
			if (strcmp(key, other) != 0)
				continue;
			taken[j] = true;
			r->fields[r->nfields++] = j;
			if (gen == 1)
				add_gen1_entry(&q, changes, o);
			else
				put_path(config, fields[o->field].g2_path,
				    g2_value(&fields[o->field], o));
		}
		if (gen == 1) {
			r->method = "GET";
			r->path = strbuf_steal(&q);
		} else {
			strbuf_done(&q);
			finish_gen2(r, fi, e->index, config);
		}
	}
	free(taken);
	*out = reqs;
	*n = nreq;
	return 0;
}

void
devconfig_requests_free(struct devconfig_request *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].path);
		free(r[i].body);
		free(r[i].fields);
	}
	free(r);
}

/* The value a field will have after changes (or has now), or NULL. */
static const struct devconfig_entry *
after(const struct devconfig *changes, const struct devconfig *actual, enum devconfig_field f)
{
	const struct devconfig_entry *e = devconfig_get(changes, f, -1);

	return e != NULL ? e : devconfig_get(actual, f, -1);
}

int
devconfig_cuts_network(
    const struct devconfig *changes, const struct devconfig *actual, char *why, size_t size)
{
	const struct devconfig_entry *ap, *sta, *ssid;

	for (size_t i = 0; i < changes->n; i++) {
		const struct devconfig_entry *e = &changes->e[i];
		const struct devconfig_entry *a = devconfig_get(actual, e->field, e->index);
		if (!(fields[e->field].flags & DCF_NETWORK))
			continue;
		if (a != NULL && !(fields[e->field].flags & DCF_SECRET) &&
		    values_equal(&fields[e->field], e, a, actual->gen))
			continue;
		devconfig_name(e->field, e->index, why, size);
		return 1;
	}
	ap = devconfig_get(changes, DCFG_WIFI_AP_ENABLE, -1);
	if (ap != NULL && ap->value != NULL && strcmp(ap->value, "false") == 0) {
		sta = after(changes, actual, DCFG_WIFI_STA_ENABLE);
		ssid = after(changes, actual, DCFG_WIFI_STA_SSID);
		if (sta == NULL || sta->value == NULL || strcmp(sta->value, "true") != 0 ||
		    ssid == NULL || ssid->value == NULL || ssid->value[0] == '\0') {
			snprintf(why, size, "wifi.ap.enable (the WiFi station is not set up)");
			return 1;
		}
	}
	return 0;
}

int
devconfig_static_address(
    const struct devconfig *changes, const struct devconfig *actual, char *buf, size_t size)
{
	const struct devconfig_entry *mode = after(changes, actual, DCFG_WIFI_STA_IPV4MODE);
	const struct devconfig_entry *ip = after(changes, actual, DCFG_WIFI_STA_IP);

	if (devconfig_get(changes, DCFG_WIFI_STA_IPV4MODE, -1) == NULL &&
	    devconfig_get(changes, DCFG_WIFI_STA_IP, -1) == NULL)
		return 0;
	if (mode == NULL || mode->value == NULL || strcmp(mode->value, "static") != 0 ||
	    ip == NULL || ip->value == NULL || ip->value[0] == '\0')
		return 0;
	snprintf(buf, size, "%s", ip->value);
	return 1;
}

/* Whether an entry holds an address (not null, not ""). */
static bool
has_address(const struct devconfig_entry *e)
{
	return e != NULL && e->value != NULL && e->value[0] != '\0';
}

int
devconfig_static_without_address(const struct devconfig *changes, const struct devconfig *actual)
{
	const struct devconfig_entry *mode = after(changes, actual, DCFG_WIFI_STA_IPV4MODE);

	if (devconfig_get(changes, DCFG_WIFI_STA_IPV4MODE, -1) == NULL &&
	    devconfig_get(changes, DCFG_WIFI_STA_IP, -1) == NULL)
		return 0;
	return mode != NULL && mode->value != NULL && strcmp(mode->value, "static") == 0 &&
	       !has_address(after(changes, actual, DCFG_WIFI_STA_IP));
}

/* The static addressing block of the station: mode, netmask, gateway, name server. */
static const enum devconfig_field static_block[] = {
    DCFG_WIFI_STA_IPV4MODE, DCFG_WIFI_STA_NETMASK, DCFG_WIFI_STA_GW, DCFG_WIFI_STA_DNS};

int
devconfig_drop_half_static(struct devconfig *c)
{
	const struct devconfig_entry *mode = devconfig_get(c, DCFG_WIFI_STA_IPV4MODE, -1);
	int n = 0;

	if (mode == NULL || mode->value == NULL || strcmp(mode->value, "static") != 0 ||
	    has_address(devconfig_get(c, DCFG_WIFI_STA_IP, -1)))
		return 0;
	for (size_t i = 0; i < sizeof static_block / sizeof static_block[0]; i++)
		n += devconfig_unset(c, static_block[i], -1);
	return n;
}

bool
devconfig_needs_reboot1(const struct devconfig *changes)
{
	for (size_t i = 0; i < changes->n; i++)
		if (fields[changes->e[i].field].flags & DCF_REBOOT1)
			return true;
	return false;
}

/* --- Templates ----------------------------------------------------------------------------- */

/* The escapes of quoted template values: \" \\ \n \r \t stand for esc_byte[i]. */
static const char esc_letter[] = "\"\\nrt", esc_byte[] = "\"\\\n\r\t";

/* The value of the n hex digits at p, or -1. */
static long
hex_value(const char *p, const char *end, int n)
{
	long v = 0;

	if (end - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return -1;
		v = v * 16 + (isdigit((unsigned char)p[i])
		                     ? p[i] - '0'
		                     : tolower((unsigned char)p[i]) - 'a' + 10);
	}
	return v;
}

/* Appends the UTF-8 encoding of cp (at most U+FFFF). */
static void
append_utf8(struct strbuf *out, unsigned long cp)
{
	if (cp < 0x80)
		strbuf_append_char(out, (char)cp);
	else if (cp < 0x800) {
		strbuf_append_char(out, (char)(0xc0 | (cp >> 6)));
		strbuf_append_char(out, (char)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_append_char(out, (char)(0xe0 | (cp >> 12)));
		strbuf_append_char(out, (char)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_append_char(out, (char)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Reads the escape after a '\' at p (p < end) into out: \" \\ \n \r \t, \uXXXX (a
 * character U+0001..U+FFFF, no surrogate) or \xHH (one byte 01..FF, how the writer keeps
 * bytes that are not UTF-8). Returns the end of the escape, or NULL with *cause.
 */
static const char *
read_escape(const char *p, const char *end, struct strbuf *out, char **cause)
{
	const char *s = *p != '\0' ? strchr(esc_letter, *p) : NULL;
	long v;

	if (s != NULL) {
		strbuf_append_char(out, esc_byte[s - esc_letter]);
		return p + 1;
	}
	if (*p == 'u' && (v = hex_value(p + 1, end, 4)) > 0 && (v < 0xd800 || v > 0xdfff)) {
		append_utf8(out, (unsigned long)v);
		return p + 5;
	}
	if (*p == 'x' && (v = hex_value(p + 1, end, 2)) > 0) {
		strbuf_append_char(out, (char)v);
		return p + 3;
	}
	if (*p == 'u' || *p == 'x')
		*cause = xasprintf("bad \\%c escape (\\u: 4 hex digits, \\x: 2; not 0)", *p);
	else if (*p > 0x20 && *p < 0x7f)
		*cause = xasprintf("unknown escape \\%c (\\\" \\\\ \\n \\r \\t \\uXXXX \\xHH)", *p);
	else
		*cause = xstrdup("unknown escape (\\\" \\\\ \\n \\r \\t \\uXXXX \\xHH)");
	return NULL;
}

/*
 * Reads a quoted value starting after '"' into out; returns the end (after the closing quote),
 * or NULL with *cause.
 */
static const char *
read_quoted(const char *p, const char *end, struct strbuf *out, char **cause)
{
	while (p < end && *p != '"') {
		if (*p != '\\') {
			strbuf_append_char(out, *p++);
			continue;
		}
		if (++p >= end)
			break;
		if ((p = read_escape(p, end, out, cause)) == NULL)
			return NULL;
	}
	if (p >= end) {
		*cause = xstrdup("unterminated quote");
		return NULL;
	}
	return p + 1;
}

static bool
has_vars(const char *v)
{
	return strstr(v, "${") != NULL;
}

/*
 * What a template line "name = value" sets, checked as devconfig_template_set does: *f, *index,
 * *state and in *canon (caller frees; NULL for DEVCONFIG_NULL) the value to keep; a value NULL
 * (the line's bare word null) is a null, unset value of any type. With device
 * (a snapshot: what a device reported) a value is literal (no variables) and a string is kept
 * as it is (controls, invalid UTF-8, any length). Returns 0, or -1 with *cause. Stores nothing.
 */
static int
template_check(const char *name, const char *value, bool device, enum devconfig_field *f,
    int *index, enum devconfig_state *state, char **canon, char **cause)
{
	char *why = NULL;

	*canon = NULL;
	*state = DEVCONFIG_VALUE;
	if (devconfig_parse_name(name, f, index, &why) != 0) {
		*cause = xasprintf("%s: %s", str_is_safe(name) ? name : "field", why);
		free(why);
		return -1;
	}
	if (kind_len(fields[*f].path) == 0 && *index >= 0) {
		*cause = xasprintf("%s takes no component number", fields[*f].path);
		return -1;
	}
	if (value == NULL) {
		*state = DEVCONFIG_NULL;
		return 0;
	}
	if (device && fields[*f].type == DCT_STR) {
		*canon = xstrdup(value);
		return 0;
	}
	if (!device && has_vars(value)) {
		if (strlen(value) > DEVCONFIG_VALUE_MAX || !str_is_safe(value)) {
			*cause = xasprintf("%s: value too long or not printable", name);
			return -1;
		}
		*canon = xstrdup(value);
		return 0;
	}
	if (value[0] == '\0' && fields[*f].type != DCT_STR && fields[*f].type != DCT_ENUM &&
	    fields[*f].type != DCT_IPV4) {
		/* An empty number or boolean is how a null (unset) value is written. */
		*state = DEVCONFIG_NULL;
		return 0;
	}
	if (devconfig_check(*f, value, canon, &why) != 0) {
		*cause = xasprintf("%s: %s", name, why);
		free(why);
		return -1;
	}
	return 0;
}

static int
template_set(struct devconfig *out, const char *name, const char *value, bool device, char **cause)
{
	enum devconfig_field f;
	enum devconfig_state state;
	int index;
	char *canon;

	if (template_check(name, value, device, &f, &index, &state, &canon, cause) != 0)
		return -1;
	devconfig_set(out, f, index, state, canon);
	free(canon);
	return 0;
}

int
devconfig_template_set(struct devconfig *out, const char *name, const char *value, char **cause)
{
	return template_set(out, name, value, false, cause);
}

#define LINE_NAME_SIZE 96

/*
 * The name a template line [p, end) starts with (p at its first non-blank): the text before
 * '=' without the blanks before '=', into name (LINE_NAME_SIZE bytes). Returns the '=', or
 * NULL with *cause.
 */
static const char *
line_name(const char *p, const char *end, char *name, char **cause)
{
	const char *eq = memchr(p, '=', (size_t)(end - p));
	size_t nl;

	if (eq == NULL) {
		*cause = xstrdup("expected FIELD = VALUE");
		return NULL;
	}
	nl = (size_t)(eq - p);
	while (nl > 0 && isspace((unsigned char)p[nl - 1]))
		nl--;
	if (nl == 0 || nl >= LINE_NAME_SIZE) {
		*cause = xstrdup("field name missing or too long");
		return NULL;
	}
	memcpy(name, p, nl);
	name[nl] = '\0';
	if (strlen(name) != nl) {
		*cause = xstrdup("NUL byte in field name");
		return NULL;
	}
	return eq;
}

/*
 * Whether [p, end) holds a control character other than tab before its trailing blanks: text
 * that holds one is written escaped, so a raw one is refused (a snapshot line of an older
 * version may hide a field behind a CR).
 */
static bool
raw_control(const char *p, const char *end)
{
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	for (; p < end; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return true;
	return false;
}

/*
 * Reads one non-empty template line "FIELD = VALUE" [p, end): its name into name
 * (LINE_NAME_SIZE bytes) and its value into v (initialised here; caller frees with
 * strbuf_done, also on failure); *null (false on entry) set when the value is the bare word
 * null. Returns 0, or -1 with *cause.
 */
static int
line_split(const char *p, const char *end, char *name, struct strbuf *v, bool *null, char **cause)
{
	const char *eq, *shown;

	strbuf_init(v);
	if ((eq = line_name(p, end, name, cause)) == NULL)
		return -1;
	shown = str_is_safe(name) ? name : "field"; /* a cause is printed: never raw bytes */
	p = eq + 1;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (raw_control(p, end)) {
		*cause =
		    xasprintf("%s: control characters are not allowed (write them escaped)", shown);
		return -1;
	}
	if (p < end && *p == '"') {
		char *why = NULL;
		p = read_quoted(p + 1, end, v, &why);
		while (p != NULL && p < end && isspace((unsigned char)*p))
			p++;
		if (p == NULL || (p < end && *p != '#')) {
			*cause =
			    xasprintf("%s: %s", shown, why != NULL ? why : "text after the quote");
			free(why);
			return -1;
		}
	} else {
		const char *e = end;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		strbuf_append_len(v, p, (size_t)(e - p));
		*null = strcmp(strbuf_str(v), "null") == 0; /* quoted, "null" is text */
	}
	if (strlen(strbuf_str(v)) != v->len) {
		*cause = xasprintf("%s: NUL byte in value", shown);
		return -1;
	}
	return 0;
}

/* Parses one non-empty template line "FIELD = VALUE" into out. */
static int
template_line(const char *p, const char *end, bool device, struct devconfig *out, char **cause)
{
	char name[LINE_NAME_SIZE];
	struct strbuf v;
	bool null = false;
	int rc = line_split(p, end, name, &v, &null, cause);

	if (rc == 0)
		rc = template_set(out, name, null ? NULL : strbuf_str(&v), device, cause);
	strbuf_done(&v);
	return rc;
}

/* The text of line [*s, *le) without the blanks before it and a '\r' at its end; 0 when it is
 * blank or a comment. */
static int
line_text(const char **s, const char **le)
{
	while (*s < *le && isspace((unsigned char)**s))
		(*s)++;
	if (*le > *s && (*le)[-1] == '\r')
		(*le)--;
	return *s < *le && **s != '#';
}

/*
 * Why the line [p, end) of text, which sets a field an earlier line set too, is refused:
 * "F set twice (line A and line B)". Called only then: it reads the earlier lines again.
 */
static char *
duplicate_why(const char *text, const char *p, const char *end, int line)
{
	enum devconfig_field f, g;
	int index, gi, first = 0, n = 0;
	char *why = NULL, name[96];

	if (devconfig_line_field(p, (size_t)(end - p), &f, &index, &why) != 1) {
		free(why);
		return xasprintf("line %d: a field is set twice", line);
	}
	for (const char *q = text; q < p && first == 0;) {
		const char *nl = memchr(q, '\n', (size_t)(p - q));
		n++;
		if (devconfig_line_field(q, (size_t)(p - q), &g, &gi, &why) == 1 && g == f &&
		    gi == index)
			first = n;
		free(why);
		why = NULL;
		q = nl != NULL ? nl + 1 : p;
	}
	devconfig_name(f, index, name, sizeof name);
	return xasprintf("line %d: %s set twice (line %d and line %d)", line, name, first, line);
}

static int
parse_text(const char *text, size_t len, bool device, struct devconfig *out, char **cause)
{
	const char *p, *end = text + len;
	int line = 0;

	devconfig_init(out);
	if (len > DEVCONFIG_TEMPLATE_MAX) {
		*cause = xasprintf("template larger than %d bytes", DEVCONFIG_TEMPLATE_MAX);
		return -1;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3; /* a UTF-8 byte order mark, as some editors write */
	for (p = text; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		const char *s = p;
		char *why = NULL;
		size_t had = out->n;
		int field;
		line++;
		if ((field = line_text(&s, &le)) && template_line(s, le, device, out, &why) != 0) {
			*cause = xasprintf("line %d: %s", line, why);
			free(why);
			devconfig_done(out);
			return -1;
		}
		if (field && out->n == had) { /* a field set before: replaced, not added */
			*cause = duplicate_why(text, s, le, line);
			devconfig_done(out);
			return -1;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

int
devconfig_template_parse(const char *text, size_t len, struct devconfig *out, char **cause)
{
	return parse_text(text, len, false, out, cause);
}

int
devconfig_snapshot_parse(const char *text, size_t len, struct devconfig *out, char **cause)
{
	return parse_text(text, len, true, out, cause);
}

int
devconfig_unsettable(const struct devconfig *c, char *name, size_t size, char **cause)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct devconfig_entry *e = &c->e[i];
		char *canon = NULL;
		if (e->state != DEVCONFIG_VALUE)
			continue;
		if (devconfig_check(e->field, e->value, &canon, cause) != 0) {
			devconfig_name(e->field, e->index, name, size);
			return (int)i;
		}
		free(canon);
	}
	return -1;
}

/* template_check of a line either reader accepts (a template's or a snapshot's). */
static int
line_check(const char *name, const char *value, enum devconfig_field *f, int *index, char **canon,
    char **cause)
{
	enum devconfig_state state;
	char *why = NULL;

	if (template_check(name, value, false, f, index, &state, canon, &why) == 0)
		return 0;
	free(*canon);
	if (template_check(name, value, true, f, index, &state, canon, cause) == 0) {
		free(why);
		return 0;
	}
	free(*cause);
	*cause = why;
	return -1;
}

int
devconfig_line_field(
    const char *line, size_t len, enum devconfig_field *f, int *index, char **cause)
{
	const char *s = line, *le = line + len;
	const char *nl = memchr(line, '\n', len);
	char name[LINE_NAME_SIZE];
	struct strbuf v;
	char *canon = NULL;
	bool null = false;
	int rc;

	if (nl != NULL)
		le = nl;
	if (len > DEVCONFIG_TEMPLATE_MAX) {
		*cause = xasprintf("template larger than %d bytes", DEVCONFIG_TEMPLATE_MAX);
		return -1;
	}
	if (!line_text(&s, &le))
		return 0;
	rc = line_split(s, le, name, &v, &null, cause);
	if (rc == 0)
		rc = line_check(name, null ? NULL : strbuf_str(&v), f, index, &canon, cause);
	strbuf_done(&v);
	free(canon);
	return rc == 0 ? 1 : -1;
}

/*
 * Writes a value so that the template reader gives back exactly its bytes: bare when it is
 * printable text (str_is_safe) without a blank at either end, a '"' first or a '#', and not
 * the word null (the bare word is a null value); else quoted, with \" \\ \n \r \t, \uXXXX for the
 * other controls, DEL, C1 and bidirectional controls, and \xHH for each byte that is not UTF-8.
 * Quoted text is printable UTF-8.
 */
static void
write_value(const char *v, FILE *fp)
{
	const unsigned char *u = (const unsigned char *)v;
	size_t len = strlen(v), k, bad;
	uint32_t cp;

	if (len > 0 && !isspace(u[0]) && !isspace(u[len - 1]) && v[0] != '"' &&
	    strchr(v, '#') == NULL && str_is_safe(v) && strcmp(v, "null") != 0) {
		fputs(v, fp);
		return;
	}
	fputc('"', fp);
	for (size_t i = 0; i < len; i += k) {
		const char *esc = strchr(esc_byte, v[i]);
		k = 1;
		if (esc != NULL)
			fprintf(fp, "\\%c", esc_letter[esc - esc_byte]);
		else if (u[i] < 0x20 || u[i] == 0x7f)
			fprintf(fp, "\\u%04x", u[i]);
		else if (u[i] < 0x80)
			fputc(v[i], fp);
		else if ((k = str_utf8_decode(u + i, len - i, &cp, &bad)) == 0) {
			for (k = 0; k < bad; k++)
				fprintf(fp, "\\x%02x", u[i + k]);
		} else if (cp <= 0x9f || str_is_bidi(cp) || (str_is_format(cp) && cp <= 0xffff))
			fprintf(fp, "\\u%04x", (unsigned)cp);
		else if (str_is_format(cp)) { /* beyond \u: its bytes */
			for (size_t b = 0; b < k; b++)
				fprintf(fp, "\\x%02x", u[i + b]);
		} else
			fwrite(v + i, 1, k, fp);
	}
	fputc('"', fp);
}

void
devconfig_template_write(const struct devconfig *c, const char *comment, FILE *fp)
{
	char name[96];

	fputs("# shelly-tui configuration template: FIELD = VALUE per line (see shelly-tui(1))\n",
	    fp);
	if (comment != NULL)
		fprintf(fp, "# %s\n", comment);
	for (size_t i = 0; i < c->n; i++) {
		const struct devconfig_entry *e = &c->e[i];
		if ((fields[e->field].flags & DCF_SECRET) || e->state == DEVCONFIG_SECRET)
			continue;
		fprintf(fp, "%s = ", devconfig_name(e->field, e->index, name, sizeof name));
		if (e->state == DEVCONFIG_VALUE)
			write_value(e->value, fp);
		else
			fputs("null", fp); /* bare: the text "null" is written quoted */
		fputc('\n', fp);
	}
}

/* The value of ${var} (name points after "${"), or NULL when unknown/unset. */
static const char *
var_value(const struct devconfig_vars *vars, const char *name, size_t n)
{
	static const char *const names[] = {"name", "id", "mac", "index", "group"};
	const char *vals[] = {vars->name, vars->id, vars->mac, vars->index, vars->group};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && strncmp(names[i], name, n) == 0)
			return vals[i];
	return NULL;
}

static int
render_value(const char *v, const struct devconfig_vars *vars, struct strbuf *out, char **cause)
{
	while (*v) {
		const char *close;
		const char *val;
		if (v[0] != '$' || v[1] != '{') {
			strbuf_append_char(out, *v++);
			continue;
		}
		close = strchr(v + 2, '}');
		if (close == NULL) {
			*cause = xstrdup("'${' without '}'");
			return -1;
		}
		val = var_value(vars, v + 2, (size_t)(close - v - 2));
		if (val == NULL) {
			char *var = xstrndup(
			    v + 2, (size_t)(close - v - 2) > 32 ? 32 : (size_t)(close - v - 2));
			if (str_is_safe(var))
				*cause = xasprintf("unknown or unset variable ${%s}", var);
			else
				*cause = xstrdup("unknown variable");
			free(var);
			return -1;
		}
		strbuf_append(out, val);
		v = close + 1;
	}
	return 0;
}

int
devconfig_render(const struct devconfig *tmpl, const struct devconfig_vars *vars,
    struct devconfig *out, char **cause)
{
	char name[96];

	devconfig_init(out);
	for (size_t i = 0; i < tmpl->n; i++) {
		const struct devconfig_entry *e = &tmpl->e[i];
		struct strbuf v;
		char *canon = NULL, *why = NULL;
		if (e->state != DEVCONFIG_VALUE || !has_vars(e->value)) {
			devconfig_set(out, e->field, e->index, e->state, e->value);
			continue;
		}
		strbuf_init(&v);
		if (render_value(e->value, vars, &v, &why) != 0 ||
		    devconfig_check(e->field, strbuf_str(&v), &canon, &why) != 0) {
			*cause = xasprintf(
			    "%s: %s", devconfig_name(e->field, e->index, name, sizeof name), why);
			free(why);
			strbuf_done(&v);
			devconfig_done(out);
			return -1;
		}
		devconfig_set(out, e->field, e->index, DEVCONFIG_VALUE, canon);
		free(canon);
		strbuf_done(&v);
	}
	return 0;
}

int
devconfig_vars_check(const struct devconfig *c, char **cause)
{
	/* Every variable set: only a name that is none of them, or a '${' unclosed, fails. */
	const struct devconfig_vars any = {"1", "1", "1", "1", "1"};
	char name[96];

	for (size_t i = 0; i < c->n; i++) {
		const struct devconfig_entry *e = &c->e[i];
		struct strbuf v;
		char *why = NULL;
		if (e->state != DEVCONFIG_VALUE || !has_vars(e->value))
			continue;
		strbuf_init(&v);
		if (render_value(e->value, &any, &v, &why) != 0) {
			*cause = xasprintf("%s: %s (the variables: ${name}, ${id}, ${mac}, "
			                   "${index}, ${group})",
			    devconfig_name(e->field, e->index, name, sizeof name), why);
			free(why);
			strbuf_done(&v);
			return -1;
		}
		strbuf_done(&v);
	}
	return 0;
}

/* --- Output -------------------------------------------------------------------------------- */

cJSON *
devconfig_value_json(const struct devconfig_entry *e, bool show_secrets)
{
	const struct devconfig_field_info *fi = &fields[e->field];

	if ((fi->flags & DCF_SECRET) || e->state == DEVCONFIG_SECRET) {
		if (show_secrets && e->state == DEVCONFIG_VALUE)
			return cJSON_CreateString(e->value);
		return e->state == DEVCONFIG_SECRET ? cJSON_CreateNull()
		                                    : cJSON_CreateString("********");
	}
	if (e->state != DEVCONFIG_VALUE)
		return cJSON_CreateNull();
	return fi->type == DCT_STR || fi->type == DCT_ENUM || fi->type == DCT_IPV4
	           ? cJSON_CreateString(e->value)
	           : g2_value(fi, e);
}

const char *
devconfig_value_text(const struct devconfig_entry *e)
{
	if (e == NULL)
		return "unsupported";
	if (e->state == DEVCONFIG_SECRET)
		return "(write-only)";
	if (fields[e->field].flags & DCF_SECRET)
		return "********";
	if (e->state != DEVCONFIG_VALUE)
		return "null";
	return e->value;
}
