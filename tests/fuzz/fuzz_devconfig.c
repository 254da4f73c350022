/*
 * libFuzzer harness: the configuration template and snapshot readers (devconfig_template_parse,
 * devconfig_snapshot_parse) on arbitrary bytes. Nothing may crash, leak or read past size; a
 * failure comes with a printable cause; a template that was read renders with every variable
 * set, and what devconfig_template_write makes of it reads back to the same number of fields.
 * The input up to its first NUL, as a device's text value, is written and must read back as
 * the same bytes, from one printable line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/devconfig.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The round trip of one string value: written, it reads back byte for byte. */
static void
roundtrip(const uint8_t *data, size_t size)
{
	char *v = strndup((const char *)data, size < 512 ? size : 512), *buf = NULL, *cause = NULL;
	struct devconfig c, back;
	size_t blen = 0, lines = 0;
	FILE *fp;

	if (v == NULL)
		abort();
	devconfig_init(&c);
	devconfig_set(&c, DCFG_SWITCH_NAME, 0, DEVCONFIG_VALUE, v);
	if ((fp = open_memstream(&buf, &blen)) == NULL)
		abort();
	devconfig_template_write(&c, NULL, fp);
	fclose(fp);
	for (size_t i = 0; i < blen; i++)
		lines += buf[i] == '\n';
	if (lines != 2 || devconfig_snapshot_parse(buf, blen, &back, &cause) != 0 || back.n != 1 ||
	    back.e[0].value == NULL || strcmp(back.e[0].value, v) != 0)
		abort();
	devconfig_done(&back);
	devconfig_done(&c);
	free(buf);
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct devconfig_vars vars = {
	    "Name", "shellyplus1-a1", "a1b2c3d4e5f6", "7", "grp"};
	struct devconfig t, r, back;
	char *cause = NULL, *buf = NULL;
	size_t blen = 0;
	FILE *fp;

	roundtrip(data, size);
	if (devconfig_snapshot_parse((const char *)data, size, &t, &cause) == 0)
		devconfig_done(&t);
	else if (cause == NULL || cause[0] == '\0' || !str_is_safe(cause))
		abort();
	free(cause);
	cause = NULL;
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
