/*
 * shelly-sim: a simulated fleet of Shelly devices for tests, benchmarks and `make demo`.
 * Every device listens on its own loopback address; see `shelly-sim --help`.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "sim.h"
#include "sim_mdns.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xmalloc.h"

/* Every option once: getopt table and --help come from here. */
#define OPTIONS(X)                                                                                 \
	X(FIXTURES, "fixtures", 1, "DIR", "fixture root (default tests/fixtures)")                 \
	X(MODELS, "models", 1, "LIST",                                                             \
	    "comma-separated fixture folders, e.g. gen1/shelly-1,gen2/plus-2pm/cover-mode "        \
	    "(default: every device folder), assigned round-robin")                                \
	X(BASE, "base", 1, "ADDR",                                                                 \
	    "first device address (default 127.5.0.1); next ones skip .0 and .255")                \
	X(COUNT, "count", 1, "N", "number of devices (default: one per fixture)")                  \
	X(PORT, "port", 1, "P", "port of every device (default 80, HTTPS devices 443)")            \
	X(NETNS_OK, "netns-ok", 0, NULL,                                                           \
	    "allow addresses outside 127/8 (the sim runs in its own network namespace)")           \
	X(WILDCARD, "wildcard", 0, NULL,                                                           \
	    "one listener on 0.0.0.0:PORT telling devices apart by local address (needs "          \
	    "--netns-ok; silent/closed become refusals)")                                          \
	X(MANIFEST, "manifest", 1, "FILE",                                                         \
	    "write the manifest there (atomically, once every listener is up)")                    \
	X(CONTROL, "control", 1, "ADDR:PORT",                                                      \
	    "control interface (default 127.0.0.1:0; actual port in the manifest)")                \
	X(PASSWORD, "password", 1, "PW",                                                           \
	    "password of devices with auth (default: generated per device)")                       \
	X(AUTH, "auth", 1, "LIST",                                                                 \
	    "devices with auth on: all, none, gen1, gen2, every:N, I, A-B (comma-separated)")      \
	X(DIGEST, "digest", 1, "STYLE",                                                            \
	    "digest challenge style: auto (by model), mixed (by index), hex, decimal, wall, b64")  \
	X(NONCE_TTL, "nonce-ttl-ms", 1, "MS", "digest nonce lifetime (default 60000)")             \
	X(TLS, "tls", 1, "LIST", "devices served over HTTPS (same LIST syntax as --auth)")         \
	X(TLS_DIR, "tls-dir", 1, "DIR",                                                            \
	    "where the test CA is written as ca.pem (required with --tls)")                        \
	X(FAULT, "fault", 1, "I:KIND,...", "faults at start, e.g. 3:silent,4:reset (kinds below)") \
	X(REBOOT_MS, "reboot-ms", 1, "MS", "how long a rebooting device is away (default 2000)")   \
	X(COVER_SPEED, "cover-speed", 1, "PCT", "cover travel in percent per second (default 20)") \
	X(LOAD, "load", 1, "W", "nominal load of an output that is on (default 60)")               \
	X(DRIP_MS, "drip-ms", 1, "MS", "duration of a slow (drip) body (default 5000)")            \
	X(OVERSIZE, "oversize", 1, "BYTES", "size of an oversized body (default 2097152)")         \
	X(DEEP, "deep", 1, "N", "nesting of a deep body (default 10000)")                          \
	X(CONN_TIMEOUT, "conn-timeout", 1, "S", "idle connection timeout (default 10)")            \
	X(ID_OFFSET, "id-offset", 1, "N",                                                          \
	    "added to instance numbers (MACs/ids differ between sims)")                            \
	X(MDNS, "mdns", 0, NULL,                                                                   \
	    "publish every device over mDNS through avahi-daemon, on lo only (use a private "      \
	    "namespace); the manifest shows \"mdns_ready\"")                                       \
	X(AP_NETWORK, "ap-network", 1, "SSID",                                                     \
	    "AP mode: devices are unprovisioned; this network (with --ap-key-file) takes them "    \
	    "home")                                                                                \
	X(AP_KEY_FILE, "ap-key-file", 1, "FILE", "AP mode: the home network's key")                \
	X(AP_HOME, "ap-home", 1, "ADDR", "AP mode: first address on the home network")             \
	X(AP_HOME_NETNS, "ap-home-netns", 1, "PATH",                                               \
	    "AP mode: network namespace of the home network (default: the sim's)")                 \
	X(AP_BEACON_DIR, "ap-beacon-dir", 1, "DIR",                                                \
	    "AP mode: one file per access point, DIR/<SSID>, holding the AP's namespace path")     \
	X(AP_STA_DROP, "ap-sta-drop", 0, NULL,                                                     \
	    "AP mode: a station request that takes a device home is read, then the connection is " \
	    "reset before any reply (real devices switch networks first)")                         \
	X(VERBOSE, "verbose", 0, NULL, "-v: one summary line and info logs; -vv: debug")           \
	X(HELP, "help", 0, NULL, "this help")

#define OPT_ENUM(e, name, arg, meta, help) OPT_##e,
enum { OPT_FIRST_ = 256, OPTIONS(OPT_ENUM) };
#undef OPT_ENUM

static void
usage(FILE *f)
{
	fprintf(f, "usage: shelly-sim [options]\n\nA simulated fleet of Shelly devices on loopback "
	           "addresses.\n\n");
#define OPT_HELP(e, name, arg, meta, help)                                     \
	{                                                                      \
		char lhs[48];                                                  \
		snprintf(lhs, sizeof lhs, "--%s%s%s", name, (meta) ? " " : "", \
		    (meta) ? (const char *)(meta) : "");                       \
		fprintf(f, "  %-26s %s\n", lhs, help);                         \
	}
	OPTIONS(OPT_HELP)
#undef OPT_HELP
	fprintf(f, "\nFault kinds (--fault, POST /devices/<i>/fault):\n");
#define FAULT_HELP(e, name, help) fprintf(f, "  %-12s %s\n", name, help);
	SIM_FAULTS(FAULT_HELP)
#undef FAULT_HELP
	fprintf(f, "\nDigest styles (--digest):\n");
#define DIGEST_HELP(e, name, help) fprintf(f, "  %-12s %s\n", name, help);
	SIM_DIGEST_STYLES(DIGEST_HELP)
#undef DIGEST_HELP
	fprintf(f, "\nControl interface (JSON over HTTP):\n"
	           "  GET  /manifest, /devices, /devices/<i|id>/state, /devices/<i|id>/secrets\n"
	           "  POST /devices/<i|id>/fault {\"fault\":KIND[,\"count\":N][,\"path\":P]}\n"
	           "  POST /devices/<i|id>/auth {\"enable\":BOOL[,\"password\":PW]}\n"
	           "  POST /devices/<i|id>/tls/rotate [{\"after\":PATH}], /reset-counters, /move, /reboot\n"
	           "  POST /devices/<i|id>/offer-update {\"stable\":VER,\"beta\":VER[,\"unchecked\":BOOL]}\n"
	           "  POST /reset-counters\n");
}

static int
num_arg(const char *name, const char *v, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *end || n > max || v[0] == '-') {
		fprintf(stderr, "shelly-sim: --%s: bad number \"%s\"\n", name, v);
		return -1;
	}
	*out = n;
	return 0;
}

static int
parse_options(struct sim_opts *o, int argc, char **argv)
{
#define OPT_LONG(e, name, arg, meta, help) \
	{name, arg ? required_argument : no_argument, NULL, OPT_##e},
	static const struct option longopts[] = {OPTIONS(OPT_LONG){NULL, 0, NULL, 0}};
#undef OPT_LONG
	int c;
	unsigned long long n;

	o->fixtures = "tests/fixtures";
	o->base = "127.5.0.1";
	o->port = -1;
	o->control = "127.0.0.1:0";
	o->digest = "auto";
	o->nonce_ttl_ms = 60000;
	o->reboot_ms = 2000;
	o->cover_speed = 20;
	o->load_w = 60;
	o->drip_ms = 5000;
	o->oversize = 2u << 20;
	o->deep = 10000;
	o->conn_timeout_s = 10;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FIXTURES:
			o->fixtures = optarg;
			break;
		case OPT_MODELS:
			o->models = optarg;
			break;
		case OPT_BASE:
			o->base = optarg;
			break;
		case OPT_COUNT:
			if (num_arg("count", optarg, 1000000, &n) < 0)
				return -1;
			o->count = (size_t)n;
			break;
		case OPT_PORT:
			if (num_arg("port", optarg, 65535, &n) < 0 || n == 0)
				return -1;
			o->port = (int)n;
			break;
		case OPT_NETNS_OK:
			o->netns_ok = true;
			break;
		case OPT_WILDCARD:
			o->wildcard = true;
			break;
		case OPT_MANIFEST:
			o->manifest = optarg;
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_PASSWORD:
			o->password = optarg;
			break;
		case OPT_AUTH:
			o->auth = optarg;
			break;
		case OPT_DIGEST:
			o->digest = optarg;
			break;
		case OPT_NONCE_TTL:
			if (num_arg("nonce-ttl-ms", optarg, 86400000ull * 365, &n) < 0)
				return -1;
			o->nonce_ttl_ms = n;
			break;
		case OPT_TLS:
			o->tls = optarg;
			break;
		case OPT_TLS_DIR:
			o->tls_dir = optarg;
			break;
		case OPT_FAULT:
			o->faults = optarg;
			break;
		case OPT_REBOOT_MS:
			if (num_arg("reboot-ms", optarg, 86400000, &n) < 0)
				return -1;
			o->reboot_ms = n;
			break;
		case OPT_COVER_SPEED:
			if (num_arg("cover-speed", optarg, 100000, &n) < 0 || n == 0)
				return -1;
			o->cover_speed = (double)n;
			break;
		case OPT_LOAD:
			if (num_arg("load", optarg, 100000, &n) < 0)
				return -1;
			o->load_w = (double)n;
			break;
		case OPT_DRIP_MS:
			if (num_arg("drip-ms", optarg, 3600000, &n) < 0)
				return -1;
			o->drip_ms = n;
			break;
		case OPT_OVERSIZE:
			if (num_arg("oversize", optarg, 1ull << 30, &n) < 0)
				return -1;
			o->oversize = (size_t)n;
			break;
		case OPT_DEEP:
			if (num_arg("deep", optarg, 10000000, &n) < 0 || n == 0)
				return -1;
			o->deep = (size_t)n;
			break;
		case OPT_CONN_TIMEOUT:
			if (num_arg("conn-timeout", optarg, 86400, &n) < 0 || n == 0)
				return -1;
			o->conn_timeout_s = (unsigned)n;
			break;
		case OPT_MDNS:
			o->mdns = true;
			break;
		case OPT_AP_NETWORK:
			o->ap_network = optarg;
			break;
		case OPT_AP_KEY_FILE:
			o->ap_key_file = optarg;
			break;
		case OPT_AP_HOME:
			o->ap_home = optarg;
			break;
		case OPT_AP_HOME_NETNS:
			o->ap_home_netns = optarg;
			break;
		case OPT_AP_BEACON_DIR:
			o->ap_beacon_dir = optarg;
			break;
		case OPT_AP_STA_DROP:
			o->ap_sta_drop = true;
			break;
		case OPT_ID_OFFSET:
			if (num_arg("id-offset", optarg, 0xffffff, &n) < 0)
				return -1;
			o->id_offset = (unsigned)n;
			break;
		case 'v':
		case OPT_VERBOSE:
			o->verbose++;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shelly-sim: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (o->wildcard && !o->netns_ok) {
		fprintf(stderr,
		    "shelly-sim: --wildcard listens on every address: only with --netns-ok\n");
		return -1;
	}
	if (o->tls && !o->tls_dir) {
		fprintf(stderr, "shelly-sim: --tls needs --tls-dir (where ca.pem goes)\n");
		return -1;
	}
	return 0;
}

void
dev_mdns_publish(struct dev *d, bool withdraw_first)
{
	struct sim *sim = d->sim;
	struct sim_mdns_device md = {0};
	char ip[16], *cause = NULL;

	if (!sim->mdns)
		return;
	if (withdraw_first)
		sim_mdns_remove(sim->mdns, d->id);
	addr_str(d->addr, ip);
	md.id = d->id;
	md.gen = d->gen;
	md.app = d->gen >= 2 ? d->fx->app : NULL;
	md.ver = d->gen >= 2 ? d->ver : NULL;
	md.fw_id = d->gen == 1 ? d->fw : NULL;
	md.arch = d->gen == 1 ? "esp8266" : NULL;
	md.name = d->gen >= 2 ? d->name : NULL;
	md.ipv4 = ip;
	md.port = d->port;
	if (sim_mdns_add(sim->mdns, &md, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
	}
}

static void
mdns_ready_cb(void *arg)
{
	struct sim *sim = arg;
	char *cause = NULL;

	if (manifest_write(sim, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
	}
}

static void
quit_cb(int sig, void *arg)
{
	(void)sig;
	loop_stop(arg);
}

/* Enough descriptors for one listener per device plus connections. */
static int
raise_nofile(size_t devices, char **cause)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)devices * 2 + 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit up = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return 0;
		if ((rlim_t)devices + 64 > rl.rlim_max) {
			*cause = xasprintf(
			    "%zu devices need about %llu file descriptors; the hard limit is "
			    "%llu (raise it, e.g. as root)",
			    devices, (unsigned long long)need, (unsigned long long)rl.rlim_max);
			return -1;
		}
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	return 0;
}

struct oneshot {
	struct dev *d;
	enum sim_fault f;
};

static int
parse_faults(struct sim *sim, struct oneshot **shots, size_t *nshots, char **cause)
{
	char *copy, *save = NULL, *tok;

	if (!sim->o.faults)
		return 0;
	copy = xstrdup(sim->o.faults);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':'), *end;
		unsigned long idx;
		enum sim_fault f;
		if (!colon)
			goto bad;
		*colon = '\0';
		idx = strtoul(tok, &end, 10);
		if (*end || end == tok || fault_parse(colon + 1, &f) < 0)
			goto bad;
		if (idx >= sim->ndevs) {
			*cause =
			    xasprintf("--fault %lu: there are only %zu devices", idx, sim->ndevs);
			free(copy);
			return -1;
		}
		if (f > SIM_FAULT_LAST_PERSISTENT) {
			*shots = xreallocarray(*shots, *nshots + 1, sizeof **shots);
			(*shots)[(*nshots)++] = (struct oneshot){sim->devs[idx], f};
		} else {
			sim->devs[idx]->fault = f;
		}
		continue;
	bad:
		*cause = xasprintf("--fault: bad entry \"%s\" (INDEX:KIND, see --help)", tok);
		free(copy);
		return -1;
	}
	free(copy);
	return 0;
}

static int
make_devices(struct sim *sim, char **cause)
{
	struct sel *auth = NULL, *tls = NULL;
	enum sim_digest style = SIM_DIGEST_HEX;
	int mode; /* 0 fixed, 1 auto, 2 mixed */
	uint16_t http_port = (uint16_t)(sim->o.port > 0 ? sim->o.port : 80);
	uint16_t https_port = (uint16_t)(sim->o.port > 0 ? sim->o.port : 443);
	size_t n = sim->o.count ? sim->o.count : sim->nfx;

	if (!strcmp(sim->o.digest, "auto"))
		mode = 1;
	else if (!strcmp(sim->o.digest, "mixed"))
		mode = 2;
	else if (digest_parse(sim->o.digest, &style) == 0)
		mode = 0;
	else {
		*cause =
		    xasprintf("--digest %s: auto, mixed, hex, decimal, wall or b64", sim->o.digest);
		return -1;
	}
	if (addr_parse(sim->o.base, &sim->base) < 0 || (sim->base & 255) == 0 ||
	    (sim->base & 255) == 255) {
		*cause = xasprintf("--base %s: not a usable IPv4 address", sim->o.base);
		return -1;
	}
	uint32_t last = addr_at(sim->base, n ? n - 1 : 0);
	if (!last) {
		*cause = xstrdup("--count: the address range leaves IPv4");
		return -1;
	}
	if (!sim->o.netns_ok && ((sim->base >> 24) != 127 || (last >> 24) != 127)) {
		char a[16], b[16];
		addr_str(sim->base, a);
		addr_str(last, b);
		*cause =
		    xasprintf("addresses %s..%s leave 127.0.0.0/8 (only with --netns-ok, inside a "
		              "network namespace)",
		        a, b);
		return -1;
	}
	if (!(auth = sel_parse(sim->o.auth, cause)))
		return -1;
	if (!(tls = sel_parse(sim->o.tls, cause))) {
		sel_free(auth);
		return -1;
	}
	sim->pool_len = n + 16;
	sim->pool = xcalloc(sim->pool_len, sizeof *sim->pool);
	sim->pool_next = n;
	sim->devs = xcalloc(n ? n : 1, sizeof *sim->devs);
	for (size_t i = 0; i < n; i++) {
		struct dev *d = xcalloc(1, sizeof *d);
		d->sim = sim;
		d->index = i;
		d->fx = sim->fx[i % sim->nfx];
		d->gen = d->fx->gen;
		d->addr = addr_at(sim->base, i);
		d->listen_fd = d->filler_fd = -1;
		d->fault_count = -1;
		d->tls = sel_match(tls, i, d->gen);
		d->port = d->tls ? https_port : http_port;
		snprintf(d->user, sizeof d->user, "admin");
		dev_state_init(d);
		d->digest = mode == 1   ? d->fx->digest_auto
		            : mode == 2 ? (enum sim_digest)(i % SIM_DIGEST_COUNT)
		                        : style;
		if (sel_match(auth, i, d->gen)) {
			char *pw =
			    sim->o.password ? xstrdup(sim->o.password) : auth_random_password(sim);
			auth_set_password(d, pw);
			free(pw);
			d->auth = true;
		}
		sim->devs[i] = d;
		sim->pool[i] = d;
		sim->ndevs++;
	}
	sel_free(auth);
	sel_free(tls);
	return 0;
}

static void
free_devices(struct sim *sim)
{
	for (size_t i = 0; i < sim->ndevs; i++) {
		struct dev *d = sim->devs[i];
		dev_state_done(d);
		dev_reset_counters(d);
		free(d->c.paths);
		free(d->password);
		free(d->nonces);
		free(d->fault_path);
		free(d->cert_pem);
		free(d->key_pem);
		free(d);
	}
	free(sim->devs);
	free(sim->pool);
	sim->devs = NULL;
	sim->pool = NULL;
	sim->ndevs = 0;
}

int
main(int argc, char **argv)
{
	struct sim sim = {0};
	struct oneshot *shots = NULL;
	size_t nshots = 0, ntls = 0;
	char *cause = NULL;
	int rc = 1;

	if (parse_options(&sim.o, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	log_set_level(sim.o.verbose >= 2 ? LOG_DEBUG : sim.o.verbose ? LOG_INFO : LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	sim.loop = loop_new();
	sim.control_fd = -1;
	sim.wildcard_fd = -1;
	sim.start_ms = loop_now_ms(sim.loop);
	if (RAND_bytes((unsigned char *)&sim.rng, sizeof sim.rng) != 1 || sim.rng == 0)
		sim.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	loop_signal(sim.loop, SIGTERM, quit_cb, sim.loop);
	loop_signal(sim.loop, SIGINT, quit_cb, sim.loop);

	if (fixtures_load(&sim, &cause) < 0 || make_devices(&sim, &cause) < 0 ||
	    raise_nofile(sim.ndevs, &cause) < 0 || parse_faults(&sim, &shots, &nshots, &cause) < 0 ||
	    apmode_init(&sim, &cause) < 0)
		goto out;
	for (size_t i = 0; i < sim.ndevs; i++)
		ntls += sim.devs[i]->tls;
	if (ntls) {
		if (tls_init(&sim, &cause) < 0)
			goto out;
		for (size_t i = 0; i < sim.ndevs; i++)
			if (sim.devs[i]->tls && tls_issue(&sim, sim.devs[i], &cause) < 0)
				goto out;
	}
	if (net_init(&sim, &cause) < 0 || control_start(&sim, &cause) < 0)
		goto out;
	if (sim.o.mdns) {
		if (!(sim.mdns = sim_mdns_new(sim.loop, &cause)))
			goto out;
		sim_mdns_set_ready_cb(sim.mdns, mdns_ready_cb, &sim);
		for (size_t i = 0; i < sim.ndevs; i++)
			dev_mdns_publish(sim.devs[i], false);
	}
	for (size_t i = 0; i < nshots; i++)
		dev_set_fault(shots[i].d, shots[i].f, -1, NULL);
	sim.manifest_ready = true;
	if (manifest_write(&sim, &cause) < 0)
		goto out;
	apmode_start(&sim);
	if (sim.o.verbose) {
		char a[16], b[16];
		addr_str(sim.devs[0]->addr, a);
		addr_str(sim.devs[sim.ndevs - 1]->addr, b);
		fprintf(stderr,
		    "shelly-sim: %zu devices (%zu fixtures, %zu https) on %s..%s port %d, control "
		    "%s:%u\n",
		    sim.ndevs, sim.nfx, ntls, a, b, sim.o.port > 0 ? sim.o.port : 80,
		    sim.control_host, (unsigned)sim.control_port);
	}
	if (loop_run(sim.loop) < 0) {
		cause = xstrdup("event loop failed");
		goto out;
	}
	rc = 0;
out:
	if (cause) {
		fprintf(stderr, "shelly-sim: %s\n", cause);
		free(cause);
	}
	if (sim.mdns)
		sim_mdns_free(sim.mdns);
	control_stop(&sim);
	net_done(&sim);
	apmode_done(&sim);
	free_devices(&sim);
	tls_done(&sim);
	fixtures_free(&sim);
	free(shots);
	loop_free(sim.loop);
	return rc;
}
