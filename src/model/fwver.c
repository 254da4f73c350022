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

/* The build stamp of a firmware id, "YYYYMMDD-HHMMSS" before the '/'; NULL when it has none. */
static const char *
build_stamp(const char *fw)
{
	static const char shape[] = "dddddddd-dddddd/";

	for (size_t i = 0; i < sizeof shape - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)fw[i]) : fw[i] != shape[i])
			return NULL;
	return fw;
}

/* The commit count N of a git-describe suffix "-N-g<hash>" (0 without one). */
static unsigned long
describe_count(const char *fw)
{
	const char *g = strrchr(fw, '-'), *p;

	if (g == NULL || g[1] != 'g' || g == fw)
		return 0;
	p = g;
	while (p > fw && isdigit((unsigned char)p[-1]))
		p--;
	if (p == g || p == fw || p[-1] != '-')
		return 0;
	return strtoul(p, NULL, 10);
}

/*
 * Two firmware ids of the same version (both read as 1.14.1-rc1): the later build stamp is
 * the newer, then the higher git-describe count ("-6-g..." after "-2-g..."). Without a stamp
 * on both, they are the same.
 */
static int
build_cmp(const char *a, const char *b)
{
	unsigned long na, nb;
	int c;

	if (build_stamp(a) == NULL || build_stamp(b) == NULL)
		return 0;
	if ((c = strncmp(a, b, 15)) != 0)
		return c < 0 ? -1 : 1;
	na = describe_count(a);
	nb = describe_count(b);
	return (na > nb) - (na < nb);
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
	if (*cmp == 0)
		*cmp = build_cmp(a, b);
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

const char *
fwver_running(const char *fw, const char *version)
{
	int cmp;

	if (version == NULL || version[0] == '\0')
		return fw;
	if (fw != NULL && fwver_cmp(fw, version, &cmp) == 0 && cmp == 0)
		return fw;
	return version;
}

/* The offered firmware id when there is one (its build stamp tells builds apart), else the
 * version. */
static const char *
offer(const char *fw, const char *version)
{
	return fw[0] != '\0' ? fw : version;
}

void
fwver_check_offer(struct device_status *st, const char *running)
{
	if (st == NULL)
		return;
	if (st->sys.running_fw[0] != '\0') /* the reply's own word is the freshest */
		running = st->sys.running_fw;
	if (running == NULL)
		return;
	if (st->sys.update_available == 1 &&
	    fwver_newer(offer(st->sys.update_fw, st->sys.update_version), running) == 0) {
		st->sys.update_available = 0;
		st->sys.update_version[0] = st->sys.update_fw[0] = '\0';
	}
	if (st->sys.beta_version[0] != '\0' &&
	    fwver_newer(offer(st->sys.beta_fw, st->sys.beta_version), running) == 0)
		st->sys.beta_version[0] = st->sys.beta_fw[0] = '\0';
}
