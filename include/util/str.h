#ifndef UTIL_STR_H
#define UTIL_STR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Strings: a growable buffer, sanitising of untrusted text before it reaches a terminal, and
 * small parsers (MAC addresses, durations, sizes) shared by the configuration and the CLI.
 * All helpers are locale-independent (ASCII case folding only).
 */

/* A growable, always NUL-terminated string. Embedded: strbuf_init / strbuf_done. */
struct strbuf {
	char *buf; /* NULL while empty; read with strbuf_str() */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
};

/* Makes sb empty; allocates nothing. */
void strbuf_init(struct strbuf *sb);
/* Frees what sb holds and leaves it empty (it may be used again). */
void strbuf_done(struct strbuf *sb);
/* Empties sb but keeps its allocation. */
void strbuf_reset(struct strbuf *sb);
/* Appends the NUL-terminated string s. */
void strbuf_append(struct strbuf *sb, const char *s);
/* Appends len bytes of s (which may hold NULs; the buffer stays NUL-terminated). */
void strbuf_append_len(struct strbuf *sb, const char *s, size_t len);
/* Appends one byte. */
void strbuf_append_char(struct strbuf *sb, char c);
/* Appends printf-formatted text. */
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the contents ("" while empty); owned by sb, valid until the next change. */
const char *strbuf_str(const struct strbuf *sb);
/* Returns the contents as a malloc'd string (never NULL; caller frees) and empties sb. */
char *strbuf_steal(struct strbuf *sb);

/*
 * Returns a malloc'd copy of s that is safe to print on a terminal (caller frees): ESC
 * sequences (CSI, OSC, DCS, SOS, PM, APC with their payloads; other two- and three-byte
 * escapes), C0 controls (tab and newline included), DEL, C1 controls U+0080..U+009F (8-bit
 * CSI/OSC/DCS... with their payloads) and the characters str_is_bidi and str_is_format name
 * are removed; each
 * maximal invalid UTF-8
 * subsequence becomes U+FFFD. Valid printable UTF-8 is kept. The result holds at most max
 * bytes (not counting the NUL; 0 = no limit) and is cut only between characters.
 * s NULL gives "".
 */
char *str_sanitize(const char *s, size_t max);
/*
 * 1 for a code point that reorders or breaks the text shown after it: bidi embeddings and
 * overrides U+202A..U+202E, isolates U+2066..U+2069, the marks U+200E, U+200F, U+061C, and the
 * separators U+2028/U+2029. Terminals give them width 0, so nothing else stops them.
 */
int str_is_bidi(uint32_t cp);
/*
 * 1 for the other format characters (Unicode category Cf): zero-width space, joiners, word
 * joiner, BOM, soft hyphen, the Mongolian vowel separator, tags... Invisible, width 0 or
 * unknown to terminals (tmux and the terminal disagree, and the row after them shifts).
 */
int str_is_format(uint32_t cp);
/*
 * Decodes one UTF-8 character at s (len >= 1 bytes available): returns its length and sets
 * *cp, or returns 0 and sets *bad to the length of the maximal invalid subpart (at least 1),
 * which every output that substitutes U+FFFD replaces by one U+FFFD.
 */
size_t str_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, size_t *bad);
/* Returns 1 when str_sanitize(s, 0) would return s unchanged, else 0 (NULL is safe). */
int str_is_safe(const char *s);
/*
 * The one wording of a numeric option's range error (caller frees): "OPTION wants WHAT from LO
 * to HI, not 'VALUE'", or with lo_open (LO itself not allowed) "OPTION wants WHAT more than LO
 * and at most HI, not 'VALUE'". VALUE is sanitised.
 */
char *str_range_error(const char *option, const char *what, double lo, int lo_open, double hi,
    const char *value);
/* 1 when s has min..max bytes, all printable ASCII (0x20..0x7e): SSIDs, WiFi keys. */
int str_ascii_printable(const char *s, size_t min, size_t max);
/* Sanitises s in place, like str_sanitize but invalid UTF-8 becomes '?' (never grows). */
void str_sanitize_inplace(char *s);

/*
 * Normalises a MAC address written AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF, AABB.CCDD.EEFF (the
 * forms PHP's FILTER_VALIDATE_MAC, so OPNsense, accepts) or aabbccddeeff (any case) into 12
 * lower-case hex digits plus NUL in out. Returns 0, or -1 (out is then "").
 */
int str_mac_normalise(const char *in, char out[13]);

/* Returns a malloc'd copy of s with every byte but A-Z a-z 0-9 - . _ ~ written %XX (caller frees). */
char *str_urlencode(const char *s);

/* ASCII case-insensitive strcmp (<0, 0, >0). */
int str_casecmp(const char *a, const char *b);
/* Returns 1 when a and b are equal ignoring ASCII case, else 0; NULLs are equal only to NULL. */
int str_caseeq(const char *a, const char *b);
/* Returns 1 when s starts with prefix (case-sensitive), else 0. */
int str_has_prefix(const char *s, const char *prefix);
/* Returns 1 when s starts with prefix ignoring ASCII case, else 0. */
int str_has_caseprefix(const char *s, const char *prefix);

/*
 * Copies src into dst (size bytes, always NUL-terminated when size > 0), cutting only between
 * UTF-8 characters. Returns strlen(src): a result >= size means the copy was truncated.
 */
size_t str_copy(char *dst, size_t size, const char *src);
/* Overwrites the text of a secret, then frees it (NULL is fine). */
void str_free_secret(char *s);
/* Frees the n strings of v (NULLs are fine), then v itself. */
void str_array_free(char **v, size_t n);
/* str_copy() of the first len bytes of src at most (src need not end within them). */
size_t str_copyn(char *dst, size_t size, const char *src, size_t len);

/*
 * Parses a duration: a non-negative decimal number (an optional fraction such as "1.5s" is
 * allowed) with a unit ms, s, m, h or d; a bare number is seconds. Returns 0 and sets *ms, or
 * -1 on syntax error or overflow. Fractions of a millisecond are rounded down.
 */
int str_parse_duration_ms(const char *s, uint64_t *ms);
/* Formats ms in the largest unit that is exact ("30s", "5m", "1500ms") into buf; returns buf. */
char *str_format_duration_ms(uint64_t ms, char *buf, size_t size);
/*
 * Parses s, all of it, as a decimal whole number in [lo, hi] (as strtoll reads it: leading
 * blanks and a sign are allowed). Returns 0 and sets *out, or -1 and leaves *out alone (NULL,
 * empty, text after the number, overflow, out of range).
 */
int str_parse_int(const char *s, long long lo, long long hi, long long *out);
/*
 * Parses a number of seconds above 0 and at most max, as strtod reads it ("2", "0.5", "1e-3").
 * Returns 0 and sets *sec, or -1 (no number, text after it, out of range, NaN).
 */
int str_parse_seconds(const char *s, double max, double *sec);
/*
 * Parses a size in bytes: a non-negative integer with an optional suffix B, k/K/KiB/KB,
 * M/MiB/MB, G/GiB/GB. All suffixes are binary (1k = 1024). Returns 0 and sets *bytes, or -1.
 */
int str_parse_size(const char *s, uint64_t *bytes);

/* names[i] of a table of n names (an enum's), or "unknown" when i is out of range. */
const char *str_table_name(const char *const *names, int n, int i);
/* The index of s in a table of n names, or -1 (s NULL too). */
int str_table_find(const char *const *names, int n, const char *s);
/* 1 when s is one of the n strings of v (none NULL), else 0. */
int str_list_has(char *const *v, size_t n, const char *s);

#endif
