#include "shelly/models.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/xmalloc.h"

/*
 * X(code, gen, name, class, battery). Codes are what /shelly reports: `type` on Gen1, `model` on
 * Gen2+. Sources: the fixtures in tests/fixtures (every model there is listed), the Shelly API
 * docs and the model list of the aioshelly library (home-assistant-libs/aioshelly const.py).
 * Several codes are hardware revisions of one product and share its name.
 */
#define MODELS(X)                                                                                  \
	/* Gen1 (ESP8266, HTTP + CoIoT) */                                                         \
	X("SHSW-1", 1, "Shelly 1", RELAY, false)                                                   \
	X("SHSW-L", 1, "Shelly 1L", RELAY, false)                                                  \
	X("SHSW-PM", 1, "Shelly 1PM", RELAY, false)                                                \
	X("SHSW-21", 1, "Shelly 2", RELAY, false)                                                  \
	X("SHSW-25", 1, "Shelly 2.5", RELAY, false)                                                \
	X("SHSW-44", 1, "Shelly 4Pro", RELAY, false)                                               \
	X("SHAIR-1", 1, "Shelly Air", RELAY, false)                                                \
	X("SHUNI-1", 1, "Shelly UNI", RELAY, false)                                                \
	X("SHPLG-1", 1, "Shelly Plug", PLUG, false)                                                \
	X("SHPLG2-1", 1, "Shelly Plug E", PLUG, false)                                             \
	X("SHPLG-S", 1, "Shelly Plug S", PLUG, false)                                              \
	X("SHPLG-U1", 1, "Shelly Plug US", PLUG, false)                                            \
	X("SHDM-1", 1, "Shelly Dimmer", DIMMER, false)                                             \
	X("SHDM-2", 1, "Shelly Dimmer 2", DIMMER, false)                                           \
	X("SHDIMW-1", 1, "Shelly Dimmer W1", DIMMER, false)                                        \
	X("SHBDUO-1", 1, "Shelly Duo", LIGHT, false)                                               \
	X("SHBVIN-1", 1, "Shelly Vintage", LIGHT, false)                                           \
	X("SHVIN-1", 1, "Shelly Vintage", LIGHT, false)                                            \
	X("SHSPOT-1", 1, "Shelly Spot", LIGHT, false)                                              \
	X("SHSPOT-2", 1, "Shelly Spot 2", LIGHT, false)                                            \
	X("SHBLB-1", 1, "Shelly Bulb", RGBW, false)                                                \
	X("SHCB-1", 1, "Shelly Color Bulb", RGBW, false)                                           \
	X("SHCL-255", 1, "Shelly Color", RGBW, false)                                              \
	X("SHRGBW2", 1, "Shelly RGBW2", RGBW, false)                                               \
	X("SHRGBWW-01", 1, "Shelly RGBW", RGBW, false)                                             \
	X("SHEM", 1, "Shelly EM", METER, false)                                                    \
	X("SHEM-3", 1, "Shelly 3EM", METER, false)                                                 \
	X("SHHT-1", 1, "Shelly H&T", SENSOR, true)                                                 \
	X("SHWT-1", 1, "Shelly Flood", SENSOR, true)                                               \
	X("SHDW-1", 1, "Shelly Door/Window", SENSOR, true)                                         \
	X("SHDW-2", 1, "Shelly Door/Window 2", SENSOR, true)                                       \
	X("SHMOS-01", 1, "Shelly Motion", SENSOR, true)                                            \
	X("SHMOS-02", 1, "Shelly Motion 2", SENSOR, true)                                          \
	X("SHSM-01", 1, "Shelly Smoke", SENSOR, true)                                              \
	X("SHSM-02", 1, "Shelly Smoke 2", SENSOR, true)                                            \
	X("SHGS-1", 1, "Shelly Gas", SENSOR, false)                                                \
	X("SHSEN-1", 1, "Shelly Sense", SENSOR, false)                                             \
	X("SHBTN-1", 1, "Shelly Button1", INPUT, true)                                             \
	X("SHBTN-2", 1, "Shelly Button1", INPUT, true)                                             \
	X("SHIX3-1", 1, "Shelly i3", INPUT, false)                                                 \
	X("SHTRV-01", 1, "Shelly TRV", THERMOSTAT, true)                                           \
	/* Gen2: Plus (SN...) */                                                                   \
	X("SNSW-001X16EU", 2, "Shelly Plus 1", RELAY, false)                                       \
	X("SNSW-001X15UL", 2, "Shelly Plus 1 UL", RELAY, false)                                    \
	X("SNSW-001X8EU", 2, "Shelly Plus 1 Mini", RELAY, false)                                   \
	X("SNSW-001P16EU", 2, "Shelly Plus 1PM", RELAY, false)                                     \
	X("SNSW-001P15UL", 2, "Shelly Plus 1PM UL", RELAY, false)                                  \
	X("SNSW-001P8EU", 2, "Shelly Plus 1PM Mini", RELAY, false)                                 \
	X("SNSW-002P16EU", 2, "Shelly Plus 2PM", RELAY, false)                                     \
	X("SNSW-102P16EU", 2, "Shelly Plus 2PM", RELAY, false)                                     \
	X("SNSW-002P15UL", 2, "Shelly Plus 2PM UL", RELAY, false)                                  \
	X("SNSN-0043X", 2, "Shelly Plus Uni", RELAY, false)                                        \
	X("SNPL-00110IT", 2, "Shelly Plus Plug IT", PLUG, false)                                   \
	X("SNPL-00112EU", 2, "Shelly Plus Plug S", PLUG, false)                                    \
	X("SNPL-10112EU", 2, "Shelly Plus Plug S", PLUG, false)                                    \
	X("SNPL-00112UK", 2, "Shelly Plus Plug UK", PLUG, false)                                   \
	X("SNPL-00116US", 2, "Shelly Plus Plug US", PLUG, false)                                   \
	X("SNDM-0013US", 2, "Shelly Plus Wall Dimmer", DIMMER, false)                              \
	X("SNDM-00100WW", 2, "Shelly Plus 0-10V Dimmer", DIMMER, false)                            \
	X("SNGW-0A11WW010", 2, "Shelly Plus 10V", DIMMER, false)                                   \
	X("SNDC-0D4P10WW", 2, "Shelly Plus RGBW PM", RGBW, false)                                  \
	X("SNPM-001PCEU16", 2, "Shelly Plus PM Mini", METER, false)                                \
	X("SNSN-0013A", 2, "Shelly Plus H&T", SENSOR, true)                                        \
	X("SNSN-0031Z", 2, "Shelly Plus Smoke", SENSOR, true)                                      \
	X("SNSN-0024X", 2, "Shelly Plus i4", INPUT, false)                                         \
	X("SNSN-0D24X", 2, "Shelly Plus i4DC", INPUT, false)                                       \
	X("SNGW-BT01", 2, "Shelly BLU Gateway", GATEWAY, false)                                    \
	/* Gen2: Pro (SP...) */                                                                    \
	X("SPSW-001XE16EU", 2, "Shelly Pro 1", RELAY, false)                                       \
	X("SPSW-101XE16EU", 2, "Shelly Pro 1", RELAY, false)                                       \
	X("SPSW-201XE16EU", 2, "Shelly Pro 1", RELAY, false)                                       \
	X("SPSW-201XE15UL", 2, "Shelly Pro 1 UL", RELAY, false)                                    \
	X("SPSW-001PE16EU", 2, "Shelly Pro 1PM", RELAY, false)                                     \
	X("SPSW-101PE16EU", 2, "Shelly Pro 1PM", RELAY, false)                                     \
	X("SPSW-201PE16EU", 2, "Shelly Pro 1PM", RELAY, false)                                     \
	X("SPSW-201PE15UL", 2, "Shelly Pro 1PM UL", RELAY, false)                                  \
	X("SPSW-002XE16EU", 2, "Shelly Pro 2", RELAY, false)                                       \
	X("SPSW-102XE16EU", 2, "Shelly Pro 2", RELAY, false)                                       \
	X("SPSW-202XE16EU", 2, "Shelly Pro 2", RELAY, false)                                       \
	X("SPSW-202XE12UL", 2, "Shelly Pro 2 UL", RELAY, false)                                    \
	X("SPSW-002PE16EU", 2, "Shelly Pro 2PM", RELAY, false)                                     \
	X("SPSW-102PE16EU", 2, "Shelly Pro 2PM", RELAY, false)                                     \
	X("SPSW-202PE16EU", 2, "Shelly Pro 2PM", RELAY, false)                                     \
	X("SPSW-003XE16EU", 2, "Shelly Pro 3", RELAY, false)                                       \
	X("SPSW-004PE16EU", 2, "Shelly Pro 4PM", RELAY, false)                                     \
	X("SPSW-104PE16EU", 2, "Shelly Pro 4PM", RELAY, false)                                     \
	X("SPSW-204PE16EU", 2, "Shelly Pro 4PM", RELAY, false)                                     \
	X("SPSH-002PE16EU", 2, "Shelly Pro Dual Cover PM", COVER, false)                           \
	X("SPDM-001PE01EU", 2, "Shelly Pro Dimmer 1PM", DIMMER, false)                             \
	X("SPDM-002PE01EU", 2, "Shelly Pro Dimmer 2PM", DIMMER, false)                             \
	X("SPCC-001PE10EU", 2, "Shelly Pro Dimmer 0/1-10V PM", DIMMER, false)                      \
	X("SPDC-0D5PE16EU", 2, "Shelly Pro RGBWW PM", RGBW, false)                                 \
	X("SPEM-002CEBEU50", 2, "Shelly Pro EM", METER, false)                                     \
	X("SPEM-003CEBEU", 2, "Shelly Pro 3EM", METER, false)                                      \
	X("SPEM-003CEBEU120", 2, "Shelly Pro 3EM", METER, false)                                   \
	X("SPEM-003CEBEU63", 2, "Shelly Pro 3EM 3CT63", METER, false)                              \
	X("SPEM-003CEBEU400", 2, "Shelly Pro 3EM-400", METER, false)                               \
	/* Gen2: Wall Display (SA..., Android based) */                                            \
	X("SAWD-0A1XX10EU1", 2, "Shelly Wall Display", DISPLAY, false)                             \
	X("SAWD-2A1XX10EU1", 2, "Shelly Wall Display X2", DISPLAY, false)                          \
	X("SAWD-5A1XX10EU0", 2, "Shelly Wall Display X2i", DISPLAY, false)                         \
	X("SAWD-3A1XE10EU2", 2, "Shelly Wall Display XL", DISPLAY, false)                          \
	/* Gen3 (S3...) */                                                                         \
	X("S3SW-001X16EU", 3, "Shelly 1 Gen3", RELAY, false)                                       \
	X("S3SW-001X8EU", 3, "Shelly 1 Mini Gen3", RELAY, false)                                   \
	X("S3SW-0A1X1EUL", 3, "Shelly 1L Gen3", RELAY, false)                                      \
	X("S3SW-001P16EU", 3, "Shelly 1PM Gen3", RELAY, false)                                     \
	X("S3SW-001P8EU", 3, "Shelly 1PM Mini Gen3", RELAY, false)                                 \
	X("S3SW-0A2X4EUL", 3, "Shelly 2L Gen3", RELAY, false)                                      \
	X("S3SW-002P16EU", 3, "Shelly 2PM Gen3", RELAY, false)                                     \
	X("S3SH-0A2P4EU", 3, "Shelly Shutter", COVER, false)                                       \
	X("S3PL-00112EU", 3, "Shelly Plug S Gen3", PLUG, false)                                    \
	X("S3PL-10112EU", 3, "Shelly AZ Plug", PLUG, false)                                        \
	X("S3PL-20112EU", 3, "Shelly Outdoor Plug S Gen3", PLUG, false)                            \
	X("S3PL-30110EU", 3, "Shelly Plug M Gen3", PLUG, false)                                    \
	X("S3PL-30116EU", 3, "Shelly Plug PM Gen3", PLUG, false)                                   \
	X("S3DM-0A101WWL", 3, "Shelly Dimmer Gen3", DIMMER, false)                                 \
	X("S3DM-0010WW", 3, "Shelly Dimmer 0/1-10V PM Gen3", DIMMER, false)                        \
	X("S3DM-0A1WW", 3, "Shelly DALI Dimmer Gen3", DIMMER, false)                               \
	X("S3BL-D010009AEU", 3, "Shelly Duo Bulb Gen3", LIGHT, false)                              \
	X("S3BL-C010007AEU", 3, "Shelly Multicolor Bulb Gen3", RGBW, false)                        \
	X("S3EM-002CXCEU", 3, "Shelly EM Gen3", METER, false)                                      \
	X("S3EM-003CXCEU63", 3, "Shelly 3EM-63 Gen3", METER, false)                                \
	X("S3PM-001PCEU16", 3, "Shelly PM Mini Gen3", METER, false)                                \
	X("S3SN-0U12A", 3, "Shelly H&T Gen3", SENSOR, true)                                        \
	X("S3SN-1U12A", 3, "Shelly AZ H&T", SENSOR, true)                                          \
	X("S3SN-0U53X", 3, "Shelly Pill", SENSOR, false)                                           \
	X("S3SN-0024X", 3, "Shelly i4 Gen3", INPUT, false)                                         \
	X("S3GW-1DBT001", 3, "Shelly BLU Gateway Gen3", GATEWAY, false)                            \
	X("S3MX-0A", 3, "Shelly X MOD1", OTHER, false)                                             \
	/* Gen4 (S4...) */                                                                         \
	X("S4SW-001X16EU", 4, "Shelly 1 Gen4", RELAY, false)                                       \
	X("S4SW-001X8EU", 4, "Shelly 1 Mini Gen4", RELAY, false)                                   \
	X("S4SW-0A1X1EUL", 4, "Shelly 1L Gen4", RELAY, false)                                      \
	X("S4SW-001P16EU", 4, "Shelly 1PM Gen4", RELAY, false)                                     \
	X("S4SW-001P8EU", 4, "Shelly 1PM Mini Gen4", RELAY, false)                                 \
	X("S4SW-0A2X4EUL", 4, "Shelly 2L Gen4", RELAY, false)                                      \
	X("S4SW-002P16EU", 4, "Shelly 2PM Gen4", RELAY, false)                                     \
	X("S4PL-00116US", 4, "Shelly Plug US Gen4", PLUG, false)                                   \
	X("S4PL-00416EU", 4, "Shelly Power Strip 4 Gen4", PLUG, false)                             \
	X("S4PL-10416EU", 4, "Shelly Power Strip 4 Gen4", PLUG, false)                             \
	X("S4PL-00415US", 4, "Shelly Power Strip 4 US Gen4", PLUG, false)                          \
	X("S4DM-0A101WWL", 4, "Shelly Dimmer Gen4", DIMMER, false)                                 \
	X("S4EM-001PXCEU16", 4, "Shelly EM Mini Gen4", METER, false)                               \
	X("S4SN-0071A", 4, "Shelly Flood Gen4", SENSOR, true)                                      \
	X("S4SN-0A24X", 4, "Shelly i4 Gen4", INPUT, false)

static const struct model_info models_table[] = {
#define MODEL_ENTRY(code, gen, name, cls, battery) {code, gen, name, MODEL_CLASS_##cls, battery},
	MODELS(MODEL_ENTRY)
#undef MODEL_ENTRY
};

/* The length of each code: models_find compares a code only with those of its length. */
static const unsigned char models_code_len[] = {
#define MODEL_LEN(code, gen, name, cls, battery) sizeof(code) - 1,
	MODELS(MODEL_LEN)
#undef MODEL_LEN
};

static const char *const model_class_names[] = {
#define MODEL_CLASS_NAME(id, name) name,
	MODEL_CLASSES(MODEL_CLASS_NAME)
#undef MODEL_CLASS_NAME
};

/* Longest piece of a device string kept in a fallback name. */
#define DESCRIBE_MAX 48

const char *
models_class_name(enum model_class cls)
{
	if ((int)cls < 0 || cls >= MODEL_CLASS__COUNT)
		return model_class_names[MODEL_CLASS_UNKNOWN];
	return model_class_names[cls];
}

const struct model_info *
models_find(const char *code)
{
	size_t n;

	if (code == NULL || *code == '\0')
		return NULL;
	/* The poller looks up every device's model at load: a strcasecmp of each of the table's
	 * codes was most of the load's own work. */
	n = strlen(code);
	for (size_t i = 0; i < sizeof models_table / sizeof models_table[0]; i++) {
		if (models_code_len[i] == n && strcasecmp(models_table[i].code, code) == 0)
			return &models_table[i];
	}
	return NULL;
}

const char *
models_name(const char *code)
{
	const struct model_info *m = models_find(code);

	return m != NULL ? m->name : NULL;
}

int
models_gen(const char *code)
{
	const struct model_info *m = models_find(code);

	return m != NULL ? m->gen : 0;
}

size_t
models_count(void)
{
	return sizeof models_table / sizeof models_table[0];
}

const struct model_info *
models_at(size_t i)
{
	if (i >= models_count())
		return NULL;
	return &models_table[i];
}

/*
 * Copies at most DESCRIBE_MAX printable ASCII characters of s into buf (size > DESCRIBE_MAX),
 * dropping everything else (control characters, escape sequences, non-ASCII) and trimming
 * spaces at both ends. Returns the length kept.
 */
static size_t
describe_clean(const char *s, char *buf)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n < DESCRIBE_MAX; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7e)
			continue;
		if (c == ' ' && n == 0)
			continue;
		buf[n++] = (char)c;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return n;
}

char *
models_describe(const char *code, const char *app)
{
	char buf[DESCRIBE_MAX + 1];
	const char *name = models_name(code);

	if (name != NULL)
		return xstrdup(name);
	if (describe_clean(app, buf) > 0)
		return xasprintf("Shelly %s", buf);
	if (describe_clean(code, buf) > 0)
		return xasprintf("Shelly %s", buf);
	return xstrdup("Shelly device");
}
