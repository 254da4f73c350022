#ifndef UTIL_JSON_H
#define UTIL_JSON_H

/*
 * Bounded JSON parsing and typed getters that tolerate the quirks of device firmware:
 * numbers sent as strings ("12.5"), booleans sent as "true"/"false" strings or 0/1, and null
 * for "unknown". A missing key, null or a value of the wrong shape reads as unknown: NAN for
 * numbers, -1 for booleans, NULL for strings. Nothing here invents a value.
 *
 * cJSON trees returned by json_parse() must not leave the function that parsed them (STYLE.md):
 * copy what you need into typed structs and cJSON_Delete() the tree.
 */
#include <stddef.h>

#include <cjson/cJSON.h>

/* Default bound on nesting ([ and { levels); device replies nest at most ~6 levels. */
#define JSON_MAX_DEPTH 32

/*
 * The bound a max_depth <= 0 stands for below: the json-max-depth option (1-256), which the
 * front end sets when it reads the configuration and again on every reload; JSON_MAX_DEPTH
 * until then. Process-wide (one loop, one thread). Device replies are parsed with it.
 */
void json_set_max_depth(int max_depth);

/*
 * Parses exactly len bytes (need not be NUL-terminated). Rejects empty input, NUL bytes, nesting
 * deeper than max_depth (<= 0: the json_set_max_depth bound), invalid JSON and trailing garbage,
 * with a readable *cause (caller frees). Returns a tree the caller frees with cJSON_Delete, or
 * NULL.
 */
cJSON *json_parse(const char *buf, size_t len, int max_depth, char **cause);
/* Same, for a reply that must be an object: NULL with *cause "what is not a JSON object" else. */
cJSON *json_parse_object(const char *buf, size_t len, int max_depth, const char *what,
    char **cause);

/* Nesting depth of the text (brackets outside strings); -1 if it exceeds max_depth. */
int json_depth(const char *buf, size_t len, int max_depth);

/* Item -> number: JSON number or numeric string (trimmed, finite); NAN otherwise. */
double json_number(const cJSON *item);
/* Item -> tri-state: true/false, "true"/"false" (any case), 1/0, "1"/"0"; -1 otherwise. */
int json_bool(const cJSON *item);
/* Item -> string inside the tree (not a copy), NULL unless a JSON string. */
const char *json_string(const cJSON *item);
/* Item -> integer: integral number or integral numeric string in [lo, hi]; 0 ok, -1 unknown. */
int json_int(const cJSON *item, long long lo, long long hi, long long *out);

/* Member lookup (case-sensitive, NULL-safe on obj) followed by the conversion above. */
const cJSON *json_get(const cJSON *obj, const char *key);
double json_get_number(const cJSON *obj, const char *key);
int json_get_bool(const cJSON *obj, const char *key);
const char *json_get_string(const cJSON *obj, const char *key);
int json_get_int(const cJSON *obj, const char *key, long long lo, long long hi, long long *out);
/* Member if it is an object / array, else NULL. */
const cJSON *json_get_object(const cJSON *obj, const char *key);
const cJSON *json_get_array(const cJSON *obj, const char *key);

/*
 * Copies a string into dst[size] (always NUL-terminated, truncated at a UTF-8 character
 * boundary). NULL src gives "". Returns 1 if src was non-NULL, 0 otherwise.
 */
int json_strlcpy(char *dst, const char *src, size_t size);
/* json_strlcpy(dst, json_get_string(obj, key), size); returns 1 if the member was a string. */
int json_get_strbuf(const cJSON *obj, const char *key, char *dst, size_t size);
/* Adds s as member key of o, or null when s is NULL or "" (a text that is not known). */
void json_add_text(cJSON *o, const char *key, const char *s);

/*
 * Prints a tree as JSON text safe for a terminal (pretty: indented): like cJSON_Print, but DEL
 * and the C1 controls U+0080..U+009F (which cJSON leaves raw, and which a terminal may take for
 * escape sequences) are written \u007f, \u0080 ..., and so are the bidirectional controls and
 * separators U+061C, U+200E-200F, U+2028-202E and U+2066-2069 (which reorder what a terminal
 * shows). Each maximal invalid UTF-8 subsequence (cJSON copies bytes as they are) becomes
 * U+FFFD, as str_sanitize does, so the text is always valid UTF-8 and JSON. Returns malloc'd
 * text; caller frees.
 */
char *json_print(const cJSON *item, int pretty);
/* Returns doc as compact JSON text (caller frees) and frees doc; aborts when out of memory. */
char *json_compact_free(cJSON *doc);

#endif
