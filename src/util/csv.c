/*
 * RFC 4180 CSV records from memory (util/csv.h): one pass over the text, a field at a time.
 */
#include "util/csv.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/xmalloc.h"

void
csv_init(struct csv *c, const char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
	c->line = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
}

/* 1 when p is at the end of a record (LF, CRLF or the end of the text). */
static int
at_record_end(const struct csv *c, const char *p)
{
	return p == c->end || *p == '\n' || (*p == '\r' && p + 1 < c->end && p[1] == '\n');
}

/* A quoted field from c->p (its opening quote) into sb; 0, or -1 with *cause. */
static int
quoted_field(struct csv *c, struct strbuf *sb, char **cause)
{
	const char *p = c->p + 1;

	for (;;) {
		if (p == c->end || *p == '\0') {
			*cause = xstrdup(
			    p == c->end ? "a quoted field lacks its closing quote" : "a NUL byte");
			return -1;
		}
		if (*p == '"' && p + 1 < c->end && p[1] == '"') {
			strbuf_append_char(sb, '"');
			p += 2;
		} else if (*p == '"') {
			break;
		} else {
			if (*p == '\n')
				c->line++;
			strbuf_append_char(sb, *p++);
		}
	}
	c->p = ++p;
	if (p < c->end && *p != ',' && !at_record_end(c, p)) {
		*cause = xstrdup("text after a closing quote (a quote inside a field is written \"\")");
		return -1;
	}
	return 0;
}

/* An unquoted field from c->p into sb; 0, or -1 with *cause. */
static int
plain_field(struct csv *c, struct strbuf *sb, char **cause)
{
	const char *p = c->p;

	for (; p < c->end && *p != ',' && !at_record_end(c, p); p++) {
		if (*p == '"' || *p == '\0') {
			*cause = xstrdup(*p == '"' ? "a quote inside an unquoted field (quote the field)" :
			                             "a NUL byte");
			return -1;
		}
		strbuf_append_char(sb, *p);
	}
	c->p = p;
	return 0;
}

int
csv_next(struct csv *c, size_t max_fields, char ***fields, size_t *nfields, int *line,
    char **cause)
{
	char **f = NULL;
	size_t n = 0;

	*fields = NULL;
	*nfields = 0;
	if (c->p >= c->end)
		return 0;
	*line = c->line;
	for (;;) {
		struct strbuf sb;
		int rc;

		strbuf_init(&sb);
		rc = c->p < c->end && *c->p == '"' ? quoted_field(c, &sb, cause) :
		    plain_field(c, &sb, cause);
		if (rc == 0 && n == max_fields) {
			*cause = xasprintf("more than %zu fields", max_fields);
			rc = -1;
		}
		if (rc != 0) {
			strbuf_done(&sb);
			csv_fields_free(f, n);
			c->p = c->end;
			return -1;
		}
		f = xreallocarray(f, n + 1, sizeof *f);
		f[n++] = strbuf_steal(&sb);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		break;
	}
	if (c->p < c->end) {
		c->p += *c->p == '\r' ? 2 : 1;
		c->line++;
	}
	*fields = f;
	*nfields = n;
	return 1;
}

void
csv_fields_free(char **fields, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(fields[i]);
	free(fields);
}
