#include "model/fwver.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A version read: up to four numbers, the pre-release ("" for a release). */
struct ver {
	unsigned long num[4];
	const char *pre;
	char buf[DEV_FW_LEN];
};

static int
is_prerelease(const char *s)
{
	static const char *const words[] = {"alpha", "beta", "rc", "dev", "pre"};

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strncasecmp(s, words[i], strlen(words[i])) == 0)
			return 1;
	return 0;
}

static int
ver_read(const char *s, struct ver *v)
{
	char *p, *end;

	memset(v, 0, sizeof *v);
	if (device_fw_version(s, v->buf, sizeof v->buf) != 0)
		return -1;
	p = v->buf;
	for (size_t i = 0; i < sizeof v->num / sizeof v->num[0]; i++) {
		v->num[i] = strtoul(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (*p == '.') /* more numbers than kept */
		p += strspn(p, "0123456789.");
	v->pre = "";
	if (*p == '-' && is_prerelease(p + 1))
		v->pre = p + 1;
	return 0;
}

/* Compares two pre-release strings, digit runs as numbers ("beta2" < "beta10"). */
static int
pre_cmp(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			char *ea, *eb;
			unsigned long na = strtoul(a, &ea, 10), nb = strtoul(b, &eb, 10);

			if (na != nb)
				return na < nb ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return tolower((unsigned char)*a) < tolower((unsigned char)*b) ? -1 : 1;
		a++;
		b++;
	}
	return (*a != '\0') - (*b != '\0');
}

int
fwver_cmp(const char *a, const char *b, int *cmp)
{
	struct ver va, vb;

	if (a == NULL || b == NULL || ver_read(a, &va) != 0 || ver_read(b, &vb) != 0)
		return -1;
	for (size_t i = 0; i < sizeof va.num / sizeof va.num[0]; i++)
		if (va.num[i] != vb.num[i]) {
			*cmp = va.num[i] < vb.num[i] ? -1 : 1;
			return 0;
		}
	if (*va.pre == '\0' || *vb.pre == '\0') /* a release is above its pre-releases */
		*cmp = (*va.pre == '\0') - (*vb.pre == '\0');
	else
		*cmp = pre_cmp(va.pre, vb.pre);
	return 0;
}

int
fwver_newer(const char *offered, const char *running)
{
	int cmp;

	if (fwver_cmp(offered, running, &cmp) != 0)
		return -1;
	return cmp > 0;
}

void
fwver_check_offer(struct device_status *st, const char *running)
{
	if (st == NULL || running == NULL)
		return;
	if (st->sys.update_available == 1 && fwver_newer(st->sys.update_version, running) == 0) {
		st->sys.update_available = 0;
		st->sys.update_version[0] = '\0';
	}
	if (st->sys.beta_version[0] != '\0' && fwver_newer(st->sys.beta_version, running) == 0)
		st->sys.beta_version[0] = '\0';
}
