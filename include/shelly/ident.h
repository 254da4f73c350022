#ifndef SHELLY_IDENT_H
#define SHELLY_IDENT_H

/*
 * Identification of a device of any generation: GET /shelly (Gen1 shape without "gen", Gen2+
 * shape, Wall Display shape) and Shelly.GetDeviceInfo (a bare result or a full RPC frame).
 */
#include <stddef.h>

#include "model/device.h"

/*
 * Parses an identification reply into out (initialised here). Gen1: gen 1, id derived as
 * "<prefix>-<MAC upper>" (settings hostname replaces it later, see gen1_settings_apply). Returns
 * 0, or -1 with *cause (caller frees) for invalid JSON, an RPC error frame or a reply that is not
 * a Shelly identification.
 */
int shelly_parse_ident(const char *body, size_t len, struct device_ident *out, char **cause);

/* Gen1 hostname prefix for a type code ("SHSW-1" -> "shelly1"); a derived one if unknown. Writes
 * out. */
void shelly_gen1_prefix(const char *type, char *out, size_t size);

/* Gen1 device id "<prefix>-<MAC upper>" into out; 0, or -1 (out "") if mac is not a MAC. */
int shelly_gen1_id(const char *type, const char *mac, char *out, size_t size);

#endif
