/*
 * libFuzzer harness: the Gen1 parsers (/status, /settings, /ota) on arbitrary bytes, settings
 * applied to the status and the result through the shared JSON output. Nothing may crash, leak
 * or read past size; every failure must come with a cause.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/object.h"
#include "shelly/gen1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int rc, char **cause)
{
	if ((rc < 0) != (*cause != NULL))
		abort();
	free(*cause);
	*cause = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct device_status st;
	struct device_ident id;
	struct gen1_settings set;
	struct gen1_ota ota;
	struct device_view v;
	char *cause = NULL, *text;
	int rc_st, rc_set;

	rc_st = gen1_parse_status(body, size, &st, &cause);
	check(rc_st, &cause);
	rc_set = gen1_parse_settings(body, size, &set, &cause);
	check(rc_set, &cause);
	check(gen1_parse_ota(body, size, &ota, &cause), &cause);

	device_ident_init(&id);
	id.gen = 1;
	if (rc_set == 0)
		gen1_settings_apply(&set, &id, &st);
	device_view_init(&v);
	v.ident = &id;
	v.status = rc_st == 0 ? &st : NULL;
	v.state = DEVICE_ONLINE;
	text = device_to_json(&v, 1);
	free(text);
	device_status_done(&st);
	return 0;
}
