/* Terminal cells of text (see util/cells.h). */
#include "util/cells.h"

#include "util/str.h"

#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

/* The cells code point cp takes: 2 for CJK and emoji, 0 for a combining mark, else 1. */
static int
cells_width(uint32_t cp)
{
	static locale_t utf8;
	static int tried;
	locale_t was;
	int w;

	if (!tried) {
		tried = 1;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (utf8 == (locale_t)0)
		return 1;
	was = uselocale(utf8);
	w = wcwidth((wchar_t)cp);
	uselocale(was);
	return w < 0 ? 1 : w;
}

size_t
cells_fit(const char *s, int width, int *used)
{
	size_t at = 0, n = strlen(s), len, bad;
	uint32_t cp;
	int w;

	*used = 0;
	while (at < n) {
		len = str_utf8_decode((const unsigned char *)s + at, n - at, &cp, &bad);
		w = len ? cells_width(cp) : 1;
		if (*used + w > width)
			break;
		*used += w;
		at += len ? len : bad;
	}
	return at;
}
