/*
 * libFuzzer harness: the OPNsense reply parsers (search rows of both backends and both shapes,
 * dnsmasq DHCP ranges, alias UUID and item, settings, write results, status and error bodies)
 * and the plan computed
 * from whatever state they accept. Nothing may crash or leak; every string that reaches a state
 * or plan is safe to print; a plan of the parsed state formats without control bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "integrations/opnsense_plan.h"
#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_safe(const char *s)
{
	if (s == NULL || !str_is_safe(s))
		abort();
}

static void
check_plan(const struct opn_state *st)
{
	struct opn_device d[] = {
	    {"a8032a123456", "Kitchen", NULL, "192.168.20.31", 0},
	    {"a8032a123457", NULL, "shellyplus1pm-a8032a123457", "10.0.0.1", 0},
	    {"a8032a123458", "***", NULL, NULL, 0},
	};
	struct opn_plan *p = opn_plan_compute(st, d, 3, 1, "shelly_devices");
	struct strbuf sb;

	strbuf_init(&sb);
	opn_plan_format(p, 0, &sb);
	opn_plan_format(p, 1, &sb);
	for (size_t i = 0; i < sb.len; i++) /* lines end in newlines; nothing else is a control */
		if (sb.buf[i] == '\n')
			sb.buf[i] = ' ';
	check_safe(strbuf_str(&sb));
	for (size_t i = 0; i < p->nitems; i++) {
		check_safe(p->items[i].hostname);
		check_safe(p->items[i].why);
		check_safe(p->items[i].uuid);
	}
	strbuf_done(&sb);
	opn_plan_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct opn_state st;
	char *cause = NULL, *out = NULL;
	int en;

	if (size > 256 * 1024)
		return 0;
	for (int b = 0; b < 2; b++) {
		memset(&st, 0, sizeof st);
		st.backend = b == 0 ? OPN_KEA : OPN_DNSMASQ;
		if ((b == 0 ? opn_parse_subnets(&st, s, size, &cause)
		            : opn_parse_ranges(&st, s, size, &cause)) != 0) {
			free(cause);
			cause = NULL;
		}
		for (size_t i = 0; i < st.nsubnets; i++)
			check_safe(st.subnets[i].text);
		if (opn_parse_records(&st, s, size, &cause) != 0) {
			free(cause);
			cause = NULL;
		}
		for (size_t i = 0; i < st.nrecords; i++) {
			check_safe(st.records[i].hostname);
			check_safe(st.records[i].descr);
			check_safe(st.records[i].macs);
		}
		if (opn_parse_alias(&st, "u", s, size, &cause) != 0) {
			free(cause);
			cause = NULL;
		} else {
			/* the setItem body carries the item's fields back: it must stay JSON */
			char *body = opn_alias_set_body(&st.alias, "shelly_devices", "10.0.0.1");
			cJSON *j = cJSON_Parse(body);

			if (j == NULL)
				abort();
			cJSON_Delete(j);
			free(body);
		}
		check_plan(&st);
		opn_state_done(&st);
		if (opn_parse_enabled(st.backend, s, size, &en, &cause) != 0)
			free(cause);
		cause = NULL;
	}
	if (opn_parse_alias_uuid(s, size, &out, &cause) == 0)
		free(out);
	else
		free(cause);
	cause = out = NULL;
	if (opn_parse_write(s, size, &out, &cause) == 0)
		free(out);
	else {
		check_safe(cause);
		free(cause);
	}
	cause = out = NULL;
	if (opn_parse_status(s, size, &out, &cause) == 0) {
		check_safe(out);
		free(out);
	} else
		free(cause);
	if (size < 200) { /* opnsense-pin: the text must parse to 64 hex digits or fail */
		char *text = xstrndup(s, size), hex[65];

		if (opn_pin_parse(text, hex) == 0 && strspn(hex, "0123456789abcdef") != 64)
			abort();
		free(text);
	}
	out = opn_parse_error(s, size);
	if (out != NULL)
		check_safe(out);
	free(out);
	return 0;
}
