#ifndef EXCHANGE_JSONDOC_H
#define EXCHANGE_JSONDOC_H

#include <stddef.h>

#include "exchange/toml.h"
#include "util/str.h"

/*
 * JSON (RFC 8259) read into the document tree of exchange/toml.h, so that an import file in
 * either format is validated by one walk that can name the line of every field. Objects become
 * tables (duplicate keys are an error), integers INTEGER, other numbers FLOAT, null a table
 * flagged as null (jsondoc_is_null).
 */

/* Parses len bytes; returns the root value (caller frees with toml_free) or NULL with *cause
 * "line L, column C: what" (caller frees). Nesting is bounded by TOML_MAX_DEPTH. */
struct toml_value *jsondoc_parse(const char *buf, size_t len, char **cause);
/* 1 if v is a JSON null. */
int jsondoc_is_null(const struct toml_value *v);
/* JSON strings are written with toml_append_string (its escapes are JSON's too). */

#endif
