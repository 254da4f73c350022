#ifndef CLI_PRINT_H
#define CLI_PRINT_H

/*
 * Output of the one-shot modes: the shared device object (--json) or a readable summary.
 * Every device string is sanitised before it reaches the terminal (util/str str_sanitize).
 */
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "model/device.h"

/* Prints one probed device: JSON object (json) or a readable summary. ident/status may be NULL. */
void print_probe(FILE *fp, int json, const struct device_ident *ident, const char *host,
    uint16_t port, int https, enum device_state state, const char *error,
    const struct device_status *status);
/* Prints a readable summary of a status (components, WiFi, system), indented by two spaces. */
void print_status(FILE *fp, const struct device_status *st);
/* Writes s sanitised for a terminal (NULL or "" as "-"). */
void print_safe(FILE *fp, const char *s);
/* Writes "shelly-tui: " what, text sanitised (print_safe) and a newline to stderr. */
void print_cause(const char *what, const char *text);
/* Writes doc as indented JSON (util/json json_print: safe for a terminal) and a newline, then
 * frees doc. */
void print_json_doc(FILE *fp, cJSON *doc);

#endif
