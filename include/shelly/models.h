#ifndef SHELLY_MODELS_H
#define SHELLY_MODELS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The catalogue of Shelly models: the model code a device reports (Gen1 `type` in /shelly, e.g.
 * "SHSW-PM"; Gen2+ `model`, e.g. "SNSW-001P16EU"), its generation, a readable name, what kind of
 * device it is and whether it runs on a battery. Lookups ignore case. The table itself is written
 * once, as an X-macro in models.c.
 */

/* Device classes: X(enum suffix, name shown to people and in --json). */
#define MODEL_CLASSES(X)                                                                           \
	X(UNKNOWN, "unknown")                                                                      \
	X(RELAY, "relay")                                                                          \
	X(PLUG, "plug")                                                                            \
	X(DIMMER, "dimmer")                                                                        \
	X(LIGHT, "light")                                                                          \
	X(RGBW, "rgbw")                                                                            \
	X(COVER, "cover")                                                                          \
	X(METER, "meter")                                                                          \
	X(SENSOR, "sensor")                                                                        \
	X(INPUT, "input")                                                                          \
	X(DISPLAY, "display")                                                                      \
	X(GATEWAY, "gateway")                                                                      \
	X(THERMOSTAT, "thermostat")                                                                \
	X(OTHER, "other")

enum model_class {
#define MODEL_CLASS_ENUM(id, name) MODEL_CLASS_##id,
	MODEL_CLASSES(MODEL_CLASS_ENUM)
#undef MODEL_CLASS_ENUM
	MODEL_CLASS__COUNT
};

struct model_info {
	const char *code;	/* "SHSW-PM", "SPSW-202PE16EU" (upper case, as devices report it) */
	int gen;		/* 1, 2, 3 or 4 */
	const char *name;	/* "Shelly 1PM", "Shelly Pro 2PM" */
	enum model_class cls;	/* main function; multi-profile devices list their default one */
	bool battery;		/* sleeps between wake-ups; reachable only briefly */
};

/* Name of a class ("relay"); "unknown" for out-of-range values. Static string. */
const char *models_class_name(enum model_class cls);

/* Entry for a model code (case-insensitive), or NULL if unknown. Points into a static table. */
const struct model_info *models_find(const char *code);

/* Readable name for a model code (case-insensitive), or NULL if unknown. Static string. */
const char *models_name(const char *code);

/* Generation of a model code (1-4), or 0 if unknown. */
int models_gen(const char *code);

/* Number of catalogue entries, for listing with models_at(). */
size_t models_count(void);

/* Catalogue entry i (0 <= i < models_count()), or NULL past the end. Static. */
const struct model_info *models_at(size_t i);

/*
 * Readable name for a device: the catalogue name when code is known, otherwise "Shelly <app>"
 * (Gen2+ `app`, e.g. "Plus1PM"), otherwise "Shelly <code>", otherwise "Shelly device". Device
 * strings are reduced to printable ASCII and bounded in length. Never NULL; caller frees.
 */
char *models_describe(const char *code, const char *app);

#endif
