#include "util/json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"
#include "util/xmalloc.h"

/*
 * cJSON's small blocks (a node is 64 bytes; most names and strings are shorter) are kept for
 * reuse when freed. A parsed reply is a hundred or more of them, freed together; glibc's
 * per-thread cache holds only 7 blocks of a size, so the rest went to the fast bins and were
 * merged back (malloc_consolidate) at the next large allocation, for every reply. Every
 * block is an ordinary malloc block (of JSON_SMALL bytes or more): free() of cJSON output
 * stays correct.
 *
 * Under AddressSanitizer a kept block is poisoned, and a block handed out is addressable only
 * for the bytes asked for: a use after cJSON_Delete, a read or write past what cJSON asked for
 * and a second free of a kept block are reported ("use-after-poison") as they would be
 * without the pool. (A leak is still reported; its stack is where the block was first
 * allocated, which for a reused block may be an earlier tree's.) The plain build compiles none
 * of it.
 */
#define JSON_SMALL 64
#define JSON_POOL_MAX 1024 /* blocks kept at most (under 100 KiB) */

#if defined(__SANITIZE_ADDRESS__)
#define JSON_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JSON_ASAN 1
#endif
#endif

static void *json_pool[JSON_POOL_MAX];
static size_t json_npool;
static size_t json_small_usable; /* malloc_usable_size of a JSON_SMALL block */

#ifdef JSON_ASAN
#include <sanitizer/asan_interface.h>

/* Only the n bytes asked for (at least the first, read by json_check_free) are addressable. */
static void *
json_hand_out(void *p, size_t n)
{
	ASAN_POISON_MEMORY_REGION(p, JSON_SMALL);
	ASAN_UNPOISON_MEMORY_REGION(p, n > 0 ? n : 1);
	return p;
}

/* A small block already kept is poisoned: the read makes the sanitizer report the second
 * free (whether or not the pool keeps this one). */
static void
json_check_free(void *p)
{
	if (malloc_usable_size(p) == json_small_usable)
		(void)*(volatile const char *)p;
}
#else
#define json_hand_out(p, n) (p)
#define json_check_free(p) ((void)0)
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)0)
#endif

static void *
json_alloc_cb(size_t n)
{
	void *p;

	if (n > JSON_SMALL)
		return malloc(n);
	if (json_npool > 0)
		return json_hand_out(json_pool[--json_npool], n);
	if ((p = malloc(JSON_SMALL)) == NULL)
		return NULL;
	return json_hand_out(p, n);
}

static void
json_free_cb(void *p)
{
	if (p == NULL)
		return;
	json_check_free(p);
	if (json_npool < JSON_POOL_MAX && malloc_usable_size(p) == json_small_usable) {
		ASAN_POISON_MEMORY_REGION(p, JSON_SMALL);
		json_pool[json_npool++] = p;
	} else
		free(p);
}

__attribute__((constructor)) static void
json_pool_init(void)
{
	cJSON_Hooks hooks = { json_alloc_cb, json_free_cb };
	void *p;

	if ((p = malloc(JSON_SMALL)) == NULL)
		return;
	json_small_usable = malloc_usable_size(p);
	free(p);
	cJSON_InitHooks(&hooks);
}

static int json_default_depth = JSON_MAX_DEPTH; /* json_set_max_depth */

void
json_set_max_depth(int max_depth)
{
	json_default_depth = max_depth > 0 ? max_depth : JSON_MAX_DEPTH;
}

/* The index just past the quote that closes the string whose text starts at i; len if none. */
static size_t
string_end(const char *buf, size_t len, size_t i)
{
	const char *q;

	/* memchr finds the candidates a byte loop would walk to (most of a reply is strings). */
	while (i < len && (q = memchr(buf + i, '"', len - i)) != NULL) {
		size_t at = (size_t)(q - buf), bs = 0;

		while (at - bs > i && buf[at - bs - 1] == '\\')
			bs++;
		i = at + 1;
		if (bs % 2 == 0)
			return i; /* not escaped */
	}
	return len;
}

int
json_depth(const char *buf, size_t len, int max_depth)
{
	int depth = 0, max = 0;
	size_t i = 0;

	if (max_depth <= 0)
		max_depth = json_default_depth;
	while (i < len) {
		switch (buf[i++]) {
		case '"':
			i = string_end(buf, len, i);
			break;
		case '[':
		case '{':
			if (++depth > max_depth)
				return -1;
			if (depth > max)
				max = depth;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return max;
}

/* A short printable excerpt of buf around off, for error messages (never control bytes). */
static void
excerpt(const char *buf, size_t len, size_t off, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = off; i < len && n + 1 < size && n < 16; i++) {
		unsigned char c = (unsigned char)buf[i];

		out[n++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
	}
	out[n] = '\0';
}

/* Whether the tree nests deeper than max_depth (the levels json_depth counts in its text). */
static int
too_deep(const cJSON *item, int max_depth)
{
	if ((item->type & (cJSON_Array | cJSON_Object)) == 0)
		return 0;
	if (max_depth == 0)
		return 1;
	/* Only containers go one level down (most members are leaves). */
	for (const cJSON *c = item->child; c != NULL; c = c->next) {
		if ((c->type & (cJSON_Array | cJSON_Object)) != 0 && too_deep(c, max_depth - 1))
			return 1;
	}
	return 0;
}

/* A rejected document's *cause: nesting first (as the text has it), then what cJSON saw. */
static void
parse_cause(const char *buf, size_t len, int max_depth, size_t off, const char *what, char **cause)
{
	char near[20];

	if (cause == NULL)
		return;
	if (json_depth(buf, len, max_depth) < 0)
		*cause = xasprintf("JSON nested deeper than %d levels", max_depth);
	else if (off >= len)
		*cause = xasprintf("invalid JSON: unexpected end at offset %zu", len);
	else {
		excerpt(buf, len, off, near, sizeof near);
		*cause = xasprintf("invalid JSON%s at offset %zu near '%s'", what, off, near);
	}
}

cJSON *
json_parse(const char *buf, size_t len, int max_depth, char **cause)
{
	const char *end = NULL;
	cJSON *root;
	char *copy;
	size_t off;
	const void *nul;

	if (max_depth <= 0)
		max_depth = json_default_depth;
	if (buf == NULL || len == 0) {
		if (cause != NULL)
			*cause = xstrdup("empty JSON document");
		return NULL;
	}
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		if (cause != NULL)
			*cause = xasprintf(
			    "NUL byte in JSON at offset %zu", (size_t)((const char *)nul - buf));
		return NULL;
	}
	/* cJSON wants a terminated buffer to be safe on every path; the copy is cheap
	 * (size-capped). Its own nesting limit (1000) bounds its recursion; ours is checked on
	 * the tree, and the text is scanned for it only when the document is rejected anyway
	 * (a scan of every reply before parsing was 2% of a poll's instructions). */
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	root = cJSON_ParseWithOpts(copy, &end, 0);
	off = (end != NULL && end >= copy && end <= copy + len) ? (size_t)(end - copy)
	                                                        : (root != NULL ? len : 0);
	if (root != NULL) {
		while (off < len && isspace((unsigned char)copy[off]))
			off++;
		if (off == len && !too_deep(root, max_depth)) {
			free(copy);
			return root;
		}
		cJSON_Delete(root);
	}
	parse_cause(buf, len, max_depth, off, root != NULL ? ": trailing data" : "", cause);
	free(copy);
	return NULL;
}

/* Parses a whole trimmed string as a finite number. */
static int
parse_num(const char *s, double *out)
{
	char *end;
	double d;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	/* strtod also accepts "nan", "inf" and hex floats; devices send none of them. */
	for (const char *p = s; *p; p++)
		if (isalpha((unsigned char)*p) && *p != 'e' && *p != 'E')
			return -1;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno == ERANGE)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

double
json_number(const cJSON *item)
{
	double d;

	if (item == NULL)
		return NAN;
	if (cJSON_IsNumber(item))
		return isfinite(item->valuedouble) ? item->valuedouble : NAN;
	if (cJSON_IsString(item) && item->valuestring != NULL &&
	    parse_num(item->valuestring, &d) == 0)
		return d;
	return NAN;
}

int
json_bool(const cJSON *item)
{
	const char *s;

	if (item == NULL)
		return -1;
	if (cJSON_IsTrue(item))
		return 1;
	if (cJSON_IsFalse(item))
		return 0;
	if (cJSON_IsNumber(item)) {
		if (item->valuedouble == 0)
			return 0;
		if (item->valuedouble == 1)
			return 1;
		return -1;
	}
	if (cJSON_IsString(item) && (s = item->valuestring) != NULL) {
		if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
			return 1;
		if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
			return 0;
	}
	return -1;
}

const char *
json_string(const cJSON *item)
{
	if (item == NULL || !cJSON_IsString(item))
		return NULL;
	return item->valuestring;
}

int
json_int(const cJSON *item, long long lo, long long hi, long long *out)
{
	double d = json_number(item);

	if (isnan(d) || d != floor(d))
		return -1;
	/* Compare as doubles first: converting an out-of-range double to an integer is undefined.
	 */
	if (d < (double)lo || d > (double)hi || d < -9.0e18 || d > 9.0e18)
		return -1;
	*out = (long long)d;
	if (*out < lo || *out > hi)
		return -1;
	return 0;
}

const cJSON *
json_get(const cJSON *obj, const char *key)
{
	if (obj == NULL || !cJSON_IsObject(obj) || key == NULL)
		return NULL;
	/* As cJSON_GetObjectItemCaseSensitive, which calls strcmp for every member before the
	 * match: the first byte rules most out (replies are read member by member, by name). */
	for (const cJSON *c = obj->child; c != NULL; c = c->next) {
		if (c->string != NULL && c->string[0] == key[0] && strcmp(c->string, key) == 0)
			return c;
	}
	return NULL;
}

double
json_get_number(const cJSON *obj, const char *key)
{
	return json_number(json_get(obj, key));
}

int
json_get_bool(const cJSON *obj, const char *key)
{
	return json_bool(json_get(obj, key));
}

const char *
json_get_string(const cJSON *obj, const char *key)
{
	return json_string(json_get(obj, key));
}

int
json_get_int(const cJSON *obj, const char *key, long long lo, long long hi, long long *out)
{
	return json_int(json_get(obj, key), lo, hi, out);
}

const cJSON *
json_get_object(const cJSON *obj, const char *key)
{
	const cJSON *v = json_get(obj, key);

	return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *
json_get_array(const cJSON *obj, const char *key)
{
	const cJSON *v = json_get(obj, key);

	return cJSON_IsArray(v) ? v : NULL;
}

int
json_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n;

	if (size == 0)
		return src != NULL;
	if (src == NULL) {
		dst[0] = '\0';
		return 0;
	}
	n = strnlen(src, size);
	if (n >= size) {
		n = size - 1;
		/* Do not cut a UTF-8 sequence: back off over continuation bytes and their lead. */
		if (((unsigned char)src[n] & 0xC0) == 0x80) {
			while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
				n--;
		}
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 1;
}

int
json_get_strbuf(const cJSON *obj, const char *key, char *dst, size_t size)
{
	return json_strlcpy(dst, json_get_string(obj, key), size);
}

void
json_add_text(cJSON *o, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *
json_parse_object(const char *buf, size_t len, int max_depth, const char *what, char **cause)
{
	cJSON *root = json_parse(buf, len, max_depth, cause);

	if (root != NULL && !cJSON_IsObject(root)) {
		if (cause != NULL)
			*cause = xasprintf("%s is not a JSON object", what);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/*
 * What json_print makes of the character at p (n bytes left, n >= 1), its length in *len:
 * 0 to copy it; 0xFFFD for an invalid UTF-8 sequence (*len its maximal invalid part, as every
 * other output replaces it); else the code point to write as \uXXXX: DEL, the C1 controls and
 * the bidirectional controls and separators (str_is_bidi) that make a terminal show text in
 * another order than it is, and the other format characters (str_is_format), invisible.
 */
static unsigned
print_escaped(const unsigned char *p, size_t n, size_t *len)
{
	uint32_t cp;
	size_t bad = 1;

	*len = 1;
	if (p[0] < 0x80)
		return p[0] == 0x7f ? 0x7f : 0;
	if ((*len = str_utf8_decode(p, n, &cp, &bad)) == 0) {
		*len = bad;
		return 0xfffd;
	}
	return cp <= 0x9f || str_is_bidi(cp) || str_is_format(cp) ? cp : 0;
}

char *
json_print(const cJSON *item, int pretty)
{
	static const char fffd[] = "\xef\xbf\xbd";
	char *raw = pretty ? cJSON_Print(item) : cJSON_PrintUnformatted(item);
	const unsigned char *u = (const unsigned char *)raw;
	struct strbuf out;
	size_t i = 0, n, len, done = 0;

	if (raw == NULL)
		abort(); /* cJSON fails only when out of memory */
	/* Outside strings JSON text is ASCII, so byte-level rewriting cannot change structure. */
	n = strlen(raw);
	while (i < n && print_escaped(u + i, n - i, &len) == 0)
		i += len;
	if (i == n)
		return raw;
	strbuf_init(&out);
	for (; i < n; i += len) {
		unsigned cp = print_escaped(u + i, n - i, &len);
		if (cp == 0)
			continue;
		strbuf_append_len(&out, raw + done, i - done);
		if (cp == 0xfffd)
			strbuf_append_len(&out, fffd, 3);
		else if (cp > 0xffff) /* a surrogate pair */
			strbuf_appendf(&out, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
			    0xdc00 + ((cp - 0x10000) & 0x3ff));
		else
			strbuf_appendf(&out, "\\u%04x", cp);
		done = i + len;
	}
	strbuf_append_len(&out, raw + done, n - done);
	free(raw);
	return strbuf_steal(&out);
}

char *
json_compact_free(cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	if (text == NULL)
		abort();
	return text;
}
