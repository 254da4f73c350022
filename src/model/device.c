#include "model/device.h"
#include "model/fields.h"
#include "util/str.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xmalloc.h"

static const char *const device_state_names[] = {
#define X(e, s) s,
    DEVICE_STATE_LIST(X)
#undef X
};

static const char *const cover_state_names[] = {
#define X(e, s) s,
    COVER_STATE_LIST(X)
#undef X
};

const char *
device_state_name(enum device_state s)
{
	return str_table_name(device_state_names, DEVICE_STATE_COUNT, (int)s);
}

int
device_state_parse(const char *name, enum device_state *out)
{
	int i = str_table_find(device_state_names, DEVICE_STATE_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum device_state)i;
	return 0;
}

const char *
cover_state_name(enum cover_state s)
{
	return str_table_name(cover_state_names, COVER_STATE_COUNT, (int)s);
}

enum cover_state
cover_state_parse(const char *name)
{
	int i = str_table_find(cover_state_names, COVER_STATE_COUNT, name);

	return i < 0 ? COVER_UNKNOWN : (enum cover_state)i;
}

void
device_ident_init(struct device_ident *id)
{
	memset(id, 0, sizeof *id);
	id->gen = 0;
	id->auth_en = DEV_UNKNOWN;
	id->sleep_mode = DEV_UNKNOWN;
	id->discoverable = DEV_UNKNOWN;
	id->num_outputs = id->num_inputs = id->num_meters = -1;
	id->num_emeters = id->num_rollers = -1;
}

/* A component of kind k with its id (the first member) and every measured field unknown. */
static void
comp_init(void *comp, size_t size, enum field_comp k, int id)
{
	memset(comp, 0, size);
	*(int *)comp = id;
	fields_unknown(k, comp);
}

void
dev_switch_init(struct dev_switch *s, int id)
{
	comp_init(s, sizeof *s, FIELD_SWITCH, id);
}

void
dev_phase_init(struct dev_phase *p, char label)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	fields_unknown(FIELD_PHASE, p);
}

void
dev_cover_init(struct dev_cover *c, int id)
{
	comp_init(c, sizeof *c, FIELD_COVER, id); /* state 0: COVER_UNKNOWN */
}

void
dev_light_init(struct dev_light *l, int id)
{
	comp_init(l, sizeof *l, FIELD_LIGHT, id);
	l->rgb[0] = l->rgb[1] = l->rgb[2] = -1;
}

void
dev_input_init(struct dev_input *in, int id)
{
	comp_init(in, sizeof *in, FIELD_INPUT, id);
}

void
dev_meter_init(struct dev_meter *m, int id, const char *kind)
{
	comp_init(m, sizeof *m, FIELD_METER, id);
	if (kind != NULL) {
		strncpy(m->kind, kind, sizeof m->kind - 1);
		m->kind[sizeof m->kind - 1] = '\0';
	}
	for (int i = 0; i < DEVICE_MAX_PHASES; i++)
		dev_phase_init(&m->phases[i], (char)('a' + i));
}

void
dev_thermostat_init(struct dev_thermostat *t, int id)
{
	memset(t, 0, sizeof *t);
	t->id = id;
	t->enable = t->output = DEV_UNKNOWN;
	t->target_c = t->current_c = t->valve_pos_pct = NAN;
}

void
dev_voltmeter_init(struct dev_voltmeter *v, int id)
{
	memset(v, 0, sizeof *v);
	v->id = id;
	v->voltage_v = NAN;
}

void
device_status_init(struct device_status *st)
{
	/*
	 * The five component arrays, most of the status's 36 KiB, are not cleared: an entry is
	 * initialised when a component is added (dev_switch_init ...) and every reader stops at
	 * the count. Clearing them on every parsed reply was the largest single cost of a parse.
	 */
	st->nswitches = st->ncovers = st->nlights = st->ninputs = st->nmeters = 0;
	memset(&st->sensors, 0, sizeof *st - offsetof(struct device_status, sensors));

	st->sensors.illuminance_lux = NAN;
	st->sensors.battery_pct = st->sensors.battery_v = NAN;
	st->sensors.external_power = DEV_UNKNOWN;
	st->sensors.motion = st->sensors.vibration = st->sensors.flood = DEV_UNKNOWN;
	st->sensors.smoke = st->sensors.door_open = DEV_UNKNOWN;
	st->sensors.tilt_deg = st->sensors.gas_ppm = NAN;

	st->wifi.rssi_dbm = NAN;
	st->wifi.connected = DEV_UNKNOWN;

	st->sys.uptime_s = st->sys.unixtime = NAN;
	st->sys.ram_free = st->sys.ram_total = st->sys.fs_free = st->sys.fs_total = NAN;
	st->sys.device_temperature_c = NAN;
	st->sys.overtemp = DEV_UNKNOWN;
	st->sys.update_available = DEV_UNKNOWN;
	st->sys.cfg_rev = st->sys.cfg_changed_cnt = NAN;
	st->sys.restart_required = DEV_UNKNOWN;
	st->sys.wakeup_period_s = NAN;
	st->sys.woke = DEV_UNKNOWN;

	st->cloud_enabled = st->cloud_connected = DEV_UNKNOWN;
	st->mqtt_connected = DEV_UNKNOWN;
	st->ws_connected = DEV_UNKNOWN;
	st->raw_unknown = NULL;
}

void
device_status_done(struct device_status *st)
{
	free(st->raw_unknown);
	device_status_init(st);
}

void
device_status_free(struct device_status *st)
{
	if (st == NULL)
		return;
	free(st->raw_unknown);
	free(st);
}

void
device_status_copy(struct device_status *dst, const struct device_status *src)
{
	if (dst == src)
		return;
	free(dst->raw_unknown);
	memcpy(dst, src, sizeof *dst);
	dst->raw_unknown = src->raw_unknown != NULL ? xstrdup(src->raw_unknown) : NULL;
}

/* The lookups by id of switches, covers, lights and inputs: one shape, four arrays. */
#define FIND_BY_ID(type, fn, arr, n)                                                             \
	struct type *fn(struct device_status *st, int id)                                         \
	{                                                                                          \
		for (int i = 0; i < st->n; i++)                                                    \
			if (st->arr[i].id == id)                                                   \
				return &st->arr[i];                                                \
		return NULL;                                                                       \
	}
FIND_BY_ID(dev_switch, device_status_switch, switches, nswitches)
FIND_BY_ID(dev_cover, device_status_cover, covers, ncovers)
FIND_BY_ID(dev_light, device_status_light, lights, nlights)
FIND_BY_ID(dev_input, device_status_input, inputs, ninputs)
#undef FIND_BY_ID

const char *
dev_light_component(const struct dev_light *l)
{
	static const char *const types[] = {"rgb", "rgbw", "cct", "rgbcct"};
	int i = str_table_find(types, (int)(sizeof types / sizeof types[0]), l->kind);

	return i >= 0 ? types[i] : "light";
}

struct dev_light *
device_status_light_of(struct device_status *st, const char *component, int id)
{
	for (int i = 0; i < st->nlights; i++)
		if (st->lights[i].id == id &&
		    strcmp(dev_light_component(&st->lights[i]), component) == 0)
			return &st->lights[i];
	return NULL;
}

struct dev_meter *
device_status_meter(struct device_status *st, const char *kind, int id)
{
	for (int i = 0; i < st->nmeters; i++)
		if (st->meters[i].id == id &&
		    (kind == NULL || strcmp(st->meters[i].kind, kind) == 0))
			return &st->meters[i];
	return NULL;
}

int
device_mac_normalise(const char *in, char out[DEV_MAC_LEN])
{
	if (str_mac_normalise(in, out) != 0)
		return -1;
	/* all zeros or all ones is no device's address: a junk /shelly, or unset flash */
	if (strspn(out, "0") == DEV_MAC_LEN - 1 || strspn(out, "f") == DEV_MAC_LEN - 1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

/* True if s[0..n) is a hexadecimal hash of at least 6 digits with at least one decimal digit. */
static int
is_hash(const char *s, size_t n)
{
	int digit = 0;

	if (n < 6)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
		if (isdigit((unsigned char)s[i]))
			digit = 1;
	}
	return digit;
}

int
device_fw_version(const char *fw, char *out, size_t size)
{
	const char *p, *slash;
	char buf[DEV_FW_LEN];
	size_t n;
	char *dash;

	if (size == 0)
		return -1;
	out[0] = '\0';
	if (fw == NULL)
		return -1;
	slash = strchr(fw, '/');
	p = slash != NULL ? slash + 1 : fw;
	if (*p == 'v' || *p == 'V')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	n = strcspn(p, "@ \t");
	if (n >= sizeof buf)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	/* The version proper is digits and dots up to the first '-': "1.14.0", needs a dot. */
	n = strspn(buf, "0123456789.");
	if (n == 0 || memchr(buf, '.', n) == NULL || (buf[n] != '\0' && buf[n] != '-'))
		return -1;
	/* Strip git-describe suffixes: "-g<hash>", "-<n>-g<hash>", "-<hash>". */
	dash = strrchr(buf, '-');
	if (dash != NULL && ((dash[1] == 'g' && is_hash(dash + 2, strlen(dash + 2))) ||
	                        (is_hash(dash + 1, strlen(dash + 1)) &&
	                            strspn(dash + 1, "0123456789") != strlen(dash + 1)))) {
		*dash = '\0';
		/* the commit count of "-<n>-g<hash>", unless it is the whole pre-release part */
		dash = strrchr(buf, '-');
		if (dash != NULL && dash != buf + n && dash[1] != '\0' &&
		    strspn(dash + 1, "0123456789") == strlen(dash + 1))
			*dash = '\0';
	}
	for (const char *q = buf; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != '+' && *q != '_')
			return -1;
	if (strlen(buf) >= size)
		return -1;
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

int
device_id_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return strcasecmp(a, b) == 0;
}

int
device_id_has_mac(const char *id, const char *mac)
{
	size_t n;

	if (id == NULL || mac == NULL || strlen(mac) != DEV_MAC_LEN - 1)
		return 0;
	n = strlen(id);
	return n > DEV_MAC_LEN && id[n - DEV_MAC_LEN] == '-' &&
	       strcasecmp(id + n - (DEV_MAC_LEN - 1), mac) == 0;
}

int
device_id_near_mac(const char *id, const char *mac)
{
	size_t n;

	if (id == NULL || mac == NULL || strlen(mac) != DEV_MAC_LEN - 1)
		return 0;
	n = strlen(id);
	if (n <= DEV_MAC_LEN || id[n - DEV_MAC_LEN] != '-')
		return 0;
	for (size_t i = n - (DEV_MAC_LEN - 1); i < n; i++)
		if (!isxdigit((unsigned char)id[i]))
			return 0;
	return strncasecmp(id + n - (DEV_MAC_LEN - 1), mac, DEV_MAC_LEN - 3) == 0;
}

const char *
device_auth_name(int auth_en)
{
	return auth_en == 1 ? "on" : auth_en == 0 ? "off" : NULL;
}

int
device_auth_parse(const char *name)
{
	if (name != NULL && strcmp(name, "on") == 0)
		return 1;
	if (name != NULL && strcmp(name, "off") == 0)
		return 0;
	return DEV_UNKNOWN;
}

void
device_ident_update_from_status(struct device_ident *id, const struct device_status *st)
{
	if (id == NULL || st == NULL || id->gen < 1 || id->sleep_mode != DEV_UNKNOWN)
		return;
	if (id->gen == 1) { /* a battery alone does not tell: a Motion or TRV stays awake */
		if (st->sys.woke == 1)
			id->sleep_mode = 1;
		return;
	}
	if (dev_known(st->sys.wakeup_period_s) && st->sys.wakeup_period_s > 0)
		id->sleep_mode = 1;
	else if (dev_known(st->sensors.battery_pct) && st->sensors.external_power != 1)
		id->sleep_mode = 1;
	else if (dev_known(st->sys.uptime_s))
		id->sleep_mode = 0; /* a full sys status without wakeup_period: mains powered */
}
