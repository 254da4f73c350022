/*
 * libFuzzer harness: the Gen2+ parsers on arbitrary bytes: Shelly.GetStatus, Shelly.GetConfig,
 * <Type>.GetStatus, Shelly.GetComponents pages, status overlays (NotifyStatus), frames and RPC
 * error envelopes; the status then goes through the shared JSON output. Nothing may crash, leak or
 * read past size; every failure must come with a cause.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/object.h"
#include "shelly/gen2.h"

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
	static const char *const keys[] = {"cover", "Switch", "light:1", "em:0", "sys", "input"};
	const char *body = (const char *)data;
	struct device_status st, copy;
	struct device_ident id;
	struct gen2_config cfg;
	struct gen2_frame fr;
	struct device_view v;
	char *cause = NULL, *text, *msg = NULL;
	int rc, code;

	rc = gen2_parse_status(body, size, &st, &cause);
	check(rc, &cause);
	if (rc < 0)
		device_status_init(&st);
	rc = gen2_parse_config(body, size, &cfg, &cause);
	check(rc, &cause);
	device_ident_init(&id);
	id.gen = 2;
	if (rc == 0)
		gen2_config_apply(&cfg, &id, &st);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		check(gen2_parse_component_status(keys[i], body, size, &st, &cause), &cause);
	check(gen2_merge_status(body, size, &st, &cause), &cause);
	check(gen2_parse_components(body, size, &st, &cfg, &code, &cause), &cause);

	rc = gen2_parse_frame(body, size, &fr, &cause);
	check(rc, &cause);
	if (rc == 0 && fr.params != NULL)
		check(gen2_merge_status(fr.params, strlen(fr.params), &st, &cause), &cause);
	if (rc == 0)
		gen2_frame_done(&fr);
	if (gen2_parse_rpc_error(body, size, &code, &msg) == 0 && msg == NULL)
		abort();
	free(msg);

	device_status_init(&copy);
	device_status_copy(&copy, &st);
	device_ident_update_from_status(&id, &copy);
	device_view_init(&v);
	v.ident = &id;
	v.status = &copy;
	text = device_to_json(&v, 0);
	free(text);
	device_status_done(&copy);
	device_status_done(&st);
	return 0;
}
