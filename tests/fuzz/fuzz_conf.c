/*
 * libFuzzer harness: the configuration parser (conf_load_buffer) on arbitrary bytes. Nothing
 * may crash, leak or read past size; a failure must come with a cause whose lines are safe to
 * print, and every numeric option must stay within its bounds whatever was read. `source`
 * lines resolve relative to the working directory (the input is named "fuzz"); files that are
 * not regular are refused by the parser, so nothing blocks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless every line of cause is non-empty and printable. */
static void
check_cause(char *cause)
{
	char *line, *save = NULL;

	if (cause == NULL || cause[0] == '\0')
		abort();
	for (line = strtok_r(cause, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (!str_is_safe(line))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct conf_option_info *o;
	const struct conf_device *d;
	struct conf *cfg = conf_new();
	char *cause = NULL;
	uint64_t v;
	size_t n, i;
	int id, rc;

	rc = conf_load_buffer(cfg, "fuzz", (const char *)data, size, &cause);
	if (rc != 0)
		check_cause(cause);
	else if (cause != NULL)
		abort();
	free(cause);
	for (id = 0; id < OPT__COUNT; id++) {
		o = conf_option_info(id);
		switch (o->type) {
		case OT_DURATION:
			v = conf_get_ms(cfg, id);
			break;
		case OT_INT:
			v = (uint64_t)conf_get_int(cfg, id);
			break;
		case OT_SIZE:
			v = conf_get_size(cfg, id);
			break;
		default:
			continue;
		}
		if (v < o->min || v > o->max)
			abort();
	}
	d = conf_devices(cfg, &n);
	for (i = 0; i < n; i++) {
		if (d[i].port == 0 || d[i].port > 65535 || !str_is_safe(d[i].name))
			abort();
		if (conf_find_device(cfg, d[i].name) != &d[i])
			abort();
	}
	conf_ranges(cfg, &n);
	conf_find_credentials(cfg, "a8032ab12345", "shelly1-a8032ab12345", "kitchen");
	conf_free(cfg);
	return 0;
}
