/*
 * libFuzzer harness: shelly_parse_ident() (GET /shelly, Shelly.GetDeviceInfo) on arbitrary
 * bytes, then the identity through the shared JSON output. Nothing may crash, leak or read past
 * size; a failure must come with a cause, a success with a generation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/object.h"
#include "shelly/ident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device_ident id;
	struct device_view v;
	char *cause = NULL, *text;

	if (shelly_parse_ident((const char *)data, size, &id, &cause) < 0) {
		if (cause == NULL)
			abort();
		free(cause);
		return 0;
	}
	if (cause != NULL || id.gen < 1)
		abort();
	device_view_init(&v);
	v.ident = &id;
	text = device_to_json(&v, 0);
	free(text);
	return 0;
}
