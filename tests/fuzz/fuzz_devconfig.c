/*
 * libFuzzer harness: the configuration template reader (devconfig_template_parse) on arbitrary
 * bytes. Nothing may crash, leak or read past size; a failure comes with a printable cause; a
 * template that was read renders with every variable set, and what devconfig_template_write
 * makes of it reads back to the same number of fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/devconfig.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct devconfig_vars vars = {
	    "Name", "shellyplus1-a1", "a1b2c3d4e5f6", "7", "grp"};
	struct devconfig t, r, back;
	char *cause = NULL, *buf = NULL;
	size_t blen = 0;
	FILE *fp;

	if (devconfig_template_parse((const char *)data, size, &t, &cause) != 0) {
		if (cause == NULL || cause[0] == '\0' || !str_is_safe(cause))
			abort();
		free(cause);
		return 0;
	}
	if (devconfig_render(&t, &vars, &r, &cause) == 0) {
		fp = open_memstream(&buf, &blen);
		if (fp == NULL)
			abort();
		devconfig_template_write(&r, NULL, fp);
		fclose(fp);
		/* Secrets are never written out. */
		size_t kept = 0;
		for (size_t i = 0; i < r.n; i++)
			kept += !(devconfig_field(r.e[i].field)->flags & DCF_SECRET);
		if (devconfig_template_parse(buf, blen, &back, &cause) != 0 || back.n != kept)
			abort();
		devconfig_done(&back);
		free(buf);
		devconfig_done(&r);
	} else {
		if (cause == NULL || !str_is_safe(cause))
			abort();
		free(cause);
	}
	devconfig_done(&t);
	return 0;
}
