/*
 * TOML 1.0 reader (recursive descent over the bytes) and writing helpers.
 *
 * Table rules of TOML 1.0 are tracked with flags on each table: who created it (a [header], a
 * header path on the way to another table, a dotted key, an inline table) decides whether a
 * later header or dotted key may add to it. Arrays remember whether they are arrays of tables
 * ([[x]], extendable) or static values (sealed).
 */
#include "exchange/toml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xmalloc.h"

enum {
	F_EXPLICIT = 1u << 0, /* defined by [header] */
	F_IMPLICIT = 1u << 1, /* created on a header path */
	F_DOTTED = 1u << 2, /* created by a dotted key */
	F_SEALED = 1u << 3, /* inline table or static array: complete */
	F_AOT = 1u << 4, /* array of tables */
};

struct parser {
	const char *buf, *p, *end;
	int line;
	const char *line_start;
	struct toml_colpos colpos;
	char *err;
	int depth; /* of the value being read: TOML_MAX_DEPTH bounds it */
	int cur_depth; /* of cur, the table of the last header (its key's parts) */
	struct toml_value *root, *cur;
};

int
toml_column(struct toml_colpos *pos, const char *line_start, const char *at, const char *end)
{
	const char *q = line_start;
	int col = 1;

	if (at > end)
		at = end;
	if (pos->line_start == line_start && pos->at != NULL && pos->at <= at)
		q = pos->at, col = pos->col;
	for (; q < at; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			col++;
	pos->line_start = line_start;
	pos->at = at;
	pos->col = col;
	return col;
}

int
toml_fail(char **err, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	if (*err != NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*err = xasprintf("line %d, column %d: %s", line, col, msg);
	return -1;
}

/* A parse error at at, on the current line. */
#define fail_at(ps, at, ...)              \
	toml_fail(&(ps)->err, (ps)->line, \
	    toml_column(&(ps)->colpos, (ps)->line_start, (at), (ps)->end), __VA_ARGS__)

#define FAIL(ps, ...) fail_at((ps), (ps)->p, __VA_ARGS__)

struct toml_value *
toml_value_new(enum toml_type type, int line, int col)
{
	struct toml_value *v = xcalloc(1, sizeof *v);

	v->type = type;
	v->line = line;
	v->col = col;
	return v;
}

void
toml_free(struct toml_value *v)
{
	if (v == NULL)
		return;
	for (size_t k = 0; k < v->n; k++) {
		toml_free(v->items[k]);
		if (v->keys != NULL)
			free(v->keys[k]);
	}
	free(v->items);
	free(v->keys);
	free(v->keylens);
	free(v->index);
	free(v->str);
	free(v);
}

static void
grow(struct toml_value *v)
{
	if (v->n < v->cap)
		return;
	v->cap = v->cap ? v->cap * 2 : 4;
	v->items = xreallocarray(v->items, v->cap, sizeof *v->items);
	if (v->type == TOML_TABLE) {
		v->keys = xreallocarray(v->keys, v->cap, sizeof *v->keys);
		v->keylens = xreallocarray(v->keylens, v->cap, sizeof *v->keylens);
	}
}

void
toml_array_push(struct toml_value *arr, struct toml_value *item)
{
	grow(arr);
	arr->items[arr->n++] = item;
}

/*
 * A table of more than INDEX_MIN keys gets a hash index (open addressing, at most half full), so
 * that finding a key, and so adding one (keys are unique), does not scan the table: a settings
 * table of 300 000 keys took minutes to read when every addition compared every key before it.
 */
#define INDEX_MIN 8

static size_t
key_hash(const char *key, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * UINT64_C(1099511628211);
	return (size_t)h;
}

static void
index_put(struct toml_value *tbl, size_t k)
{
	size_t mask = tbl->nindex - 1, h = key_hash(tbl->keys[k], tbl->keylens[k]) & mask;

	while (tbl->index[h] != 0)
		h = (h + 1) & mask;
	tbl->index[h] = k + 1;
}

static void
index_build(struct toml_value *tbl)
{
	size_t want = 32;

	while (want < tbl->n * 2 + 2)
		want *= 2;
	free(tbl->index);
	tbl->index = xcalloc(want, sizeof *tbl->index);
	tbl->nindex = want;
	for (size_t k = 0; k < tbl->n; k++)
		index_put(tbl, k);
}

static struct toml_value *
table_find(const struct toml_value *tbl, const char *key, size_t len)
{
	if (tbl->index != NULL) {
		size_t mask = tbl->nindex - 1, h = key_hash(key, len) & mask, slot;

		for (; (slot = tbl->index[h]) != 0; h = (h + 1) & mask)
			if (tbl->keylens[slot - 1] == len &&
			    memcmp(tbl->keys[slot - 1], key, len) == 0)
				return tbl->items[slot - 1];
		return NULL;
	}
	for (size_t k = 0; k < tbl->n; k++)
		if (tbl->keylens[k] == len && memcmp(tbl->keys[k], key, len) == 0)
			return tbl->items[k];
	return NULL;
}

int
toml_table_add(struct toml_value *tbl, const char *key, size_t len, struct toml_value *item)
{
	char *copy;

	if (table_find(tbl, key, len) != NULL)
		return -1;
	grow(tbl);
	copy = xmalloc(len + 1);
	memcpy(copy, key, len);
	copy[len] = '\0';
	tbl->keys[tbl->n] = copy;
	tbl->keylens[tbl->n] = len;
	tbl->items[tbl->n++] = item;
	if (tbl->index != NULL && tbl->n * 2 <= tbl->nindex)
		index_put(tbl, tbl->n - 1);
	else if (tbl->n > INDEX_MIN)
		index_build(tbl);
	return 0;
}

const struct toml_value *
toml_get(const struct toml_value *tbl, const char *key)
{
	if (tbl == NULL || tbl->type != TOML_TABLE)
		return NULL;
	return table_find(tbl, key, strlen(key));
}

const char *
toml_type_name(enum toml_type type)
{
	static const char *const names[] = {
	    "string",
	    "integer",
	    "float",
	    "bool",
	    "datetime",
	    "datetime-local",
	    "date-local",
	    "time-local",
	    "array",
	    "table",
	};

	return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* ---- UTF-8 and whitespace ---- */

size_t
toml_utf8_len(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (p >= end)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, c = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, c = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, c = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int
at_end(const struct parser *ps)
{
	return ps->p >= ps->end;
}

static int
peek(const struct parser *ps, size_t off)
{
	return ps->p + off < ps->end ? (unsigned char)ps->p[off] : -1;
}

static int
lookahead(const struct parser *ps, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

static void
skip_ws(struct parser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* At a newline (LF or CRLF)? Returns its length, 0 if not; a lone CR is an error. */
static int
newline_len(struct parser *ps)
{
	if (peek(ps, 0) == '\n')
		return 1;
	if (peek(ps, 0) == '\r') {
		if (peek(ps, 1) == '\n')
			return 2;
		return FAIL(ps, "carriage return not followed by a newline");
	}
	return 0;
}

static void
take_newline(struct parser *ps, int n)
{
	ps->p += n;
	ps->line++;
	ps->line_start = ps->p;
}

/* Checks one character of text in a comment or string: valid UTF-8, no control but tab. */
static int
text_char(struct parser *ps, size_t *len)
{
	uint32_t cp;

	*len = toml_utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end, &cp);
	if (*len == 0)
		return FAIL(ps, "invalid UTF-8");
	if ((cp < 0x20 && cp != '\t') || cp == 0x7f)
		return FAIL(ps, "control character U+%04X must be escaped", (unsigned)cp);
	return 0;
}

static int
skip_comment(struct parser *ps)
{
	size_t n;

	if (peek(ps, 0) != '#')
		return 0;
	ps->p++;
	while (!at_end(ps) && *ps->p != '\n') {
		if (*ps->p == '\r' && peek(ps, 1) == '\n')
			break;
		if (text_char(ps, &n) < 0)
			return -1;
		ps->p += n;
	}
	return 0;
}

/* Skips whitespace, comments and newlines (inside arrays). */
static int
skip_ws_nl(struct parser *ps)
{
	int n;

	for (;;) {
		skip_ws(ps);
		if (skip_comment(ps) < 0 || (n = newline_len(ps)) < 0)
			return -1;
		if (n == 0)
			return 0;
		take_newline(ps, n);
	}
}

/* ---- strings ---- */

void
toml_utf8_put(struct strbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80)
		b[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (char)(0xc0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		b[0] = (char)(0xe0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (char)(0xf0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	strbuf_append_len(sb, b, n);
}

static int
hex_escape(struct parser *ps, int digits, struct strbuf *sb)
{
	uint32_t cp = 0;
	int d;

	for (int k = 0; k < digits; k++) {
		d = peek(ps, 0);
		if (d >= '0' && d <= '9')
			d -= '0';
		else if (d >= 'a' && d <= 'f')
			d -= 'a' - 10;
		else if (d >= 'A' && d <= 'F')
			d -= 'A' - 10;
		else
			return FAIL(
			    ps, "\\%c needs %d hex digits", digits == 4 ? 'u' : 'U', digits);
		cp = cp * 16 + (uint32_t)d;
		ps->p++;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return FAIL(ps, "escape is not a Unicode scalar value");
	toml_utf8_put(sb, cp);
	return 0;
}

/* After a backslash in a basic string. */
static int
escape(struct parser *ps, int multiline, struct strbuf *sb)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *e;
	const char *save;
	int n;

	if (at_end(ps))
		return FAIL(ps, "unterminated escape");
	if (*ps->p == 'u' || *ps->p == 'U') {
		int digits = *ps->p == 'u' ? 4 : 8;

		ps->p++;
		return hex_escape(ps, digits, sb);
	}
	if (multiline && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
		/* line-ending backslash: only whitespace may follow it on its line */
		save = ps->p;
		skip_ws(ps);
		if ((n = newline_len(ps)) <= 0) {
			ps->p = save;
			return n < 0 ? -1 : FAIL(ps, "invalid escape");
		}
		for (;;) {
			skip_ws(ps);
			if ((n = newline_len(ps)) < 0)
				return -1;
			if (n == 0)
				return 0;
			take_newline(ps, n);
		}
	}
	if (*ps->p != '\0' && (e = strchr(from, *ps->p)) != NULL) {
		strbuf_append_char(sb, to[e - from]);
		ps->p++;
		return 0;
	}
	return FAIL(ps, "invalid escape");
}

/* Reads a string starting at its opening quote; fills sb. */
static int
read_string(struct parser *ps, struct strbuf *sb, int allow_multiline)
{
	char q = *ps->p;
	int multi = 0, n;
	size_t len;

	if (allow_multiline && lookahead(ps, q == '"' ? "\"\"\"" : "'''")) {
		multi = 1;
		ps->p += 3;
		if ((n = newline_len(ps)) < 0)
			return -1;
		if (n > 0)
			take_newline(ps, n);
	} else {
		ps->p++;
	}
	for (;;) {
		if (at_end(ps))
			return FAIL(ps, "unterminated string");
		if (*ps->p == q) {
			if (!multi) {
				ps->p++;
				return 0;
			}
			size_t run = 0;

			while (peek(ps, run) == q)
				run++;
			if (run >= 3) {
				if (run > 5)
					return FAIL(ps, "too many quotes at the end of a string");
				strbuf_append_len(sb, ps->p, run - 3);
				ps->p += run;
				return 0;
			}
			strbuf_append_len(sb, ps->p, run);
			ps->p += run;
			continue;
		}
		if (q == '"' && *ps->p == '\\') {
			ps->p++;
			if (escape(ps, multi, sb) < 0)
				return -1;
			continue;
		}
		if (multi && (n = newline_len(ps)) != 0) {
			if (n < 0)
				return -1;
			strbuf_append_len(sb, ps->p, (size_t)n);
			take_newline(ps, n);
			continue;
		}
		if (*ps->p == '\n')
			return FAIL(ps, "newline in a single-line string");
		if (text_char(ps, &len) < 0)
			return -1;
		strbuf_append_len(sb, ps->p, len);
		ps->p += len;
	}
}

/* ---- keys ---- */

static int
bare_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

struct key {
	char **parts;
	size_t *lens;
	int *cols;
	size_t n;
};

static void
key_done(struct key *k)
{
	str_array_free(k->parts, k->n);
	free(k->lens);
	free(k->cols);
	memset(k, 0, sizeof *k);
}

/* Reads a (dotted) key; stops before what follows it. */
static int
read_key(struct parser *ps, struct key *k)
{
	struct strbuf sb;

	memset(k, 0, sizeof *k);
	for (;;) {
		skip_ws(ps);
		/* every part is a level: a key longer than the limit is refused here, before the
		 * rest of it is read (a million parts cost as much as the limit's) */
		if (k->n == TOML_MAX_DEPTH) {
			key_done(k);
			return fail_at(
			    ps, ps->line_start, "nested deeper than %d levels", TOML_MAX_DEPTH);
		}
		strbuf_init(&sb);
		k->parts = xreallocarray(k->parts, k->n + 1, sizeof *k->parts);
		k->lens = xreallocarray(k->lens, k->n + 1, sizeof *k->lens);
		k->cols = xreallocarray(k->cols, k->n + 1, sizeof *k->cols);
		k->cols[k->n] = toml_column(&ps->colpos, ps->line_start, ps->p, ps->end);
		if (peek(ps, 0) == '"' || peek(ps, 0) == '\'') {
			if (read_string(ps, &sb, 0) < 0) {
				strbuf_done(&sb);
				key_done(k);
				return -1;
			}
		} else if (bare_char(peek(ps, 0))) {
			while (bare_char(peek(ps, 0)))
				strbuf_append_char(&sb, *ps->p++);
		} else {
			strbuf_done(&sb);
			key_done(k);
			return FAIL(
			    ps, at_end(ps) ? "expected a key" : "invalid character in a key");
		}
		k->lens[k->n] = sb.len;
		k->parts[k->n++] = strbuf_steal(&sb);
		skip_ws(ps);
		if (peek(ps, 0) != '.')
			return 0;
		ps->p++;
	}
}

/* ---- tables ---- */

static struct toml_value *
new_table(struct parser *ps, unsigned flags)
{
	struct toml_value *t = toml_value_new(
	    TOML_TABLE, ps->line, toml_column(&ps->colpos, ps->line_start, ps->p, ps->end));

	t->flags = flags;
	return t;
}

/*
 * Walks the first n-1 parts of k from tbl, creating tables with flags create; a header may
 * pass through arrays of tables (into their last element), a dotted key only through tables
 * that dotted keys created.
 */
static struct toml_value *
walk(struct parser *ps, struct toml_value *tbl, const struct key *k, size_t n, int header)
{
	struct toml_value *v;

	for (size_t i = 0; i < n; i++) {
		v = table_find(tbl, k->parts[i], k->lens[i]);
		if (v == NULL) {
			v = new_table(ps, header ? F_IMPLICIT : F_DOTTED);
			toml_table_add(tbl, k->parts[i], k->lens[i], v);
		} else if (header && v->type == TOML_ARRAY && (v->flags & F_AOT)) {
			v = v->items[v->n - 1];
		} else if (v->type != TOML_TABLE || (v->flags & F_SEALED)) {
			fail_at(ps, ps->line_start, "key '%s' is already defined as %s",
			    k->parts[i],
			    v->type == TOML_TABLE ? "an inline table" : toml_type_name(v->type));
			return NULL;
		} else if (!header && (v->flags & (F_EXPLICIT | F_IMPLICIT))) {
			fail_at(ps, ps->line_start,
			    "dotted key '%s' cannot add to a table defined by a header",
			    k->parts[i]);
			return NULL;
		}
		tbl = v;
	}
	return tbl;
}

static int
table_header(struct parser *ps)
{
	struct toml_value *parent, *v;
	struct key k;
	int aot = lookahead(ps, "[["), line = ps->line,
	    col = toml_column(&ps->colpos, ps->line_start, ps->p, ps->end);
	const char *last;

	ps->p += aot ? 2 : 1;
	if (read_key(ps, &k) < 0)
		return -1;
	if (!lookahead(ps, aot ? "]]" : "]")) {
		key_done(&k);
		return FAIL(ps, "expected '%s' to close the table header", aot ? "]]" : "]");
	}
	ps->p += aot ? 2 : 1;
	if ((int)k.n + aot > TOML_MAX_DEPTH) {
		key_done(&k);
		return fail_at(ps, ps->line_start, "nested deeper than %d levels", TOML_MAX_DEPTH);
	}
	ps->cur_depth = (int)k.n + aot;
	if ((parent = walk(ps, ps->root, &k, k.n - 1, 1)) == NULL) {
		key_done(&k);
		return -1;
	}
	last = k.parts[k.n - 1];
	v = table_find(parent, last, k.lens[k.n - 1]);
	if (aot) {
		if (v == NULL) {
			v = toml_value_new(TOML_ARRAY, line, col);
			v->flags = F_AOT;
			toml_table_add(parent, last, k.lens[k.n - 1], v);
		} else if (v->type != TOML_ARRAY || !(v->flags & F_AOT)) {
			fail_at(ps, ps->line_start, "'%s' is not an array of tables", last);
			key_done(&k);
			return -1;
		}
		ps->cur = new_table(ps, F_EXPLICIT);
		ps->cur->line = line, ps->cur->col = col;
		toml_array_push(v, ps->cur);
	} else if (v == NULL) {
		ps->cur = new_table(ps, F_EXPLICIT);
		ps->cur->line = line, ps->cur->col = col;
		toml_table_add(parent, last, k.lens[k.n - 1], ps->cur);
	} else if (v->type == TOML_TABLE && (v->flags & F_IMPLICIT)) {
		v->flags = (v->flags & ~F_IMPLICIT) | F_EXPLICIT;
		ps->cur = v;
	} else {
		fail_at(ps, ps->line_start, "table '%s' is already defined", last);
		key_done(&k);
		return -1;
	}
	key_done(&k);
	return 0;
}

/* ---- values ---- */

static int parse_value(struct parser *ps, struct toml_value **out);

static void
seal(struct toml_value *v)
{
	if (v->type != TOML_TABLE && v->type != TOML_ARRAY)
		return;
	v->flags |= F_SEALED;
	for (size_t k = 0; k < v->n; k++)
		seal(v->items[k]);
}

/* key = value into tbl (dotted keys create tables). */
static int
key_value(struct parser *ps, struct toml_value *tbl)
{
	struct toml_value *parent, *v;
	struct key k;

	if (read_key(ps, &k) < 0)
		return -1;
	if (peek(ps, 0) != '=') {
		key_done(&k);
		return FAIL(ps, "expected '=' after a key");
	}
	ps->p++;
	skip_ws(ps);
	/* each part of a dotted key is a table level: parse_value counts the value's own */
	if (ps->depth + (int)k.n > TOML_MAX_DEPTH) {
		key_done(&k);
		return FAIL(ps, "nested deeper than %d levels", TOML_MAX_DEPTH);
	}
	ps->depth += (int)k.n - 1;
	parent = walk(ps, tbl, &k, k.n - 1, 0);
	if (parent == NULL || parse_value(ps, &v) < 0) {
		ps->depth -= (int)k.n - 1;
		key_done(&k);
		return -1;
	}
	ps->depth -= (int)k.n - 1;
	if (toml_table_add(parent, k.parts[k.n - 1], k.lens[k.n - 1], v) < 0) {
		toml_free(v);
		fail_at(ps, ps->line_start, "key '%s' is already defined", k.parts[k.n - 1]);
		key_done(&k);
		return -1;
	}
	key_done(&k);
	return 0;
}

static int
parse_array(struct parser *ps, struct toml_value *arr)
{
	struct toml_value *v;

	ps->p++;
	for (;;) {
		if (skip_ws_nl(ps) < 0)
			return -1;
		if (peek(ps, 0) == ']')
			break;
		if (parse_value(ps, &v) < 0)
			return -1;
		toml_array_push(arr, v);
		if (skip_ws_nl(ps) < 0)
			return -1;
		if (peek(ps, 0) == ',') {
			ps->p++;
			continue;
		}
		if (peek(ps, 0) != ']')
			return FAIL(ps, "expected ',' or ']' in an array");
		break;
	}
	ps->p++;
	return 0;
}

static int
parse_inline_table(struct parser *ps, struct toml_value *tbl)
{
	ps->p++;
	skip_ws(ps);
	if (peek(ps, 0) == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (key_value(ps, tbl) < 0)
			return -1;
		skip_ws(ps);
		if (peek(ps, 0) == ',') {
			ps->p++;
			skip_ws(ps);
			if (peek(ps, 0) == '}')
				return FAIL(ps, "trailing comma in an inline table");
			continue;
		}
		if (peek(ps, 0) != '}')
			return FAIL(ps, "expected ',' or '}' in an inline table");
		ps->p++;
		return 0;
	}
}

static int
digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
digits_n(const char *p, const char *end, int n)
{
	for (int k = 0; k < n; k++)
		if (p + k >= end || !digit((unsigned char)p[k]))
			return 0;
	return 1;
}

static int
num2(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* HH:MM:SS[.frac] at ps->p into sb. */
static int
read_time(struct parser *ps, struct strbuf *sb)
{
	const char *p = ps->p;

	if (!digits_n(p, ps->end, 2) || p + 2 >= ps->end || p[2] != ':' ||
	    !digits_n(p + 3, ps->end, 2) || p + 5 >= ps->end || p[5] != ':' ||
	    !digits_n(p + 6, ps->end, 2))
		return FAIL(ps, "invalid time (HH:MM:SS)");
	if (num2(p) > 23 || num2(p + 3) > 59 || num2(p + 6) > 60)
		return FAIL(ps, "time out of range");
	strbuf_append_len(sb, p, 8);
	ps->p += 8;
	if (peek(ps, 0) == '.') {
		if (!digit(peek(ps, 1)))
			return FAIL(ps, "fraction of a second needs digits");
		strbuf_append_char(sb, '.');
		ps->p++;
		while (digit(peek(ps, 0)))
			strbuf_append_char(sb, *ps->p++);
	}
	return 0;
}

static int
read_date(struct parser *ps, struct strbuf *sb)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = ps->p;
	int y, m, d;

	if (!digits_n(p, ps->end, 4) || p[4] != '-' || !digits_n(p + 5, ps->end, 2) ||
	    p + 7 >= ps->end || p[7] != '-' || !digits_n(p + 8, ps->end, 2))
		return FAIL(ps, "invalid date (YYYY-MM-DD)");
	y = num2(p) * 100 + num2(p + 2);
	m = num2(p + 5);
	d = num2(p + 8);
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return FAIL(ps, "date out of range");
	strbuf_append_len(sb, p, 10);
	ps->p += 10;
	return 0;
}

static int
read_datetime(struct parser *ps, struct toml_value *v)
{
	struct strbuf sb;
	int c;

	strbuf_init(&sb);
	if (peek(ps, 2) == ':') {
		v->type = TOML_TIME_LOCAL;
		if (read_time(ps, &sb) < 0)
			goto fail;
		goto done;
	}
	v->type = TOML_DATE_LOCAL;
	if (read_date(ps, &sb) < 0)
		goto fail;
	c = peek(ps, 0);
	if (!(c == 'T' || c == 't' || (c == ' ' && digit(peek(ps, 1)))))
		goto done;
	ps->p++;
	strbuf_append_char(&sb, 'T');
	v->type = TOML_DATETIME_LOCAL;
	if (read_time(ps, &sb) < 0)
		goto fail;
	c = peek(ps, 0);
	if (c == 'Z' || c == 'z') {
		strbuf_append_char(&sb, 'Z');
		ps->p++;
		v->type = TOML_DATETIME;
	} else if (c == '+' || c == '-') {
		const char *p = ps->p + 1;

		if (!digits_n(p, ps->end, 2) || p + 2 >= ps->end || p[2] != ':' ||
		    !digits_n(p + 3, ps->end, 2) || num2(p) > 23 || num2(p + 3) > 59) {
			FAIL(ps, "invalid time offset (+HH:MM)");
			goto fail;
		}
		strbuf_append_len(&sb, ps->p, 6);
		ps->p += 6;
		v->type = TOML_DATETIME;
	}
done:
	if (bare_char(peek(ps, 0)) || peek(ps, 0) == '.' || peek(ps, 0) == ':') {
		FAIL(ps, "invalid date-time");
		goto fail;
	}
	v->len = sb.len;
	v->str = strbuf_steal(&sb);
	return 0;
fail:
	strbuf_done(&sb);
	return -1;
}

static int
base_digit(int c, int base)
{
	if (base == 16)
		return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	return c >= '0' && c < '0' + base;
}

/* digit *( ["_"] digit ) of base at *p, copied to tok without underscores. */
static int
scan_digits(struct parser *ps, const char **p, int base, struct strbuf *tok)
{
	if (*p >= ps->end || !base_digit((unsigned char)**p, base))
		return fail_at(ps, *p, "expected a digit");
	for (;;) {
		strbuf_append_char(tok, **p);
		(*p)++;
		if (*p < ps->end && **p == '_') {
			(*p)++;
			if (*p >= ps->end || !base_digit((unsigned char)**p, base))
				return fail_at(ps, *p, "'_' must sit between digits");
			continue;
		}
		if (*p >= ps->end || !base_digit((unsigned char)**p, base))
			return 0;
	}
}

static int
read_prefixed_int(struct parser *ps, struct toml_value *v, struct strbuf *tok)
{
	const char *p = ps->p + 2;
	int base = ps->p[1] == 'x' ? 16 : ps->p[1] == 'o' ? 8 : 2;
	unsigned long long u;

	if (scan_digits(ps, &p, base, tok) < 0)
		return -1;
	errno = 0;
	u = strtoull(strbuf_str(tok), NULL, base);
	if (errno != 0 || u > INT64_MAX)
		return FAIL(ps, "integer out of range");
	v->type = TOML_INTEGER;
	v->i = (int64_t)u;
	ps->p = p;
	return 0;
}

static int
read_number(struct parser *ps, struct toml_value *v, struct strbuf *tok)
{
	const char *p = ps->p, *int_start;
	int is_float = 0;

	if (p[0] == '0' && p + 1 < ps->end && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b'))
		return read_prefixed_int(ps, v, tok);
	if (*p == '+' || *p == '-')
		strbuf_append_char(tok, *p++);
	if ((size_t)(ps->end - p) >= 3 && (memcmp(p, "inf", 3) == 0 || memcmp(p, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->f = p[0] == 'i' ? INFINITY : NAN;
		if (tok->len > 0 && tok->buf[0] == '-')
			v->f = -v->f;
		ps->p = p + 3;
		return 0;
	}
	int_start = p;
	if (scan_digits(ps, &p, 10, tok) < 0)
		return -1;
	if (*int_start == '0' && p - int_start > 1)
		return FAIL(ps, "leading zeros are not allowed");
	if (p < ps->end && *p == '.') {
		strbuf_append_char(tok, *p++);
		if (scan_digits(ps, &p, 10, tok) < 0)
			return -1;
		is_float = 1;
	}
	if (p < ps->end && (*p == 'e' || *p == 'E')) {
		strbuf_append_char(tok, *p++);
		if (p < ps->end && (*p == '+' || *p == '-'))
			strbuf_append_char(tok, *p++);
		if (scan_digits(ps, &p, 10, tok) < 0)
			return -1;
		is_float = 1;
	}
	errno = 0;
	if (is_float) {
		v->type = TOML_FLOAT;
		v->f = strtod(strbuf_str(tok), NULL);
	} else {
		v->type = TOML_INTEGER;
		v->i = strtoll(strbuf_str(tok), NULL, 10);
		if (errno == ERANGE)
			return FAIL(ps, "integer out of range");
	}
	ps->p = p;
	return 0;
}

static int
read_scalar(struct parser *ps, struct toml_value *v)
{
	struct strbuf tok;
	int rc, c = peek(ps, 0);

	if (lookahead(ps, "true") && !bare_char(peek(ps, 4))) {
		v->type = TOML_BOOL, v->i = 1, ps->p += 4;
		return 0;
	}
	if (lookahead(ps, "false") && !bare_char(peek(ps, 5))) {
		v->type = TOML_BOOL, v->i = 0, ps->p += 5;
		return 0;
	}
	if (digit(c) && (digits_n(ps->p, ps->end, 4) && peek(ps, 4) == '-'))
		return read_datetime(ps, v);
	if (digit(c) && digits_n(ps->p, ps->end, 2) && peek(ps, 2) == ':')
		return read_datetime(ps, v);
	if (!(digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n'))
		return FAIL(ps, at_end(ps) ? "expected a value" : "invalid value");
	strbuf_init(&tok);
	rc = read_number(ps, v, &tok);
	strbuf_done(&tok);
	if (rc == 0 && (bare_char(peek(ps, 0)) || peek(ps, 0) == '.'))
		return FAIL(ps, "invalid number");
	return rc;
}

static int
parse_value(struct parser *ps, struct toml_value **out)
{
	struct toml_value *v = toml_value_new(
	    TOML_STRING, ps->line, toml_column(&ps->colpos, ps->line_start, ps->p, ps->end));
	struct strbuf sb;
	int c = peek(ps, 0), rc;

	if (++ps->depth > TOML_MAX_DEPTH) {
		rc = FAIL(ps, "nested deeper than %d levels", TOML_MAX_DEPTH);
	} else if (c == '"' || c == '\'') {
		strbuf_init(&sb);
		rc = read_string(ps, &sb, 1);
		v->len = sb.len;
		v->str = strbuf_steal(&sb);
	} else if (c == '[') {
		v->type = TOML_ARRAY;
		rc = parse_array(ps, v);
	} else if (c == '{') {
		v->type = TOML_TABLE;
		rc = parse_inline_table(ps, v);
	} else {
		rc = read_scalar(ps, v);
	}
	ps->depth--;
	if (rc < 0) {
		toml_free(v);
		return -1;
	}
	seal(v);
	*out = v;
	return 0;
}

/* After a key/value pair or a header: whitespace, a comment, then a newline or the end. */
static int
line_end(struct parser *ps)
{
	int n;

	skip_ws(ps);
	if (skip_comment(ps) < 0 || (n = newline_len(ps)) < 0)
		return -1;
	if (n > 0)
		take_newline(ps, n);
	else if (!at_end(ps))
		return FAIL(ps, "expected a newline after the value");
	return 0;
}

struct toml_value *
toml_parse(const char *buf, size_t len, char **cause)
{
	struct parser ps;
	int n;

	memset(&ps, 0, sizeof ps);
	ps.buf = ps.p = ps.line_start = buf;
	ps.end = buf + len;
	ps.line = 1;
	ps.root = ps.cur = toml_value_new(TOML_TABLE, 1, 1);
	ps.root->flags = F_EXPLICIT;
	if (lookahead(&ps, "\xef\xbb\xbf"))
		ps.p += 3;
	while (!at_end(&ps) && ps.err == NULL) {
		skip_ws(&ps);
		if (skip_comment(&ps) < 0 || (n = newline_len(&ps)) < 0)
			break;
		if (n > 0) {
			take_newline(&ps, n);
			continue;
		}
		if (at_end(&ps))
			break;
		if (peek(&ps, 0) == '[') {
			if (table_header(&ps) < 0)
				break;
		} else {
			ps.depth = ps.cur_depth; /* the pair's levels count from its table's */
			if (key_value(&ps, ps.cur) < 0)
				break;
			ps.depth = 0;
		}
		line_end(&ps);
	}
	if (ps.err != NULL) {
		toml_free(ps.root);
		if (cause != NULL)
			*cause = ps.err;
		else
			free(ps.err);
		return NULL;
	}
	return ps.root;
}

/* ---- writing ---- */

void
toml_append_key(struct strbuf *sb, const char *key)
{
	const char *k = key;

	while (*k != '\0' && bare_char((unsigned char)*k))
		k++;
	if (*key != '\0' && *k == '\0')
		strbuf_append(sb, key);
	else
		toml_append_string(sb, key);
}

void
toml_append_string(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	uint32_t cp;
	size_t n;

	strbuf_append_char(sb, '"');
	while (p < end) {
		n = toml_utf8_len(p, end, &cp);
		if (n == 0) {
			strbuf_append(sb, "\xef\xbf\xbd");
			p++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			strbuf_append_char(sb, '\\');
			strbuf_append_char(sb, (char)cp);
		} else if (cp == '\n') {
			strbuf_append(sb, "\\n");
		} else if (cp == '\t') {
			strbuf_append(sb, "\\t");
		} else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x61c ||
		    cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069)) {
			/* controls, and the bidi controls that reorder what a terminal shows */
			strbuf_appendf(sb, "\\u%04X", (unsigned)cp);
		} else {
			strbuf_append_len(sb, (const char *)p, n);
		}
		p += n;
	}
	strbuf_append_char(sb, '"');
}
