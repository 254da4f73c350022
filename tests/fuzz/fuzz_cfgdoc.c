/*
 * libFuzzer harness: device configuration documents (devconfig_parse of a Gen1 /settings and a
 * Gen2+ Shelly.GetConfig reply) on arbitrary bytes. Nothing may crash, leak or read past size;
 * a failure has a printable cause; a boolean, enum or address that was read is a value the
 * field accepts (text is shown through the sanitiser, numbers as the device reports them).
 * Corpus: tests/fixtures captures (see tests/fixtures/SOURCES.md) and a response frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/devconfig.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct devconfig *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct devconfig_entry *e = &c->e[i];
		const struct devconfig_field_info *fi = devconfig_field(e->field);
		char *canon = NULL, *cause = NULL;
		if (fi == NULL)
			abort();
		if (e->state != DEVCONFIG_VALUE || fi->type == DCT_STR)
			continue;
		if (e->value == NULL)
			abort();
		if (fi->type == DCT_NUM || fi->type == DCT_INT)
			continue; /* a device may report values outside what it accepts */
		if (devconfig_check(e->field, e->value, &canon, &cause) != 0)
			abort();
		free(canon);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int gen = 1; gen <= 2; gen++) {
		struct devconfig c;
		char *cause = NULL;
		if (devconfig_parse(gen, (const char *)data, size, &c, &cause) != 0) {
			if (cause == NULL || !str_is_safe(cause))
				abort();
			free(cause);
			continue;
		}
		check(&c);
		devconfig_done(&c);
	}
	return 0;
}
