/*
 * bench_parse: CPU cost of the parse + store half of a device poll, without the network.
 *
 * For every simulated device poll it does what the poller does with a status body
 * (engine/poller.c status_cb/store_result): gen1_parse_status or gen2_parse_status, then
 * store_queue_status (with the raw reply) + store_queue_sample + store_queue_seen, and
 * store_flush every 200 devices into a SQLite store on a temporary file. The shared device
 * object (device_to_json) is built only when devices are listed; the json phase measures it.
 * Bodies are real captures read from tests/fixtures (see tests/fixtures/SOURCES.md).
 *
 * Phases, each timed with CLOCK_PROCESS_CPUTIME_ID (CPU of this process) and the monotonic
 * clock (wall; includes the fsync-free WAL writes):
 *   cjson   cJSON_ParseWithLength + cJSON_Delete of the body (the baseline: bare JSON parsing)
 *   parse   gen1/gen2_parse_status + device_status_done
 *   json    parse + device_to_json
 *   full    parse + queue (raw reply) + flush every 200: what a poll costs
 * Output: one line per phase, "bench_parse PHASE cpu_us=X wall_us=Y n=N" (per device), then
 * "bench_parse fixtures K" and "bench_parse db_bytes B". Exit 0, 1 with a message on stderr,
 * 2 on a usage error.
 *
 * -p PHASE runs only that phase (for an instruction count under callgrind). -d DIR puts the
 * database in DIR and leaves it there; by default it goes to a temporary directory that is
 * removed at the end.
 *
 * usage: bench_parse [-n DEVICES] [-p PHASE] [-d DIR] [FIXTURE ...]   (from the repository top)
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/device.h"
#include "model/object.h"
#include "shelly/gen1.h"
#include "shelly/gen2.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define FLEET 200	/* distinct devices in the store; flush every FLEET devices */
#define MAX_FIXTURES 32

struct body {
	const char *path;
	int gen;	/* 1: Gen1 /status; 2, 3, 4: Gen2+ Shelly.GetStatus (from the path) */
	char *text;
	size_t len;
	char model[DEV_SHORT_LEN];
};

struct phase_time {
	double cpu_s, wall_s;
};

static const char *const default_fixtures[] = {
	"tests/fixtures/gen2/plus-1pm/Shelly.GetStatus.json",
	"tests/fixtures/gen1/shelly-1/status.json",
	"tests/fixtures/gen2/pro-3em/Shelly.GetStatus.json",
	"tests/fixtures/gen1/shelly-plug-s/status.json",
	"tests/fixtures/gen1/shelly-3em/status.json",
	"tests/fixtures/gen3/1pm-gen3/Shelly.GetStatus.json",
	"tests/fixtures/gen4/2pm-gen4/Shelly.GetStatus.json",
};

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
phase_begin(struct phase_time *t)
{
	t->cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t->wall_s = clock_s(CLOCK_MONOTONIC);
}

static void
phase_end(struct phase_time *t)
{
	t->cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t->cpu_s;
	t->wall_s = clock_s(CLOCK_MONOTONIC) - t->wall_s;
}

static void
phase_print(const char *name, const struct phase_time *t, long n)
{
	printf("bench_parse %s cpu_us=%.2f wall_us=%.2f n=%ld\n", name, t->cpu_s * 1e6 / (double)n,
	    t->wall_s * 1e6 / (double)n, n);
}

/* Reads a whole file; 0 or -1 with a message on stderr. */
static int
read_body(struct body *b)
{
	FILE *f = fopen(b->path, "rb");
	size_t cap = 4096, len = 0, n;

	if (f == NULL) {
		fprintf(stderr, "bench_parse: %s: %s\n", b->path, strerror(errno));
		return -1;
	}
	b->text = xmalloc(cap + 1);
	while ((n = fread(b->text + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			if (cap > (size_t)16 << 20) {
				fprintf(stderr, "bench_parse: %s: too large\n", b->path);
				fclose(f);
				return -1;
			}
			cap *= 2;
			b->text = xrealloc(b->text, cap + 1);
		}
	}
	fclose(f);
	b->text[len] = '\0';
	b->len = len;
	/* Gen1 status bodies are named status.json; Gen2+ ones Shelly.GetStatus.json. */
	b->gen = strstr(b->path, "Shelly.GetStatus") != NULL ? 2 : 1;
	if (strstr(b->path, "/gen3/") != NULL)
		b->gen = 3;
	else if (strstr(b->path, "/gen4/") != NULL)
		b->gen = 4;
	snprintf(b->model, sizeof b->model, "BENCH-%d", b->gen);
	return 0;
}

static int
parse_body(const struct body *b, struct device_status *st)
{
	char *cause = NULL;
	int r = b->gen == 1 ? gen1_parse_status(b->text, b->len, st, &cause) :
	    gen2_parse_status(b->text, b->len, st, &cause);

	if (r != 0) {
		fprintf(stderr, "bench_parse: %s: %s\n", b->path, cause ? cause : "parse failed");
		free(cause);
	}
	return r;
}

static void
fleet_mac(int i, char mac[STORE_MAC_LEN + 1])
{
	snprintf(mac, STORE_MAC_LEN + 1, "be%010x", (unsigned)i);
}

/* The device object as the poller builds it (registry identity + typed status). */
static char *
body_json(const struct body *b, int i, const struct device_status *st)
{
	struct device_ident id;
	struct device_view v;

	device_ident_init(&id);
	fleet_mac(i, id.mac);
	snprintf(id.id, sizeof id.id, "bench-%s", id.mac);
	id.gen = b->gen;
	snprintf(id.model, sizeof id.model, "%s", b->model);
	snprintf(id.fw, sizeof id.fw, "20240101-000000/1.0.0-bench");
	device_fw_version(id.fw, id.fw_version, sizeof id.fw_version);
	device_view_init(&v);
	v.ident = &id;
	v.host = "127.0.0.1";
	v.port = 80;
	v.scheme = "http";
	v.state = DEVICE_ONLINE;
	v.last_seen = 1700000000;
	v.status = st;
	return device_to_json(&v, 0);
}

/* Queues the status row, the history sample and last-seen, as engine/poller.c does. */
static void
queue_result(struct store *s, int i, int64_t ts_ms, const struct device_status *st,
    const char *json)
{
	struct store_status ss;
	struct store_sample smp;
	double power = NAN, energy = NAN;

	for (int k = 0; k < st->nswitches; k++) {
		if (dev_known(st->switches[k].power_w))
			power = (isnan(power) ? 0 : power) + st->switches[k].power_w;
		if (dev_known(st->switches[k].energy_wh))
			energy = (isnan(energy) ? 0 : energy) + st->switches[k].energy_wh;
	}
	for (int k = 0; k < st->nmeters; k++) {
		if (dev_known(st->meters[k].power_w))
			power = (isnan(power) ? 0 : power) + st->meters[k].power_w;
		if (dev_known(st->meters[k].energy_wh))
			energy = (isnan(energy) ? 0 : energy) + st->meters[k].energy_wh;
	}
	memset(&ss, 0, sizeof ss);
	fleet_mac(i, ss.mac);
	ss.ts_ms = ts_ms;
	ss.state = "online";
	ss.power_w = power;
	ss.energy_wh = energy;
	ss.temperature_c = st->sys.device_temperature_c;
	ss.rssi_dbm = st->wifi.rssi_dbm;
	ss.uptime_s = dev_known(st->sys.uptime_s) ? (int64_t)st->sys.uptime_s : STORE_NULL_INT;
	ss.outputs_on = st->nswitches;
	ss.fw_update = st->sys.update_available >= 0 ? st->sys.update_available : STORE_NULL_INT;
	ss.cfg_rev = dev_known(st->sys.cfg_rev) ? (int64_t)st->sys.cfg_rev : STORE_NULL_INT;
	ss.json = json;
	store_queue_status(s, &ss);

	memset(&smp, 0, sizeof smp);
	memcpy(smp.mac, ss.mac, sizeof smp.mac);
	smp.ts_ms = ts_ms;
	smp.power_w = ss.power_w;
	smp.energy_wh = ss.energy_wh;
	smp.temperature_c = ss.temperature_c;
	smp.rssi_dbm = ss.rssi_dbm;
	smp.online = 1;
	store_queue_sample(s, &smp);
	store_queue_seen(s, ss.mac, ts_ms);
}

static int
open_store(const char *dir, struct store **out)
{
	char *path = xasprintf("%s/bench.db", dir);
	char *cause = NULL;

	if (store_open(path, out, &cause) != 0) {
		fprintf(stderr, "bench_parse: %s: %s\n", path, cause);
		free(cause);
		free(path);
		return -1;
	}
	free(path);
	for (int i = 0; i < FLEET; i++) {
		struct store_device d;
		char id[64];

		memset(&d, 0, sizeof d);
		fleet_mac(i, d.mac);
		snprintf(id, sizeof id, "bench-%s", d.mac);
		d.id = id;
		d.gen = 2;
		d.model = "BENCH";
		d.host = "127.0.0.1";
		d.port = 80;
		d.scheme = "http";
		d.discovered_via = "manual";
		d.first_seen_ms = d.last_seen_ms = 1700000000000;
		if (store_device_upsert(*out, &d, &cause) != 0) {
			fprintf(stderr, "bench_parse: register: %s\n", cause);
			free(cause);
			return -1;
		}
	}
	return 0;
}

static void
remove_store_files(const char *dir)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		char *path = xasprintf("%s/bench.db%s", dir, suffix[i]);
		unlink(path);
		free(path);
	}
}

enum { PHASE_CJSON, PHASE_PARSE, PHASE_JSON, PHASE_FULL };
static const char *const phase_names[] = { "cjson", "parse", "json", "full" };

/* Runs phase k over n simulated device polls; 0 or -1 (message on stderr). */
static int
run_phase(int k, const struct body *bodies, int nb, long n, struct store *store,
    volatile size_t *sink)
{
	for (long i = 0; i < n; i++) {
		const struct body *b = &bodies[i % nb];
		struct device_status st;
		char *json, *cause = NULL;
		int dev = (int)(i % FLEET);
		/* One sample per device and round: timestamps never repeat for a device. */
		int64_t ts = 1700000000000 + (int64_t)(i / FLEET) * 1000;

		if (k == PHASE_CJSON) {
			/* The baseline: bare cJSON parse and free of the same body. */
			cJSON *j = cJSON_ParseWithLength(b->text, b->len);
			*sink += j != NULL;
			cJSON_Delete(j);
			continue;
		}
		if (parse_body(b, &st) != 0)
			return -1;
		*sink += (size_t)st.nswitches + 1;
		if (k == PHASE_PARSE) {
			device_status_done(&st);
			continue;
		}
		if (k == PHASE_FULL) {
			/* As the poller: the row keeps the device's own reply, no object is built. */
			queue_result(store, dev, ts, &st, b->text);
			device_status_done(&st);
		} else {
			json = body_json(b, dev, &st);
			*sink += strlen(json);
			free(json);
			device_status_done(&st);
		}
		if (k == PHASE_FULL && (dev == FLEET - 1 || i == n - 1) &&
		    store_flush(store, &cause) != 0) {
			fprintf(stderr, "bench_parse: flush: %s\n", cause);
			free(cause);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct body bodies[MAX_FIXTURES];
	struct phase_time t;
	struct store *store = NULL;
	const char *tmp = getenv("TMPDIR");
	char dirbuf[4096], *dir = NULL;
	const char *user_dir = NULL, *only = NULL;
	long n = 20000;
	int nb = 0, c, rc = 1;
	volatile size_t sink = 0;

	while ((c = getopt(argc, argv, "n:d:p:")) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > 100000000) {
				fprintf(stderr, "bench_parse: -n: 1 to 100000000\n");
				return 2;
			}
			break;
		}
		case 'd':
			user_dir = optarg;
			break;
		case 'p':
			only = NULL;
			for (size_t k = 0; k < sizeof phase_names / sizeof phase_names[0]; k++)
				if (strcmp(optarg, phase_names[k]) == 0)
					only = phase_names[k];
			if (only == NULL) {
				fprintf(stderr, "bench_parse: -p: cjson, parse, json or full\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr,
			    "usage: bench_parse [-n DEVICES] [-p PHASE] [-d DIR] [FIXTURE ...]\n");
			return 2;
		}
	}
	log_set_level(LOG_WARN);
	if (optind < argc) {
		for (int i = optind; i < argc && nb < MAX_FIXTURES; i++)
			bodies[nb++].path = argv[i];
	} else {
		for (size_t i = 0; i < sizeof default_fixtures / sizeof default_fixtures[0]; i++)
			bodies[nb++].path = default_fixtures[i];
	}
	for (int i = 0; i < nb; i++)
		bodies[i].text = NULL;
	for (int i = 0; i < nb; i++) {
		if (read_body(&bodies[i]) != 0)
			goto out_bodies;
	}
	/* Every body must parse before anything is timed. */
	for (int i = 0; i < nb; i++) {
		struct device_status st;
		if (parse_body(&bodies[i], &st) != 0)
			goto out_bodies;
		device_status_done(&st);
	}

	if (user_dir != NULL)
		snprintf(dirbuf, sizeof dirbuf, "%s", user_dir);
	else {
		snprintf(dirbuf, sizeof dirbuf, "%s/bench_parse.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (mkdtemp(dirbuf) == NULL) {
			fprintf(stderr, "bench_parse: mkdtemp: %s\n", strerror(errno));
			goto out_bodies;
		}
		dir = dirbuf;
	}
	if (open_store(dirbuf, &store) != 0)
		goto out;

	for (size_t k = 0; k < sizeof phase_names / sizeof phase_names[0]; k++) {
		if (only != NULL && strcmp(only, phase_names[k]) != 0)
			continue;
		phase_begin(&t);
		if (run_phase((int)k, bodies, nb, n, store, &sink) != 0)
			goto out;
		phase_end(&t);
		phase_print(phase_names[k], &t, n);
	}

	printf("bench_parse fixtures %d\n", nb);
	printf("bench_parse db_bytes %" PRId64 "\n", store_db_size_bytes(store));
	rc = sink == 0; /* keeps the loops from being optimised away */

out:
	store_free(store);
	if (dir != NULL) {
		remove_store_files(dir);
		rmdir(dir);
	}
out_bodies:
	for (int i = 0; i < nb; i++)
		free(bodies[i].text);
	return rc;
}
