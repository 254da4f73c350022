#ifndef EXCHANGE_TOML_H
#define EXCHANGE_TOML_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

/*
 * A TOML 1.0 reader and the writing helpers of the TOML exporter.
 *
 * toml_parse() reads a whole document into a tree of struct toml_value. The tree is also the
 * document model of the JSON reader (exchange/jsondoc.h), so the importer validates both
 * formats with one walk and can name the line of every field. Every value knows the line and
 * column (1-based, counted in characters) where it starts.
 *
 * Date-times keep their text in a canonical form: upper-case 'T' between date and time, 'Z' for
 * a zero offset written 'z', otherwise as written (TOML has no arithmetic on them).
 */

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME, /* offset date-time */
	TOML_DATETIME_LOCAL,
	TOML_DATE_LOCAL,
	TOML_TIME_LOCAL,
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_value {
	enum toml_type type;
	int line, col; /* where the value (or table header) starts */
	char *str; /* STRING (may hold NULs: see len), date-times */
	size_t len; /* bytes of str */
	int64_t i; /* INTEGER; BOOL 0/1 */
	double f; /* FLOAT */
	size_t n, cap; /* ARRAY, TABLE: number of items */
	char **keys; /* TABLE: keys[k] names items[k] (insertion order) */
	size_t *keylens; /* TABLE: key lengths (keys may hold NULs) */
	struct toml_value **items;
	size_t *index, nindex; /* TABLE: hash of the keys (slot = k + 1, 0 free), once it grows */
	unsigned flags; /* parser bookkeeping */
};

/* Deepest nesting of arrays and inline tables the reader accepts. */
#define TOML_MAX_DEPTH 64

/*
 * Parses len bytes of TOML 1.0 (need not be NUL-terminated). Returns the root table (caller
 * frees with toml_free) or NULL with *cause = "line L, column C: what" (caller frees).
 */
struct toml_value *toml_parse(const char *buf, size_t len, char **cause);
/* Frees a tree (NULL allowed). */
void toml_free(struct toml_value *v);

/* New empty values for builders (the JSON reader); caller owns them. */
struct toml_value *toml_value_new(enum toml_type type, int line, int col);
/*
 * Where a parser last asked for a column: the next question on the same line, further on,
 * counts from there, so a document on one long line costs linear time, not quadratic.
 */
struct toml_colpos {
	const char *line_start, *at;
	int col;
};
/*
 * The column (1-based, in characters) of at on the line starting at line_start, up to end;
 * pos (zeroed before the first call) remembers the answer.
 */
int toml_column(struct toml_colpos *pos, const char *line_start, const char *at, const char *end);
/* A parse error "line L, column C: <message>" into *err unless one is there; returns -1. */
int toml_fail(char **err, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends item to an array (takes ownership). */
void toml_array_push(struct toml_value *arr, struct toml_value *item);
/* Adds key (len bytes) = item to a table (takes ownership); -1 if the key exists (item kept). */
int toml_table_add(struct toml_value *tbl, const char *key, size_t len, struct toml_value *item);

/* Member key of a table, or NULL (also when tbl is NULL or not a table). */
const struct toml_value *toml_get(const struct toml_value *tbl, const char *key);
/* The name of a type ("string", "integer", "table", ...); static. */
const char *toml_type_name(enum toml_type type);

/* Appends key as a TOML key: bare when it may be, else a basic string. */
void toml_append_key(struct strbuf *sb, const char *key);
/*
 * Appends s as a TOML basic string with its quotes: controls, DEL, C1 and the bidirectional
 * controls (U+061C, U+200E-200F, U+2028-202E, U+2066-2069) escaped, invalid UTF-8
 * replaced by U+FFFD (TOML documents are UTF-8), so any C string gives a valid value. The
 * escapes used (\" \\ \n \t \uXXXX) make it a valid JSON string as well.
 */
void toml_append_string(struct strbuf *sb, const char *s);

/* Length of the valid UTF-8 sequence (a Unicode scalar value) at p, with *cp; 0 if invalid. */
size_t toml_utf8_len(const unsigned char *p, const unsigned char *end, uint32_t *cp);
/* Appends the UTF-8 encoding of the scalar value cp. */
void toml_utf8_put(struct strbuf *sb, uint32_t cp);

#endif
