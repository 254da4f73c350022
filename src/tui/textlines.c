/*
 * Text kept as lines: appended one by one or cut from a text at its newlines (sanitised,
 * since such text comes from devices and firewalls; the tabs that indent a line, as
 * cJSON_Print's do, become two spaces each so nesting stays visible).
 */
#include <stdlib.h>
#include <string.h>

#include "tui/textlines.h"
#include "util/str.h"
#include "util/xmalloc.h"

void
textlines_add(struct textlines *l, char *line)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = line;
}

void
textlines_add_text(struct textlines *l, const char *text)
{
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p), tabs = 0;
		char *line, *safe;

		while (tabs < len && p[tabs] == '\t')
			tabs++;
		line = xmalloc(2 * tabs + len - tabs + 1);
		memset(line, ' ', 2 * tabs);
		memcpy(line + 2 * tabs, p + tabs, len - tabs);
		line[2 * tabs + len - tabs] = '\0';
		safe = str_sanitize(line, 0);
		free(line);
		textlines_add(l, safe);
		p += len + (nl != NULL);
	}
}

/* Bytes of line's first n characters (UTF-8: continuation bytes are no character). */
static size_t
chars_bytes(const char *line, size_t n)
{
	size_t b = 0;

	for (size_t c = 0; line[b] != '\0'; b++) {
		if (((unsigned char)line[b] & 0xc0) != 0x80 && c++ == n)
			break;
	}
	return b;
}

void
textlines_add_wrapped(struct textlines *l, const char *text, int width)
{
	struct textlines cut = {NULL, 0};

	textlines_add_text(&cut, text);
	for (size_t i = 0; i < cut.n; i++) {
		const char *p = cut.v[i];
		int indent = 0;

		for (;;) {
			size_t room = width - indent > 8 ? (size_t)(width - indent) : 8;
			size_t len = chars_bytes(p, room), brk = len;
			if (p[len] != '\0') { /* too long: cut at the last space that fits */
				while (brk > 0 && p[brk] != ' ')
					brk--;
				if (brk == 0)
					brk = len;
			}
			textlines_add(l, xasprintf("%*s%.*s", indent, "", (int)brk, p));
			p += brk;
			while (*p == ' ')
				p++;
			if (*p == '\0')
				break;
			indent = 2; /* the rest of a line reads as its continuation */
		}
	}
	textlines_clear(&cut);
}

void
textlines_clear(struct textlines *l)
{
	str_array_free(l->v, l->n);
	l->v = NULL;
	l->n = 0;
}

void
textlines_get(const struct textlines *l, size_t k, char *buf, size_t size)
{
	str_copy(buf, size, l->v[k]);
}
