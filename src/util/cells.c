/* Terminal cells of text (see util/cells.h). */
#include "util/cells.h"

#include "util/str.h"

#include <locale.h>
#include <string.h>
#include <wchar.h>

/* The UTF-8 locale whose wcwidth counts cells, whatever the process's locale; 0 none. */
static locale_t
utf8_locale(void)
{
	static locale_t utf8;
	static int tried;

	if (!tried) {
		tried = 1;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return utf8;
}

/*
 * One character of s (n > 0 bytes left), with the UTF-8 locale in use: *cp its code point, or
 * '?' for bytes that are not UTF-8 and for a control, bidi or format character; *w the cells
 * it takes (2 for CJK and emoji, 0 for a combining mark, else 1). Returns its bytes.
 */
static size_t
step(const char *s, size_t n, int have_utf8, uint32_t *cp, int *w)
{
	size_t bad, len = str_utf8_decode((const unsigned char *)s, n, cp, &bad);

	*w = len && have_utf8 ? wcwidth((wchar_t)*cp) : 1;
	if (len == 0 || *w < 0 || str_is_bidi(*cp) || str_is_format(*cp)) {
		*cp = '?';
		*w = 1;
	}
	return len ? len : bad;
}

size_t
cells_fit(const char *s, int width, int *used)
{
	locale_t utf8 = utf8_locale(), was = utf8 ? uselocale(utf8) : (locale_t)0;
	size_t at = 0, n = strlen(s), len;
	uint32_t cp;
	int w;

	*used = 0;
	while (at < n) {
		len = step(s + at, n - at, utf8 != (locale_t)0, &cp, &w);
		if (*used + w > width)
			break;
		*used += w;
		at += len;
	}
	if (utf8)
		uselocale(was);
	return at;
}

size_t
cells_decode(const char *s, uint32_t *cp, signed char *cells, size_t max)
{
	locale_t utf8 = utf8_locale(), was = utf8 ? uselocale(utf8) : (locale_t)0;
	size_t at = 0, n = strlen(s), k = 0;

	while (at < n && k < max) {
		int w;
		at += step(s + at, n - at, utf8 != (locale_t)0, &cp[k], &w);
		cells[k++] = (signed char)w;
	}
	if (utf8)
		uselocale(was);
	return k;
}
