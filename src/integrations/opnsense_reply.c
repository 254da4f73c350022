#include "integrations/opnsense_reply.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/str.h"
#include "util/xmalloc.h"

/* Longest string kept from a reply field; longer ones are cut (between characters). */
#define FIELD_MAX 1024
/* Most rows accepted from one search reply. */
#define ROWS_MAX 100000

/* State */

static void
record_done(struct opn_record *r)
{
	free(r->uuid);
	free(r->macs);
	free(r->mac_set);
	free(r->ip);
	free(r->hostname);
	free(r->descr);
	free(r->subnet);
}

static void
alias_done(struct opn_alias *a)
{
	free(a->uuid);
	free(a->type);
	free(a->descr);
	free(a->fields);
	str_array_free(a->content, a->ncontent);
	memset(a, 0, sizeof *a);
}

/* Replace the subnet table by arr (n slots, taken; NULL, 0 to empty it). */
static void
subnets_set(struct opn_state *st, void *arr, size_t n)
{
	for (size_t i = 0; i < st->nsubnets; i++) {
		free(st->subnets[i].uuid);
		free(st->subnets[i].text);
	}
	free(st->subnets);
	st->subnets = arr;
	st->nsubnets = n;
}

static void
records_set(struct opn_state *st, void *arr, size_t n)
{
	for (size_t i = 0; i < st->nrecords; i++)
		record_done(&st->records[i]);
	free(st->records);
	st->records = arr;
	st->nrecords = n;
}

void
opn_state_done(struct opn_state *st)
{
	subnets_set(st, NULL, 0);
	records_set(st, NULL, 0);
	alias_done(&st->alias);
	memset(st, 0, sizeof *st);
}

/* Parsing helpers */

static cJSON *
parse(const char *body, size_t len, char **cause)
{
	char *err = NULL;
	cJSON *root = json_parse(body, len, JSON_MAX_DEPTH, &err);

	if (root == NULL) {
		*cause = xasprintf("the reply is not JSON: %s", err);
		free(err);
	}
	return root;
}

/* The keys of an option map {"key":{"value":"label","selected":1}} whose "selected" is set,
 * joined by ',' (unsanitised, uncut). */
static char *
selected_keys(const cJSON *map)
{
	const cJSON *opt;
	struct strbuf sb;

	strbuf_init(&sb);
	cJSON_ArrayForEach(opt, map)
	{
		if (opt->string == NULL || json_get_bool(opt, "selected") != 1)
			continue;
		if (sb.len > 0)
			strbuf_append_char(&sb, ',');
		strbuf_append(&sb, opt->string);
	}
	return strbuf_steal(&sb);
}

/* A field's value as text, unsanitised and uncut: a string or number as is, an option map as
 * its selected keys; NULL for anything else (absent, null, list). */
static char *
field_raw(const cJSON *it)
{
	char num[32];

	if (cJSON_IsString(it))
		return xstrdup(it->valuestring);
	if (cJSON_IsNumber(it)) {
		snprintf(num, sizeof num, "%.0f", it->valuedouble);
		return xstrdup(num);
	}
	return cJSON_IsObject(it) ? selected_keys(it) : NULL;
}

/*
 * A field of a row or item as text: a string or number as is; an option map as the selected
 * keys joined by ','. NULL if absent. Returns a sanitised malloc'd string (at most FIELD_MAX).
 */
static char *
field(const cJSON *obj, const char *key)
{
	char *raw = field_raw(json_get(obj, key)), *s;

	if (raw == NULL)
		return NULL;
	s = str_sanitize(raw, FIELD_MAX);
	free(raw);
	return s;
}

/* field(), "" when absent. */
static char *
field0(const cJSON *obj, const char *key)
{
	char *s = field(obj, key);

	return s != NULL ? s : xstrdup("");
}

/* The "rows" array of a search reply, or NULL with *cause. */
static const cJSON *
rows_of(const cJSON *root, char **cause)
{
	const cJSON *rows = json_get_array(root, "rows");

	if (rows == NULL) {
		*cause = xstrdup("the search reply has no \"rows\" list");
		return NULL;
	}
	if (cJSON_GetArraySize(rows) > ROWS_MAX) {
		*cause = xasprintf("the search reply has more than %d rows", ROWS_MAX);
		return NULL;
	}
	return rows;
}

/* Parses a search reply; returns its tree (caller frees) with *rows, or NULL with *cause. */
static cJSON *
parse_rows(const char *body, size_t len, const cJSON **rows, char **cause)
{
	cJSON *root = parse(body, len, cause);

	if (root != NULL && (*rows = rows_of(root, cause)) == NULL) {
		cJSON_Delete(root);
		root = NULL;
	}
	return root;
}

/* Splits a list value ("a,b", "a, b", "a\nb") and returns the first entry accepted by take,
 * copied into out; returns 1 if one was found. */
static int
list_first(const char *list, int (*take)(const char *, char *, size_t), char *out, size_t size)
{
	char *copy = xstrdup(list), *save = NULL, *tok;
	int found = 0;

	for (tok = strtok_r(copy, ", \t\n", &save); tok != NULL && !found;
	     tok = strtok_r(NULL, ", \t\n", &save))
		found = take(tok, out, size);
	free(copy);
	return found;
}

/* Every MAC in a list value, normalised, joined by ',' ("" when none). */
static char *
mac_set_of(const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok, mac[13];
	struct strbuf sb;

	strbuf_init(&sb);
	for (tok = strtok_r(copy, ", \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t\n", &save))
		if (str_mac_normalise(tok, mac) == 0)
			strbuf_appendf(&sb, "%s%s", sb.len > 0 ? "," : "", mac);
	free(copy);
	return strbuf_steal(&sb);
}

int
opn_record_has_mac(const struct opn_record *r, const char *mac)
{
	for (const char *p = r->mac_set; p != NULL && *p != '\0'; p += 13) {
		if (strncmp(p, mac, 12) == 0 && mac[12] == '\0')
			return 1;
		if (p[12] == '\0')
			break;
	}
	return 0;
}

static int
take_ipv4(const char *tok, char *out, size_t size)
{
	struct in_addr a;

	if (cidr_parse_ipv4(tok, &a) != 0)
		return 0;
	str_copy(out, size, tok);
	return 1;
}

/* The owner MAC of a marked description into owner ("" when foreign). */
static void
marker_owner(const char *descr, char owner[13])
{
	size_t n = strlen(OPN_MARKER);
	char hex[13];

	owner[0] = '\0';
	if (descr == NULL || strncmp(descr, OPN_MARKER, n) != 0)
		return;
	if (strlen(descr + n) < 12 || (descr[n + 12] != '\0' && descr[n + 12] != ' '))
		return;
	memcpy(hex, descr + n, 12);
	hex[12] = '\0';
	if (strspn(hex, "0123456789abcdef") != 12)
		return;
	memcpy(owner, hex, 13);
}

/* Parsers */

/*
 * Reads the rows of a search reply into a new table of size-byte slots: take fills the next
 * slot from a row and returns 1 to keep it (0 leaves the slot empty for the next row); set
 * replaces the old table by the new one. Returns 0, or -1 with *cause and the old table kept.
 */
static int
read_rows(struct opn_state *st, const char *body, size_t len, size_t size,
    int (*take)(const struct opn_state *, const cJSON *, void *),
    void (*set)(struct opn_state *, void *, size_t), char **cause)
{
	const cJSON *rows, *row;
	cJSON *root = parse_rows(body, len, &rows, cause);
	char *slots;
	size_t kept = 0;

	if (root == NULL)
		return -1;
	slots = xcalloc((size_t)cJSON_GetArraySize(rows) + 1, size);
	cJSON_ArrayForEach(row, rows)
	{
		if (take(st, row, slots + kept * size))
			kept++;
	}
	set(st, slots, kept);
	cJSON_Delete(root);
	return 0;
}

static int
subnet_from_row(const struct opn_state *st, const cJSON *row, void *slot)
{
	struct opn_subnet *s = slot;
	char *uuid = field(row, "uuid"), *text = field(row, "subnet");

	(void)st;
	if (uuid == NULL || text == NULL || cidr_parse(text, &s->net, NULL) != 0 ||
	    s->net.prefix < 0) {
		free(uuid);
		free(text);
		return 0; /* not an IPv4 subnet we can place addresses in */
	}
	s->uuid = uuid;
	s->text = text;
	return 1;
}

int
opn_parse_subnets(struct opn_state *st, const char *body, size_t len, char **cause)
{
	return read_rows(st, body, len, sizeof *st->subnets, subnet_from_row, subnets_set, cause);
}

/* The prefix length of a contiguous IPv4 mask ("255.255.255.0"), or -1. */
static int
mask_prefix(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (cidr_parse_ipv4(mask, &a) != 0)
		return -1;
	m = ntohl(a.s_addr);
	while (n < 32 && (m & (UINT32_C(1) << (31 - n))) != 0)
		n++;
	return n > 0 && (n == 32 || (m << n) == 0) ? n : -1;
}

/* The first and last address of an IPv4 range (host order; no end: the start); 0 or -1. */
static int
range_bounds(const char *start, const char *end, uint32_t *a, uint32_t *b)
{
	struct in_addr x, y;

	if (cidr_parse_ipv4(start, &x) != 0 || (end[0] != '\0' && cidr_parse_ipv4(end, &y) != 0))
		return -1;
	*a = ntohl(x.s_addr);
	*b = end[0] != '\0' ? ntohl(y.s_addr) : *a;
	return *a <= *b ? 0 : -1;
}

/* A dnsmasq DHCPv4 range row as the network it serves; IPv6 and broken rows are skipped. */
static int
range_from_row(const struct opn_state *st, const cJSON *row, void *slot)
{
	struct opn_subnet *s = slot;
	char *uuid = field0(row, "uuid"), *start = field0(row, "start_addr");
	char *end = field0(row, "end_addr"), *mask = field0(row, "subnet_mask");
	char *ifname = field0(row, "interface"), net[CIDR_TEXT_MAX];
	uint32_t a, b, m;
	int prefix, keep = 0;

	(void)st;
	if (cJSON_IsObject(row) && range_bounds(start, end, &a, &b) == 0) {
		if ((prefix = mask_prefix(mask)) < 0) /* the /24 around it, wider if need be */
			for (prefix = 24;
			     prefix > 0 && (a >> (32 - prefix)) != (b >> (32 - prefix));)
				prefix--;
		m = prefix > 0 ? UINT32_MAX << (32 - prefix) : 0;
		s->net.lo = a & m;
		s->net.hi = (a & m) | ~m;
		s->net.prefix = prefix;
		s->uuid = uuid;
		s->text = xasprintf("%s (range %s-%s%s%s)", cidr_format(&s->net, net, sizeof net),
		    start, end[0] != '\0' ? end : start, ifname[0] != '\0' ? " on " : "", ifname);
		uuid = NULL;
		keep = 1;
	}
	free(uuid);
	free(start);
	free(end);
	free(mask);
	free(ifname);
	return keep;
}

int
opn_parse_ranges(struct opn_state *st, const char *body, size_t len, char **cause)
{
	int rc = read_rows(st, body, len, sizeof *st->subnets, range_from_row, subnets_set, cause);

	st->ranges_read = rc == 0;
	return rc;
}

/* The subnet UUID of a Kea row: the raw value when it is a known UUID (25.7), else the subnet
 * whose CIDR equals the raw value or the "%subnet" label (25.1); else the raw value. */
static char *
kea_subnet(const struct opn_state *st, const cJSON *row)
{
	char *raw = field0(row, "subnet"), *label = field0(row, "%subnet");
	char *out = NULL;

	for (size_t i = 0; i < st->nsubnets && out == NULL; i++)
		if (strcmp(raw, st->subnets[i].uuid) == 0)
			out = xstrdup(raw);
	for (size_t i = 0; i < st->nsubnets && out == NULL; i++)
		if (strcmp(raw, st->subnets[i].text) == 0 ||
		    strcmp(label, st->subnets[i].text) == 0)
			out = xstrdup(st->subnets[i].uuid);
	if (out == NULL) {
		out = raw;
		raw = NULL;
	}
	free(raw);
	free(label);
	return out;
}

/* A DHCP reservation row of either backend; kept when it has a UUID. */
static int
record_from_row(const struct opn_state *st, const cJSON *row, void *slot)
{
	struct opn_record *r = slot;
	int kea = st->backend == OPN_KEA;
	char ip[INET_ADDRSTRLEN] = "";
	char *ips;

	if (!cJSON_IsObject(row))
		return 0;
	r->uuid = field0(row, "uuid");
	r->macs = field0(row, kea ? "hw_address" : "hwaddr");
	ips = field0(row, kea ? "ip_address" : "ip");
	r->hostname = field0(row, kea ? "hostname" : "host");
	r->descr = field0(row, kea ? "description" : "descr");
	r->subnet = kea ? kea_subnet(st, row) : xstrdup("");
	r->mac_set = mac_set_of(r->macs);
	str_copy(r->mac, sizeof r->mac, r->mac_set); /* the first, or "" */
	list_first(ips, take_ipv4, ip, sizeof ip);
	r->ip = xstrdup(ip);
	free(ips);
	marker_owner(r->descr, r->owner);
	if (r->uuid[0] != '\0')
		return 1;
	record_done(r);
	memset(r, 0, sizeof *r);
	return 0;
}

int
opn_parse_records(struct opn_state *st, const char *body, size_t len, char **cause)
{
	return read_rows(st, body, len, sizeof *st->records, record_from_row, records_set, cause);
}

int
opn_parse_alias_uuid(const char *body, size_t len, char **uuid, char **cause)
{
	cJSON *root = parse(body, len, cause);
	char *u;

	*uuid = NULL;
	if (root == NULL)
		return -1;
	if (cJSON_IsArray(root) && cJSON_GetArraySize(root) == 0) {
		cJSON_Delete(root);
		return 0;
	}
	u = field(root, "uuid");
	cJSON_Delete(root);
	if (u == NULL || u[0] == '\0' || strspn(u, "0123456789abcdefABCDEF-") != strlen(u)) {
		free(u);
		*cause = xstrdup("the alias UUID reply holds no UUID");
		return -1;
	}
	*uuid = u;
	return 0;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits text on newlines and commas into a sorted array of non-empty entries; -1 (nothing
 * kept) when an entry is longer than FIELD_MAX, since a cut entry would never compare equal. */
static int
split_sorted(const char *text, char ***out, size_t *n)
{
	char *copy = xstrdup(text), *save = NULL, *tok, **v = NULL;
	size_t cnt = 0;
	int rc = 0;

	for (tok = strtok_r(copy, "\n,", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, "\n,", &save)) {
		while (*tok == ' ')
			tok++;
		if (*tok == '\0')
			continue;
		if (strlen(tok) > FIELD_MAX) {
			rc = -1;
			break;
		}
		v = xreallocarray(v, cnt + 1, sizeof *v);
		v[cnt++] = str_sanitize(tok, FIELD_MAX);
	}
	free(copy);
	if (rc != 0) {
		str_array_free(v, cnt);
		v = NULL;
		cnt = 0;
	} else if (cnt > 0)
		qsort(v, cnt, sizeof *v, strp_cmp);
	*out = v;
	*n = cnt;
	return rc;
}

/* Every field of an alias item with a text value, as a compact JSON object of strings. */
static char *
alias_fields(const cJSON *item)
{
	cJSON *out = cJSON_CreateObject();
	const cJSON *f;
	char *v;

	cJSON_ArrayForEach(f, item)
	{
		if (f->string == NULL || (v = field_raw(f)) == NULL)
			continue;
		cJSON_AddStringToObject(out, f->string, v);
		free(v);
	}
	return json_compact_free(out);
}

char *
opn_alias_set_body(const struct opn_alias *a, const char *name, const char *content)
{
	cJSON *root = cJSON_CreateObject(), *item = NULL;

	if (a->fields != NULL)
		item = cJSON_Parse(a->fields);
	if (item == NULL)
		item = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(item, "name");
	cJSON_DeleteItemFromObjectCaseSensitive(item, "type");
	cJSON_DeleteItemFromObjectCaseSensitive(item, "content");
	cJSON_AddStringToObject(item, "name", name);
	cJSON_AddStringToObject(item, "type", "host");
	cJSON_AddStringToObject(item, "content", content);
	cJSON_AddItemToObject(root, "alias", item);
	return json_compact_free(root);
}

int
opn_parse_alias(struct opn_state *st, const char *uuid, const char *body, size_t len, char **cause)
{
	cJSON *root = parse(body, len, cause);
	const cJSON *item;
	char *content;
	int rc;

	if (root == NULL)
		return -1;
	if ((item = json_get_object(root, "alias")) == NULL) {
		*cause = xstrdup(cJSON_IsArray(root) ? "no alias with that UUID ([] reply)"
		                                     : "the alias reply has no \"alias\" object");
		cJSON_Delete(root);
		return -1;
	}
	alias_done(&st->alias);
	st->alias.exists = 1;
	st->alias.uuid = str_sanitize(uuid, FIELD_MAX);
	st->alias.type = field0(item, "type");
	st->alias.descr = field0(item, "description");
	st->alias.fields = alias_fields(item);
	/* Split before sanitising (which drops the newlines of a string) and without a length
	 * cap: the content lists the whole fleet (1000+ entries); the reply size bounds it. */
	if ((content = field_raw(json_get(item, "content"))) == NULL)
		content = xstrdup("");
	rc = split_sorted(content, &st->alias.content, &st->alias.ncontent);
	free(content);
	cJSON_Delete(root);
	if (rc != 0)
		*cause = xasprintf("the alias holds an entry longer than %d bytes; not compared, "
		                   "not rewritten",
		    FIELD_MAX);
	return rc;
}

int
opn_parse_enabled(
    enum opn_backend backend, const char *body, size_t len, int *enabled, char **cause)
{
	cJSON *root = parse(body, len, cause);
	const cJSON *o;
	int b;

	*enabled = 0;
	if (root == NULL)
		return -1;
	if (backend == OPN_KEA)
		o = json_get_object(json_get_object(root, "dhcpv4"), "general");
	else
		o = json_get_object(root, "dnsmasq");
	if (o == NULL) {
		*cause = xstrdup(backend == OPN_KEA ? "the Kea settings lack dhcpv4.general"
		                                    : "the dnsmasq settings lack \"dnsmasq\"");
		cJSON_Delete(root);
		return -1;
	}
	b = json_get_bool(o, backend == OPN_KEA ? "enabled" : "enable");
	*enabled = b == 1;
	cJSON_Delete(root);
	return 0;
}

/* "field: message; field: message" from a validations object (values string or list). */
static char *
validations(const cJSON *v)
{
	struct strbuf sb;
	const cJSON *f, *m;
	char *raw, *s;

	strbuf_init(&sb);
	cJSON_ArrayForEach(f, v)
	{
		if (sb.len > 0)
			strbuf_append(&sb, "; ");
		strbuf_appendf(&sb, "%s: ", f->string != NULL ? f->string : "?");
		if (cJSON_IsString(f))
			strbuf_append(&sb, f->valuestring);
		else if (cJSON_IsArray(f)) {
			int first = 1;

			cJSON_ArrayForEach(m, f)
			{
				if (!cJSON_IsString(m))
					continue;
				strbuf_appendf(&sb, "%s%s", first ? "" : ", ", m->valuestring);
				first = 0;
			}
		}
	}
	raw = strbuf_steal(&sb);
	s = str_sanitize(raw, FIELD_MAX);
	free(raw);
	return s;
}

int
opn_parse_write(const char *body, size_t len, char **uuid, char **cause)
{
	cJSON *root = parse(body, len, cause);
	const char *result;
	const cJSON *v;
	char *s;

	if (uuid != NULL)
		*uuid = NULL;
	if (root == NULL)
		return -1;
	if (cJSON_IsArray(root)) {
		*cause = xstrdup("no such record ([] reply)");
		cJSON_Delete(root);
		return -1;
	}
	result = json_get_string(root, "result");
	if (result != NULL && (strcmp(result, "saved") == 0 || strcmp(result, "deleted") == 0)) {
		if (uuid != NULL && (*uuid = field(root, "uuid")) != NULL && (*uuid)[0] == '\0') {
			free(*uuid);
			*uuid = NULL;
		}
		cJSON_Delete(root);
		return 0;
	}
	if (result != NULL && strcmp(result, "failed") == 0) {
		v = json_get_object(root, "validations");
		if (v != NULL && v->child != NULL) {
			s = validations(v);
			*cause = xasprintf("rejected: %s", s);
			free(s);
		} else
			*cause = xstrdup("rejected without validations (wrong method or body)");
	} else if (result != NULL && strcmp(result, "not found") == 0)
		*cause = xstrdup("no such record (\"not found\")");
	else if ((s = field(root, "status")) != NULL) {
		*cause = xasprintf("the request failed (status \"%s\")", s);
		free(s);
	} else
		*cause = xstrdup("unexpected reply (no \"result\")");
	cJSON_Delete(root);
	return -1;
}

int
opn_parse_status(const char *body, size_t len, char **status, char **cause)
{
	cJSON *root = parse(body, len, cause);

	*status = NULL;
	if (root == NULL)
		return -1;
	*status = field(root, "status");
	cJSON_Delete(root);
	if (*status == NULL || (*status)[0] == '\0') {
		free(*status);
		*status = NULL;
		*cause = xstrdup("the reply has no \"status\"");
		return -1;
	}
	return 0;
}

/* Decodes the entities htmlspecialchars writes, in place. */
static void
unentity(char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
	    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#039;", '\''}};
	char *w = s;

	while (*s != '\0') {
		size_t i, n = sizeof ents / sizeof ents[0];

		for (i = 0; i < n; i++)
			if (strncmp(s, ents[i].ent, strlen(ents[i].ent)) == 0)
				break;
		if (i < n) {
			*w++ = ents[i].c;
			s += strlen(ents[i].ent);
		} else
			*w++ = *s++;
	}
	*w = '\0';
}

char *
opn_parse_error(const char *body, size_t len)
{
	cJSON *root;
	char *msg, *title, *out = NULL, *err = NULL;

	if ((root = json_parse(body, len, JSON_MAX_DEPTH, &err)) == NULL) {
		free(err);
		return NULL;
	}
	msg = field(root, "errorMessage");
	title = field(root, "errorTitle");
	if (msg == NULL)
		msg = field(root, "message");
	if (msg != NULL && msg[0] != '\0') {
		unentity(msg);
		if (title != NULL && title[0] != '\0') {
			unentity(title);
			out = xasprintf("%s (%s)", msg, title);
		} else
			out = xstrdup(msg);
	}
	free(msg);
	free(title);
	cJSON_Delete(root);
	if (out != NULL) {
		msg = str_sanitize(out, FIELD_MAX);
		free(out);
		out = msg;
	}
	return out;
}

/* Pins */

static const char b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of a base64 digit, or -1. */
static int
b64_value(char c)
{
	const char *digits = b64_digits;
	const char *p = c != '\0' ? strchr(digits, c) : NULL;

	return p != NULL ? (int)(p - digits) : -1;
}

/* Decodes the 44 digits of a padded base64 SHA-256 digest into md; 0 or -1. */
static int
b64_digest(const char *s, unsigned char md[32])
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0, v;

	if (strlen(s) != 44 || strcmp(s + 43, "=") != 0)
		return -1;
	for (size_t i = 0; i < 43; i++) {
		if ((v = b64_value(s[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < 32)
				md[n] = (unsigned char)(acc >> bits);
			n++;
		}
	}
	return n == 32 && (acc & ((UINT32_C(1) << bits) - 1)) == 0 ? 0 : -1;
}

int
opn_pin_parse(const char *text, char hex[65])
{
	static const char xd[] = "0123456789abcdef";
	unsigned char md[32];
	size_t n = 0;

	if (strncmp(text, "sha256//", 8) == 0) {
		if (b64_digest(text + 8, md) != 0)
			return -1;
		for (size_t i = 0; i < 32; i++) {
			hex[2 * i] = xd[md[i] >> 4];
			hex[2 * i + 1] = xd[md[i] & 15];
		}
		hex[64] = '\0';
		return 0;
	}
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == ':' && n % 2 == 0 && n > 0 && p[1] != '\0')
			continue;
		if (strchr("0123456789abcdefABCDEF", *p) == NULL || n == 64)
			return -1;
		hex[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	}
	hex[n] = '\0';
	return n == 64 ? 0 : -1;
}

int
opn_pin_format(const char *text, char out[OPN_PIN_TEXT])
{
	char hex[65];
	uint32_t acc = 0;
	size_t n = 8;
	int bits = 0;

	if (opn_pin_parse(text, hex) != 0)
		return -1;
	memcpy(out, "sha256//", 8);
	for (size_t i = 0; i < 64; i += 2) {
		acc = (acc << 8) | (uint32_t)strtoul((char[]){hex[i], hex[i + 1], '\0'}, NULL, 16);
		for (bits += 8; bits >= 6; bits -= 6)
			out[n++] = b64_digits[(acc >> (bits - 6)) & 63];
	}
	out[n++] = b64_digits[(acc << (6 - bits)) & 63]; /* 32 bytes: 4 bits are left */
	out[n++] = '=';
	out[n] = '\0';
	return 0;
}

/* Names */

int
opn_hostname_derive(const char *name, char out[OPN_HOSTNAME_MAX + 1], const char **why)
{
	size_t n = 0;
	int dash = 0;

	for (const unsigned char *p = (const unsigned char *)name; p != NULL && *p != '\0'; p++) {
		unsigned char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0 && n < OPN_HOSTNAME_MAX)
				out[n++] = '-';
			dash = 0;
			if (n < OPN_HOSTNAME_MAX)
				out[n++] = (char)c;
		} else
			dash = 1;
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	if (n == 0) {
		*why = "has no letter or digit to make a host name of (RFC 1123)";
		return -1;
	}
	if (strspn(out, "0123456789-") == n) {
		*why = "gives a host name of digits only, which OPNsense would refuse";
		return -1;
	}
	return 0;
}

int
opn_alias_name_valid(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > OPN_ALIAS_NAME_MAX || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	if (n == 1 && name[0] == '_')
		return 0;
	if (n >= 2 && name[0] == '_' && name[1] == '_')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		        (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

char *
opn_mac_format(const char *mac12, char *buf, size_t size)
{
	if (strlen(mac12) != 12) {
		str_copy(buf, size, mac12);
		return buf;
	}
	snprintf(buf, size, "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", mac12, mac12 + 2, mac12 + 4, mac12 + 6,
	    mac12 + 8, mac12 + 10);
	return buf;
}

const char *
opn_backend_name(enum opn_backend b)
{
	return b == OPN_KEA ? "kea" : "dnsmasq";
}
