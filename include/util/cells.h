#ifndef UTIL_CELLS_H
#define UTIL_CELLS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Terminal cells of text, for the columns of a table printed to a terminal: a count of bytes
 * or of characters pads or cuts a name in another script wrong and shifts the columns after
 * it. Counted as wcwidth counts them in a UTF-8 locale, whatever the operator's (cron runs
 * under C).
 */

/*
 * The bytes of the valid UTF-8 text s (sanitised) that fill at most width cells, never half
 * a wide character; *used gets the cells they take.
 */
size_t cells_fit(const char *s, int width, int *used);

/*
 * Decodes s as a terminal should show it, at most max characters: cp[i] each one's code point,
 * '?' for bytes that are not UTF-8 and for a control, bidi or format character (the last guard
 * for text that was not sanitised, one '?' per invalid sequence); cells[i] the cells it takes
 * (2 for CJK and emoji, 0 for a combining mark, else 1). Returns how many.
 */
size_t cells_decode(const char *s, uint32_t *cp, signed char *cells, size_t max);

#endif
