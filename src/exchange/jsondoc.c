/*
 * A strict RFC 8259 reader that builds the document tree of exchange/toml.h with the line and
 * column of every value (cJSON keeps no positions, and import errors must name the line).
 */
#include "exchange/jsondoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define NULL_FLAG (1u << 15)

struct jp {
	const char *p, *end, *line_start;
	int line, depth;
	char *err;
	struct toml_colpos colpos;
};

/* A parse error at the current position. */
#define jp_fail(j, ...)                 \
	toml_fail(&(j)->err, (j)->line, \
	    toml_column(&(j)->colpos, (j)->line_start, (j)->p, (j)->end), __VA_ARGS__)

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end) {
		if (*j->p == '\n') {
			j->line++;
			j->line_start = j->p + 1;
		} else if (*j->p != ' ' && *j->p != '\t' && *j->p != '\r') {
			return;
		}
		j->p++;
	}
}

/* Skips white space, then consumes c if it comes next. Returns 1 when it did. */
static int
jp_eat(struct jp *j, char c)
{
	jp_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 1;
	}
	return 0;
}

static int
hex4(struct jp *j, uint32_t *out)
{
	uint32_t v = 0;

	for (int k = 0; k < 4; k++, j->p++) {
		int c = j->p < j->end ? (unsigned char)*j->p : -1;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (uint32_t)(c - 'A' + 10);
		else
			return jp_fail(j, "\\u needs 4 hex digits");
	}
	*out = v;
	return 0;
}

static int
jp_escape(struct jp *j, struct strbuf *sb)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t cp, lo;

	if (j->p >= j->end)
		return jp_fail(j, "unterminated string");
	if (*j->p != 'u') {
		if (*j->p == '\0' || (e = strchr(from, *j->p)) == NULL)
			return jp_fail(j, "invalid escape");
		strbuf_append_char(sb, to[e - from]);
		j->p++;
		return 0;
	}
	j->p++;
	if (hex4(j, &cp) < 0)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return jp_fail(j, "lone surrogate in \\u escape");
		j->p += 2;
		if (hex4(j, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return jp_fail(j, "invalid surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return jp_fail(j, "lone surrogate in \\u escape");
	}
	toml_utf8_put(sb, cp);
	return 0;
}

static int
jp_string(struct jp *j, struct strbuf *sb)
{
	uint32_t cp;
	size_t n;

	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return jp_fail(j, "unterminated string");
		if (*j->p == '"') {
			j->p++;
			return 0;
		}
		if (*j->p == '\\') {
			j->p++;
			if (jp_escape(j, sb) < 0)
				return -1;
			continue;
		}
		n = toml_utf8_len((const unsigned char *)j->p, (const unsigned char *)j->end, &cp);
		if (n == 0)
			return jp_fail(j, "invalid UTF-8");
		if (cp < 0x20)
			return jp_fail(j, "control character in a string");
		strbuf_append_len(sb, j->p, n);
		j->p += n;
	}
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
jp_number(struct jp *j, struct toml_value *v)
{
	const char *s = j->p;
	char tok[64], *endp;
	int is_float = 0;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || !is_digit((unsigned char)*j->p))
		return jp_fail(j, "invalid value");
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && is_digit((unsigned char)*j->p))
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		is_float = 1;
		if (++j->p >= j->end || !is_digit((unsigned char)*j->p))
			return jp_fail(j, "digits must follow '.'");
		while (j->p < j->end && is_digit((unsigned char)*j->p))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		is_float = 1;
		if (++j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || !is_digit((unsigned char)*j->p))
			return jp_fail(j, "digits must follow the exponent");
		while (j->p < j->end && is_digit((unsigned char)*j->p))
			j->p++;
	}
	if ((size_t)(j->p - s) >= sizeof tok)
		return jp_fail(j, "number too long");
	memcpy(tok, s, (size_t)(j->p - s));
	tok[j->p - s] = '\0';
	errno = 0;
	if (is_float) {
		v->type = TOML_FLOAT;
		v->f = strtod(tok, &endp);
	} else {
		v->type = TOML_INTEGER;
		v->i = strtoll(tok, &endp, 10);
		if (errno == ERANGE)
			return jp_fail(j, "integer out of range");
	}
	return 0;
}

static int jp_value(struct jp *j, struct toml_value **out);

/* After a member or element: 1 when a ',' says another follows, 0 at close, -1 otherwise. */
static int
jp_more(struct jp *j, char close)
{
	if (jp_eat(j, ','))
		return 1;
	if (jp_eat(j, close))
		return 0;
	return jp_fail(j, "expected ',' or '%c'", close);
}

static int
jp_object(struct jp *j, struct toml_value *v)
{
	struct toml_value *item;
	struct strbuf key;
	int line, col, more;

	j->p++;
	if (jp_eat(j, '}'))
		return 0;
	for (;;) {
		jp_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return jp_fail(j, "expected a member name");
		line = j->line, col = toml_column(&j->colpos, j->line_start, j->p, j->end);
		strbuf_init(&key);
		if (jp_string(j, &key) < 0) {
			strbuf_done(&key);
			return -1;
		}
		if (!jp_eat(j, ':')) {
			strbuf_done(&key);
			return jp_fail(j, "expected ':'");
		}
		if (jp_value(j, &item) < 0) {
			strbuf_done(&key);
			return -1;
		}
		if (toml_table_add(v, key.buf != NULL ? key.buf : "", key.len, item) < 0) {
			toml_free(item);
			j->line = line;
			j->err = xasprintf("line %d, column %d: duplicate member \"%s\"", line, col,
			    strbuf_str(&key));
			strbuf_done(&key);
			return -1;
		}
		strbuf_done(&key);
		if ((more = jp_more(j, '}')) <= 0)
			return more;
	}
}

static int
jp_array(struct jp *j, struct toml_value *v)
{
	struct toml_value *item;
	int more;

	j->p++;
	if (jp_eat(j, ']'))
		return 0;
	do {
		if (jp_value(j, &item) < 0)
			return -1;
		toml_array_push(v, item);
	} while ((more = jp_more(j, ']')) > 0);
	return more;
}

static int
literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
jp_value(struct jp *j, struct toml_value **out)
{
	struct toml_value *v;
	struct strbuf sb;
	int rc = 0, c;

	jp_ws(j);
	v = toml_value_new(
	    TOML_STRING, j->line, toml_column(&j->colpos, j->line_start, j->p, j->end));
	c = j->p < j->end ? (unsigned char)*j->p : -1;
	if (++j->depth > TOML_MAX_DEPTH) {
		rc = jp_fail(j, "nested deeper than %d levels", TOML_MAX_DEPTH);
	} else if (c == '"') {
		strbuf_init(&sb);
		rc = jp_string(j, &sb);
		v->len = sb.len;
		v->str = strbuf_steal(&sb);
	} else if (c == '{') {
		v->type = TOML_TABLE;
		rc = jp_object(j, v);
	} else if (c == '[') {
		v->type = TOML_ARRAY;
		rc = jp_array(j, v);
	} else if (literal(j, "true") || literal(j, "false")) {
		v->type = TOML_BOOL;
		v->i = j->p[-1] == 'e' && j->p[-2] == 'u';
	} else if (literal(j, "null")) {
		v->type = TOML_TABLE;
		v->flags = NULL_FLAG;
	} else if (c == '-' || is_digit(c)) {
		rc = jp_number(j, v);
	} else {
		rc = jp_fail(j, c < 0 ? "unexpected end of input" : "invalid value");
	}
	j->depth--;
	if (rc < 0) {
		toml_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

struct toml_value *
jsondoc_parse(const char *buf, size_t len, char **cause)
{
	struct jp j = {buf, buf + len, buf, 1, 0, NULL, {NULL, NULL, 0}};
	struct toml_value *root = NULL;

	if (jp_value(&j, &root) == 0) {
		jp_ws(&j);
		if (j.p < j.end)
			jp_fail(&j, "unexpected text after the document");
	}
	if (j.err != NULL) {
		toml_free(root);
		if (cause != NULL)
			*cause = j.err;
		else
			free(j.err);
		return NULL;
	}
	return root;
}

int
jsondoc_is_null(const struct toml_value *v)
{
	return v != NULL && v->type == TOML_TABLE && (v->flags & NULL_FLAG) != 0;
}
