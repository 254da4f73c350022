#ifndef UTIL_CELLS_H
#define UTIL_CELLS_H

#include <stddef.h>

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

#endif
