#ifndef TUI_TEXTLINES_H
#define TUI_TEXTLINES_H

/* Text as the lines a view shows (help, a firewall's plan, a stored reply). */
#include <stddef.h>

/* Lines of text a view shows, each malloc'd. */
struct textlines {
	char **v;
	size_t n;
};
/* Appends line (the lines take it over). */
void textlines_add(struct textlines *l, char *line);
/* Appends text cut at its newlines, each line sanitised. */
void textlines_add_text(struct textlines *l, const char *text);
/*
 * Appends text as textlines_add_text does, each line longer than width characters cut at
 * spaces into lines of at most width (a word longer than that at width), the rest indented.
 */
void textlines_add_wrapped(struct textlines *l, const char *text, int width);
/* Frees every line: l is empty and can take lines again. */
void textlines_clear(struct textlines *l);
/* Line k of l into buf (a view_line_cb's text). */
void textlines_get(const struct textlines *l, size_t k, char *buf, size_t size);

#endif
