#include "util/str.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

/* strbuf */

void
strbuf_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
strbuf_done(struct strbuf *sb)
{
	free(sb->buf);
	strbuf_init(sb);
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf != NULL)
		sb->buf[0] = '\0';
}

/* Makes room for extra more bytes plus the NUL. */
static void
strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - sb->len - 1) {
		fprintf(stderr, "shelly-tui: string too long\n");
		abort();
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	cap = sb->cap != 0 ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void
strbuf_append_len(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_grow(sb, len);
	if (len != 0)
		memcpy(sb->buf + sb->len, s, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
strbuf_append(struct strbuf *sb, const char *s)
{
	strbuf_append_len(sb, s, strlen(s));
}

void
strbuf_append_char(struct strbuf *sb, char c)
{
	strbuf_append_len(sb, &c, 1);
}

void
strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	strbuf_grow(sb, 0);
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->buf[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= sb->cap - sb->len) {
		strbuf_grow(sb, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->buf != NULL ? sb->buf : "";
}

char *
strbuf_steal(struct strbuf *sb)
{
	char *s = sb->buf != NULL ? sb->buf : xstrdup("");

	strbuf_init(sb);
	return s;
}

/* Sanitising */

enum scan_kind {
	SCAN_KEEP, /* printable text: copy */
	SCAN_DROP, /* control, escape sequence, bidi override: remove */
	SCAN_BAD, /* invalid UTF-8: replace */
};

size_t
str_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, k;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2 || c > 0xF4) {
		*bad = 1;
		return 0;
	}
	if (c < 0xE0) {
		need = 1;
		v = c & 0x1F;
	} else if (c < 0xF0) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	}
	for (k = 1; k <= need; k++) {
		if (k >= len || s[k] < lo || s[k] > hi) {
			*bad = k;
			return 0;
		}
		v = (v << 6) | (s[k] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return need + 1;
}

/* Returns the end of a control sequence (CSI) whose parameters start at j. */
static size_t
csi_end(const unsigned char *s, size_t len, size_t j)
{
	while (j < len) {
		if (s[j] >= 0x40 && s[j] <= 0x7E)
			return j + 1; /* final byte */
		if (s[j] < 0x20 || s[j] > 0x3F)
			return j; /* aborted: the byte is looked at on its own */
		j++;
	}
	return j;
}

/*
 * Returns the end of a control string (OSC, DCS, SOS, PM, APC) whose payload starts at j: after
 * BEL, ST (ESC \, 8-bit 0x9C or its UTF-8 form), before another ESC, or the end of the text.
 */
static size_t
string_end(const unsigned char *s, size_t len, size_t j)
{
	while (j < len) {
		if (s[j] == 0x07 || s[j] == 0x9C)
			return j + 1;
		if (s[j] == 0x1B)
			return j + 1 < len && s[j + 1] == '\\' ? j + 2 : j;
		if (s[j] == 0xC2 && j + 1 < len && s[j + 1] == 0x9C)
			return j + 2;
		j++;
	}
	return j;
}

/* Classifies the token at s[i] (i < len); returns its length in bytes (at least 1). */
static size_t
scan(const unsigned char *s, size_t len, size_t i, enum scan_kind *kind)
{
	unsigned char c = s[i], n;
	uint32_t cp;
	size_t k, bad = 0, j;

	*kind = SCAN_DROP;
	if (c == 0x1B) {
		if (i + 1 >= len)
			return 1;
		n = s[i + 1];
		if (n == '[')
			return csi_end(s, len, i + 2) - i;
		if (n == ']' || n == 'P' || n == 'X' || n == '^' || n == '_')
			return string_end(s, len, i + 2) - i;
		if (n >= 0x20 && n <= 0x2F) {
			/* nF: intermediates then one final byte */
			j = i + 1;
			while (j < len && s[j] >= 0x20 && s[j] <= 0x2F)
				j++;
			if (j < len && s[j] >= 0x30 && s[j] <= 0x7E)
				j++;
			return j - i;
		}
		if (n >= 0x30 && n <= 0x7E)
			return 2;
		return 1;
	}
	if (c < 0x20 || c == 0x7F)
		return 1;
	if (c < 0x80) {
		*kind = SCAN_KEEP;
		return 1;
	}
	k = str_utf8_decode(s + i, len - i, &cp, &bad);
	if (k == 0) {
		*kind = SCAN_BAD;
		return bad;
	}
	if (cp >= 0x80 && cp <= 0x9F) {
		if (cp == 0x9B)
			return csi_end(s, len, i + k) - i;
		if (cp == 0x90 || cp == 0x98 || cp == 0x9D || cp == 0x9E || cp == 0x9F)
			return string_end(s, len, i + k) - i;
		return k;
	}
	if (str_is_bidi(cp) || str_is_format(cp))
		return k;
	*kind = SCAN_KEEP;
	return k;
}

int
str_is_bidi(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
	       cp == 0x200F || cp == 0x061C || cp == 0x2028 || cp == 0x2029;
}

int
str_is_format(uint32_t cp)
{
	/* Unicode category Cf (the bidi controls are str_is_bidi's), as of Unicode 15. */
	/* clang-format off */
	static const uint32_t ranges[][2] = {
	    {0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
	    {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x180E, 0x180E}, {0x200B, 0x200D},
	    {0x2060, 0x2064}, {0x206A, 0x206F}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB},
	    {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
	    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return 1;
	return 0;
}

char *
str_sanitize(const char *s, size_t max)
{
	static const char fffd[] = "\xEF\xBF\xBD";
	const unsigned char *u = (const unsigned char *)s;
	struct strbuf sb;
	enum scan_kind kind;
	size_t len, i, k;

	strbuf_init(&sb);
	if (s == NULL)
		return strbuf_steal(&sb);
	if (max == 0)
		max = SIZE_MAX;
	len = strlen(s);
	for (i = 0; i < len; i += k) {
		k = scan(u, len, i, &kind);
		if (kind == SCAN_KEEP) {
			if (k > max - sb.len)
				break;
			strbuf_append_len(&sb, s + i, k);
		} else if (kind == SCAN_BAD) {
			if (3 > max - sb.len)
				break;
			strbuf_append_len(&sb, fffd, 3);
		}
	}
	return strbuf_steal(&sb);
}

int
str_is_safe(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	enum scan_kind kind;
	size_t len, i, k;

	if (s == NULL)
		return 1;
	len = strlen(s);
	for (i = 0; i < len; i += k) {
		k = scan(u, len, i, &kind);
		if (kind != SCAN_KEEP)
			return 0;
	}
	return 1;
}

void
str_sanitize_inplace(char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	enum scan_kind kind;
	size_t len, i, k, w = 0;

	if (s == NULL)
		return;
	len = strlen(s);
	for (i = 0; i < len; i += k) {
		k = scan(u, len, i, &kind);
		if (kind == SCAN_KEEP) {
			memmove(s + w, s + i, k);
			w += k;
		} else if (kind == SCAN_BAD) {
			s[w++] = '?';
		}
	}
	s[w] = '\0';
}

/* Small helpers */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
str_mac_normalise(const char *in, char out[13])
{
	size_t len, i, o = 0, group = 0; /* hex digits between separators; 0: none */
	char sep = 0;

	out[0] = '\0';
	if (in == NULL)
		return -1;
	len = strlen(in);
	if (len == 17) { /* aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff */
		sep = in[2];
		group = 2;
		if (sep != ':' && sep != '-')
			return -1;
	} else if (len == 14) { /* aabb.ccdd.eeff, as PHP's FILTER_VALIDATE_MAC takes it */
		sep = '.';
		group = 4;
	} else if (len != 12) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (sep != 0 && i % (group + 1) == group) {
			if (in[i] != sep)
				goto bad;
			continue;
		}
		if (hexval((unsigned char)in[i]) < 0)
			goto bad;
		out[o++] = (char)lower((unsigned char)in[i]);
	}
	out[o] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return -1;
}

char *
str_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb;
	unsigned char c;

	strbuf_init(&sb);
	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			strbuf_append_char(&sb, (char)c);
		} else {
			strbuf_append_char(&sb, '%');
			strbuf_append_char(&sb, hex[c >> 4]);
			strbuf_append_char(&sb, hex[c & 0xF]);
		}
	}
	return strbuf_steal(&sb);
}

int
str_casecmp(const char *a, const char *b)
{
	int ca, cb;

	do {
		ca = lower((unsigned char)*a++);
		cb = lower((unsigned char)*b++);
	} while (ca == cb && ca != '\0');
	return ca - cb;
}

int
str_caseeq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return str_casecmp(a, b) == 0;
}

int
str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
str_has_caseprefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++) {
		if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
			return 0;
	}
	return 1;
}

size_t
str_copyn(char *dst, size_t size, const char *src, size_t len)
{
	size_t n;

	len = strnlen(src, len);
	if (size == 0)
		return len;
	n = len;
	if (n >= size) {
		n = size - 1;
		/* back up to the start of a character: never leave half a sequence */
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return len;
}

void
str_free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

void
str_array_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

size_t
str_copy(char *dst, size_t size, const char *src)
{
	return str_copyn(dst, size, src, SIZE_MAX);
}

/* Parsers */

/* Parses the digits at *sp into *v (at least one); returns -1 on overflow or no digit. */
static int
parse_digits(const char **sp, uint64_t *v, size_t *ndigits)
{
	const char *s = *sp;
	uint64_t n = 0;
	size_t count = 0;

	while (*s >= '0' && *s <= '9') {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
		s++;
		count++;
	}
	if (count == 0)
		return -1;
	*sp = s;
	*v = n;
	if (ndigits != NULL)
		*ndigits = count;
	return 0;
}

/* A unit suffix and what one of it is worth. */
struct unit {
	const char *suffix;
	uint64_t factor;
};

/* Durations in milliseconds; a bare number is seconds. Larger units last (formatting). */
static const struct unit duration_units[] = {
    {"ms", 1},
    {"", 1000},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
};

/* Sizes in bytes; a bare number is bytes; the suffix is not case-sensitive. */
static const struct unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1 << 10},
    {"kb", 1 << 10},
    {"kib", 1 << 10},
    {"m", 1 << 20},
    {"mb", 1 << 20},
    {"mib", 1 << 20},
    {"g", 1 << 30},
    {"gb", 1 << 30},
    {"gib", 1 << 30},
};

/* The factor of suffix s in table u of n units (nocase: ignoring case), 0 when not one. */
static uint64_t
unit_factor(const struct unit *u, size_t n, const char *s, int nocase)
{
	for (size_t i = 0; i < n; i++)
		if ((nocase ? str_casecmp(s, u[i].suffix) : strcmp(s, u[i].suffix)) == 0)
			return u[i].factor;
	return 0;
}

int
str_parse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t whole, frac = 0, scale = 1, unit, v, f;
	size_t nfrac = 0, i;

	if (s == NULL || parse_digits(&s, &whole, NULL) != 0)
		return -1;
	if (*s == '.') {
		s++;
		/* at most 9 fraction digits: frac * unit stays below 2^64 */
		if (parse_digits(&s, &frac, &nfrac) != 0 || nfrac > 9)
			return -1;
		for (i = 0; i < nfrac; i++)
			scale *= 10;
	}
	unit = unit_factor(duration_units, sizeof duration_units / sizeof duration_units[0], s, 0);
	if (unit == 0)
		return -1;
	if (whole > UINT64_MAX / unit)
		return -1;
	v = whole * unit;
	f = frac * unit / scale;
	if (f > UINT64_MAX - v)
		return -1;
	*ms = v + f;
	return 0;
}

int
str_parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
str_parse_seconds(const char *s, double max, double *sec)
{
	char *end;
	double v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0) || v > max)
		return -1;
	*sec = v;
	return 0;
}

char *
str_format_duration_ms(uint64_t ms, char *buf, size_t size)
{
	/* the largest unit that divides ms: d, h, m, s (not the bare seconds, not ms) */
	for (size_t i = sizeof duration_units / sizeof duration_units[0]; ms != 0 && i-- > 0;) {
		const struct unit *u = &duration_units[i];

		if (u->factor > 1 && u->suffix[0] != '\0' && ms % u->factor == 0) {
			snprintf(
			    buf, size, "%llu%s", (unsigned long long)(ms / u->factor), u->suffix);
			return buf;
		}
	}
	if (ms == 0)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "%llums", (unsigned long long)ms);
	return buf;
}

int
str_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v, unit;

	if (s == NULL || parse_digits(&s, &v, NULL) != 0)
		return -1;
	unit = unit_factor(size_units, sizeof size_units / sizeof size_units[0], s, 1);
	if (unit == 0 || v > UINT64_MAX / unit)
		return -1;
	*bytes = v * unit;
	return 0;
}

const char *
str_table_name(const char *const *names, int n, int i)
{
	return i >= 0 && i < n ? names[i] : "unknown";
}

int
str_table_find(const char *const *names, int n, const char *s)
{
	for (int i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

int
str_list_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int
str_ascii_printable(const char *s, size_t min, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n < min || n > max)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

char *
str_range_error(const char *option, const char *what, double lo, int lo_open, double hi,
    const char *value)
{
	char *v = str_sanitize(value, 64);
	char *s = xasprintf("%s wants %s %s %.15g %s %.15g, not '%s'", option, what,
	    lo_open ? "more than" : "from", lo, lo_open ? "and at most" : "to", hi, v);

	free(v);
	return s;
}
