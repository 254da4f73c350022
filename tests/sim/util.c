/* shelly-sim helpers: buffers, files, string rewriting, addresses, JSON, device selections. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util/xmalloc.h"

void
buf_add(struct buf *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				abort();
			cap *= 2;
		}
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->p ? b->p : xstrdup("");
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

char *
read_file(const char *path, size_t *len, char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b = {0};
	char chunk[8192];

	if (fd < 0) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*cause = xasprintf("%s: %s", path, strerror(errno));
			close(fd);
			free(b.p);
			return NULL;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > 64u << 20) {
			*cause = xasprintf("%s: larger than 64 MiB", path);
			close(fd);
			free(b.p);
			return NULL;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	return buf_take(&b, len);
}

char *
str_replace_all(const char *s, size_t len, const char *const *from, const char *const *to, size_t n,
    size_t *out_len)
{
	struct buf b = {0};
	size_t i = 0;

	while (i < len) {
		size_t k, best = n;
		for (k = 0; k < n; k++) {
			size_t fl = strlen(from[k]);
			if (fl && fl <= len - i && memcmp(s + i, from[k], fl) == 0) {
				best = k;
				break;
			}
		}
		if (best < n) {
			buf_adds(&b, to[best]);
			i += strlen(from[best]);
			continue;
		}
		/* Copy up to the next byte that could start a match. */
		size_t j = i + 1;
		while (j < len) {
			for (k = 0; k < n; k++)
				if (from[k][0] == s[j])
					break;
			if (k < n)
				break;
			j++;
		}
		buf_add(&b, s + i, j - i);
		i = j;
	}
	return buf_take(&b, out_len);
}

void
addr_str(uint32_t addr, char out[16])
{
	snprintf(
	    out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
}

int
addr_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* Index of addr among the addresses whose last octet is 1..254. */
static int64_t
addr_ord(uint32_t addr)
{
	uint32_t low = addr & 255;

	if (low == 0 || low == 255)
		return -1;
	return (int64_t)(addr >> 8) * 254 + (low - 1);
}

long
addr_pos(uint32_t base, uint32_t addr)
{
	int64_t a = addr_ord(addr), b = addr_ord(base);

	if (a < 0 || b < 0 || a < b || a - b > LONG_MAX)
		return -1;
	return (long)(a - b);
}

uint32_t
addr_at(uint32_t base, size_t pos)
{
	int64_t o = addr_ord(base);
	if (o < 0)
		return 0;
	o += (int64_t)pos;
	if (o / 254 > 0xffffff)
		return 0;
	return (uint32_t)((o / 254) << 8) | (uint32_t)(o % 254 + 1);
}

uint64_t
sim_rand(struct sim *sim)
{
	uint64_t x = sim->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	sim->rng = x;
	return x;
}

double
round_n(double v, int n)
{
	double m = 1;
	while (n-- > 0)
		m *= 10;
	return round(v * m) / m;
}

double
js_num(const cJSON *o, const char *key, double def)
{
	const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	if (cJSON_IsNumber(it))
		return it->valuedouble;
	if (cJSON_IsBool(it))
		return cJSON_IsTrue(it) ? 1 : 0;
	if (cJSON_IsString(it) && it->valuestring[0]) {
		char *end;
		double v = strtod(it->valuestring, &end);
		if (*end == '\0')
			return v;
	}
	return def;
}

bool
js_has(const cJSON *o, const char *key)
{
	return o && cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

const char *
js_str(const cJSON *o, const char *key)
{
	const cJSON *it = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

void
js_set(cJSON *o, const char *key, cJSON *item)
{
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(item);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
	else
		cJSON_AddItemToObject(o, key, item);
}

void
js_set_num_if(cJSON *o, const char *key, double v)
{
	if (js_has(o, key))
		js_set(o, key, cJSON_CreateNumber(v));
}

void
js_set_bool_if(cJSON *o, const char *key, bool v)
{
	if (js_has(o, key))
		js_set(o, key, cJSON_CreateBool(v));
}

void
js_set_str_if(cJSON *o, const char *key, const char *v)
{
	if (js_has(o, key))
		js_set(o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static bool
numeric_key(const char *s, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 100000)
		return false;
	*out = v;
	return true;
}

void
js_merge(cJSON *dst, const cJSON *src)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, src)
	{
		cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, it->string);
		long idx;
		if (cJSON_IsObject(it) && cJSON_IsObject(cur)) {
			js_merge(cur, it);
		} else if (cJSON_IsObject(it) && cJSON_IsArray(cur)) {
			const cJSON *el;
			cJSON_ArrayForEach(el, it)
			{
				cJSON *slot;
				if (!numeric_key(el->string, &idx))
					continue;
				slot = cJSON_GetArrayItem(cur, (int)idx);
				if (slot && cJSON_IsObject(slot) && cJSON_IsObject(el))
					js_merge(slot, el);
				else if (slot)
					cJSON_ReplaceItemInArray(
					    cur, (int)idx, cJSON_Duplicate(el, 1));
			}
		} else {
			js_set(dst, it->string, cJSON_Duplicate(it, 1));
		}
	}
}

char *
js_print(const cJSON *o, size_t *len)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	char *r = xstrdup(s ? s : "null");

	cJSON_free(s);
	if (len)
		*len = strlen(r);
	return r;
}

/* A device selection: a list of rules, any of which selects. */
struct sel {
	struct sel_rule {
		enum { SEL_ALL, SEL_GEN1, SEL_GEN2, SEL_EVERY, SEL_RANGE } kind;
		size_t a, b;
	} * r;
	size_t n;
};

struct sel *
sel_parse(const char *s, char **cause)
{
	struct sel *sel = xcalloc(1, sizeof *sel);
	char *copy = xstrdup(s ? s : ""), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct sel_rule r = {0};
		char *end;
		unsigned long a, b;
		if (strcmp(tok, "none") == 0)
			continue;
		if (strcmp(tok, "all") == 0) {
			r.kind = SEL_ALL;
		} else if (strcmp(tok, "gen1") == 0) {
			r.kind = SEL_GEN1;
		} else if (strcmp(tok, "gen2") == 0 || strcmp(tok, "gen2+") == 0) {
			r.kind = SEL_GEN2;
		} else if (strncmp(tok, "every:", 6) == 0) {
			errno = 0;
			a = strtoul(tok + 6, &end, 10);
			if (errno || *end || a == 0)
				goto bad;
			r.kind = SEL_EVERY;
			r.a = a;
		} else {
			errno = 0;
			a = strtoul(tok, &end, 10);
			if (errno || end == tok)
				goto bad;
			b = a;
			if (*end == '-') {
				char *e2;
				b = strtoul(end + 1, &e2, 10);
				if (errno || e2 == end + 1 || *e2 || b < a)
					goto bad;
			} else if (*end) {
				goto bad;
			}
			r.kind = SEL_RANGE;
			r.a = a;
			r.b = b;
		}
		sel->r = xreallocarray(sel->r, sel->n + 1, sizeof *sel->r);
		sel->r[sel->n++] = r;
		continue;
	bad:
		*cause = xasprintf(
		    "bad device selection \"%s\" (all, none, gen1, gen2, every:N, I, A-B)", tok);
		free(copy);
		sel_free(sel);
		return NULL;
	}
	free(copy);
	return sel;
}

bool
sel_match(const struct sel *sel, size_t index, int gen)
{
	size_t i;

	if (!sel)
		return false;
	for (i = 0; i < sel->n; i++) {
		const struct sel_rule *r = &sel->r[i];
		switch (r->kind) {
		case SEL_ALL:
			return true;
		case SEL_GEN1:
			if (gen == 1)
				return true;
			break;
		case SEL_GEN2:
			if (gen >= 2)
				return true;
			break;
		case SEL_EVERY:
			if (index % r->a == 0)
				return true;
			break;
		case SEL_RANGE:
			if (index >= r->a && index <= r->b)
				return true;
			break;
		}
	}
	return false;
}

void
sel_free(struct sel *sel)
{
	if (!sel)
		return;
	free(sel->r);
	free(sel);
}

#define FAULT_NAME(e, name, help) name,
static const char *const fault_names[] = {SIM_FAULTS(FAULT_NAME)};
#undef FAULT_NAME
#define DIGEST_NAME(e, name, help) name,
static const char *const digest_names[] = {SIM_DIGEST_STYLES(DIGEST_NAME)};
#undef DIGEST_NAME

const char *
fault_name(enum sim_fault f)
{
	return (unsigned)f < SIM_FAULT_COUNT ? fault_names[f] : "?";
}

int
fault_parse(const char *s, enum sim_fault *out)
{
	for (unsigned i = 0; i < SIM_FAULT_COUNT; i++)
		if (strcmp(s, fault_names[i]) == 0) {
			*out = (enum sim_fault)i;
			return 0;
		}
	return -1;
}

const char *
digest_name(enum sim_digest d)
{
	return (unsigned)d < SIM_DIGEST_COUNT ? digest_names[d] : "?";
}

int
digest_parse(const char *s, enum sim_digest *out)
{
	for (unsigned i = 0; i < SIM_DIGEST_COUNT; i++)
		if (strcmp(s, digest_names[i]) == 0) {
			*out = (enum sim_digest)i;
			return 0;
		}
	return -1;
}

void
reply_set(struct reply *r, unsigned status, const char *ctype, char *body, size_t len)
{
	free(r->body);
	r->status = status;
	r->ctype = ctype;
	r->body = body;
	r->len = len;
	r->json = false;
}

void
reply_json(struct reply *r, unsigned status, char *body, size_t len)
{
	reply_set(r, status, "application/json", body, len);
	r->json = true;
}

void
reply_done(struct reply *r)
{
	free(r->body);
	free(r->www_auth);
	memset(r, 0, sizeof *r);
}
