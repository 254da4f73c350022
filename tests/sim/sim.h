#ifndef SIM_SIM_H
#define SIM_SIM_H

/*
 * shelly-sim: one process serving a fleet of simulated Shelly devices on loopback addresses.
 * Internal header shared by the files of tests/sim/ (a test tool, not part of libshelly).
 *
 *   fixture.c  fixture folders -> struct fixture (raw texts + typed initial state)
 *   state.c    live device state: outputs, covers, lights, power, energy, uptime, config patches
 *   gen1.c     Gen1 HTTP endpoints          gen2.c   Gen2+ RPC (GET/POST /rpc/<M>, POST /rpc)
 *   auth.c     basic and SHA-256 digest auth, nonces, base64, hex helpers
 *   tls.c      test CA and per-device certificates (OpenSSL libcrypto)
 *   net.c      listeners, accept, microhttpd daemons on the loop, faults, reboot, move
 *   control.c  control interface (JSON over HTTP) and the manifest
 *   config.c   configuration setters (Gen1 query parameters, Gen2+ SetConfig), config faults
 *   util.c     growable buffers, JSON helpers, address arithmetic, device selections
 *   main.c     options, start-up, signals, --mdns (through sim_mdns.c, another module)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;
struct loop_watch;
struct loop_timer;
struct MHD_Daemon;
struct MHD_Connection;
struct cJSON;
struct sim_conn;
struct srv;
struct sim_mdns;

/* Faults: persistent ones up to DEEP, one-shot actions after it. */
#define SIM_FAULTS(X)                                                                      \
	X(NONE, "none", "healthy device")                                                  \
	X(SILENT, "silent", "SYN never answered: full accept queue, connect times out")    \
	X(CLOSED, "closed", "nothing listens: connection refused")                         \
	X(NOANSWER, "noanswer", "accepts and reads the request, never replies")            \
	X(HOLD, "hold", "reads the request, replies after the next fault change")          \
	X(RESET, "reset", "reads the request, then resets the connection (RST)")           \
	X(HTTP500, "http500", "HTTP 500 with a JSON error body")                           \
	X(MALFORMED, "malformed", "HTTP 200 with a body that is not valid JSON")           \
	X(TRUNCATED, "truncated", "Content-Length larger than the bytes sent, then close") \
	X(OVERSIZED, "oversized", "valid JSON padded to --oversize bytes")                 \
	X(SLOW, "slow", "the body trickles over --drip-ms")                                \
	X(WRONGTYPES, "wrongtypes", "numbers as strings, objects for booleans")            \
	X(DEEP, "deep", "JSON nested --deep levels")                                       \
	X(AUTH, "auth", "one-shot: turn authentication on")                                \
	X(REBOOT, "reboot", "one-shot: away for --reboot-ms, then uptime restarts")        \
	X(MOVE, "move", "one-shot: move to the next free address of the pool")

#define SIM_FAULT_ENUM(e, name, help) SIM_FAULT_##e,
enum sim_fault { SIM_FAULTS(SIM_FAULT_ENUM) SIM_FAULT_COUNT };
#undef SIM_FAULT_ENUM
#define SIM_FAULT_LAST_PERSISTENT SIM_FAULT_DEEP

/* Digest challenge styles seen on real devices. */
#define SIM_DIGEST_STYLES(X)                                                   \
	X(HEX, "hex", "short hex nonce (\"603\"), Plus 1PM early firmware")    \
	X(DECIMAL, "decimal", "decimal nonce (unix time), Pro 3EM")            \
	X(WALL, "wall", "realm first, 8-hex nonce, opaque=\"\", Wall Display") \
	X(B64, "b64", "firmware 2.0: base64 nonce ending in '=', nc tracked, stale=true on expiry")

#define SIM_DIGEST_ENUM(e, name, help) SIM_DIGEST_##e,
enum sim_digest { SIM_DIGEST_STYLES(SIM_DIGEST_ENUM) SIM_DIGEST_COUNT };
#undef SIM_DIGEST_ENUM

/* Live components (copied from the fixture into every device). */
struct sim_switch {
	int id;
	bool on;
	bool has_power, has_energy;
	double nominal_w, voltage, energy_wh;
	uint64_t flip_at; /* toggle_after / Gen1 timer: monotonic ms, 0 = none */
	uint64_t flip_started;
	char source[12];
};

struct sim_cover {
	int id;
	bool pos_control; /* calibrated: current_pos is reported */
	bool has_power, has_energy;
	double pos, from, target; /* percent */
	int dir; /* +1 opening, -1 closing, 0 still */
	int last_dir;
	uint64_t t0; /* when the current move started */
	double nominal_w, voltage, energy_wh;
	char source[12];
};

struct sim_light {
	int id;
	char type[8]; /* Gen2 component type: light, rgb, rgbw, cct; Gen1: light */
	bool on;
	bool gain_key; /* Gen1 colour mode: brightness is "gain" */
	bool has_power, has_energy;
	int brightness;
	double nominal_w, voltage, energy_wh;
	uint64_t flip_at;
	uint64_t flip_started;
	char source[12];
};

/* One extra file of a fixture folder, served verbatim (identity rewritten). */
struct fx_file {
	char *name; /* Gen2: method name; Gen1: URL path ("/cit/d") */
	char *text;
	size_t len;
};

enum id_style { ID_NONE, ID_FULL, ID_LAST6 };

struct fixture {
	char *path; /* relative to --fixtures, e.g. "gen2/plus-2pm/cover-mode" */
	char *dir; /* full directory path */
	int gen; /* 1, 2, 3, 4 */
	char *model; /* Gen1 "type", Gen2+ "model" */
	char *app; /* Gen2+ "app", NULL for Gen1 */
	char mac[13]; /* upper-case hex; "" when the fixture has none */
	char *id; /* Gen2+ id, Gen1 hostname (settings.device.hostname) */
	enum id_style id_style;
	bool id_upper; /* case of the MAC inside id */
	char *fw; /* Gen1 fw; Gen2+ fw_id */
	char *ver; /* Gen2+ ver */
	/* Raw texts; NULL when the file does not exist. */
	char *shelly, *status, *settings, *config, *devinfo;
	struct fx_file *files;
	size_t nfiles;
	/* Typed initial state. */
	struct sim_switch *sw;
	size_t nsw;
	struct sim_cover *cv;
	size_t ncv;
	struct sim_light *lt;
	size_t nlt;
	int cfg_rev; /* Gen2+ sys.cfg_rev, Gen1 cfg_changed_cnt */
	char *upd_stable; /* version offered, or NULL */
	char *upd_beta;
	enum sim_digest digest_auto; /* style a real device of this kind uses */
};

/* A suspended MHD connection, resumed by its owner (or forcibly before its daemon stops). */
struct park {
	struct park *next, *prev;
	struct srv *srv;
	struct MHD_Connection *conn;
	void (*unpark)(struct park *p); /* frees watches/timers, resumes the connection */
	bool on;
};

/* A request being handled (MHD con_cls). */
struct sim_req {
	struct dev *dev;
	struct srv *srv;
	struct MHD_Connection *conn;
	const char *method; /* MHD-owned, valid during the handler */
	char *path;
	char *body;
	size_t body_len;
	bool too_large;
	bool gone; /* noanswer: peer closed or device rebooted; answer MHD_NO on resume */
	bool held; /* parked by "hold": answered (under the fault then) at the next fault change */
	struct loop_watch *watch;
	struct park park;
};

/* The reply a handler produces; net.c turns it into an MHD response (and applies faults). */
struct reply {
	unsigned status;
	char *body; /* malloc'd */
	size_t len;
	const char *ctype;
	char *www_auth; /* WWW-Authenticate value or NULL */
	bool json; /* body faults apply */
};

struct counters {
	uint64_t requests;
	uint64_t in_flight, max_in_flight;
	uint64_t auth_challenges; /* 401 sent without credentials */
	uint64_t auth_failures; /* 401 sent for wrong credentials */
	uint64_t auth_stale; /* 401 for an expired/unknown nonce with a right response */
	uint64_t faults; /* requests a fault was applied to */
	struct path_count {
		char *path;
		uint64_t n;
	} * paths;
	size_t npaths;
};

struct nonce_rec {
	char nonce[64];
	uint32_t last_nc;
};

enum net_mode { NET_DOWN, NET_UP, NET_SILENT };

struct dev {
	struct sim *sim;
	size_t index;
	const struct fixture *fx;
	int gen;
	char id[96];
	char mac[13];
	/* Address. */
	uint32_t addr; /* host order */
	uint16_t port;
	bool tls;
	/* Network personality. */
	enum net_mode mode;
	int listen_fd;
	int filler_fd;
	struct loop_watch *listen_watch;
	struct srv *tls_srv; /* own daemon when tls */
	struct srv *retired_srv; /* the daemon before a rotation after a request, still answering it */
	char *rotate_after; /* rotate the certificate once a request to this path is answered */
	unsigned cert_serial; /* bumped by rotation */
	char *cert_pem, *key_pem;
	char fingerprint[65];
	struct loop_timer *net_timer; /* deferred reconciliation */
	bool ap_home; /* AP mode: configured, now on the home network */
	bool sta_drop; /* AP mode: reset the connection instead of replying (--ap-sta-drop) */
	struct loop_timer *ap_timer; /* AP mode: leaving the AP */
	struct loop_timer *ip_timer; /* a static address set: moving there */
	uint32_t ip_next; /* where ip_timer moves it */
	struct loop_timer *reboot_timer; /* reboot start/end */
	bool rebooting;
	bool pending_update; /* reboot finishes a firmware update */
	bool ota_unchecked; /* Gen1: /ota hides the offer until /ota/check (a cached answer) */
	unsigned ota_checks; /* Gen1 /ota/check requests */
	/* Auth. */
	bool auth;
	char *password; /* NULL when set through Shelly.SetAuth (only ha1 known) */
	char ha1[65];
	char user[32];
	enum sim_digest digest;
	struct nonce_rec *nonces; /* ring, allocated on first use (b64 style) */
	unsigned nonce_next;
	/* Fault. */
	enum sim_fault fault;
	long fault_count; /* requests left to affect; -1 = until changed */
	char *fault_path; /* only requests whose path starts with this */
	/* Live state. */
	struct sim_switch *sw;
	size_t nsw;
	struct sim_cover *cv;
	size_t ncv;
	struct sim_light *lt;
	size_t nlt;
	uint64_t boot_ms;
	uint64_t last_ms;
	uint64_t reboots;
	int cfg_rev;
	uint64_t serial;
	char *patch; /* JSON text merged over config/settings, or NULL */
	char *fw; /* current Gen1 fw / Gen2+ fw_id (after an update) */
	char *ver; /* Gen2+ */
	char *upd_stable, *upd_beta;
	char *name; /* set through config, or NULL */
	bool restart_required; /* Gen2+: a SetConfig asked for a reboot (config.c) */
	long cfg_fail_in; /* config.c: the Nth setter request from now fails; 0 none */
	/* config.c: the "pass" keys Gen2+ SetConfig received ({"wifi.sta.pass": ".."}), never in
	 * GetConfig, only in the control API's GET /devices/<d>/secrets (tests); NULL none */
	struct cJSON *secrets;
	/* Counters and open connections. */
	struct counters c;
	struct sim_conn *conns; /* list of open connections */
	size_t nconns;
	uint32_t bound_addr; /* address the listener is bound to */
	int reboot_phase; /* 0 none, 1 going down, 2 away */
};

struct sel; /* a parsed device selection (--auth, --tls) */

struct sim_opts {
	const char *fixtures;
	const char *models;
	const char *base;
	size_t count;
	int port; /* -1: default 80 / 443 */
	bool netns_ok;
	bool wildcard;
	const char *manifest;
	const char *control;
	const char *password;
	const char *auth;
	const char *tls;
	const char *tls_dir;
	const char *faults;
	const char *digest; /* style name, "auto" or "mixed" */
	uint64_t nonce_ttl_ms;
	uint64_t reboot_ms;
	double cover_speed; /* percent per second */
	double load_w;
	uint64_t drip_ms;
	size_t oversize;
	size_t deep;
	unsigned conn_timeout_s;
	unsigned id_offset;
	bool mdns;
	int verbose;
	/* AP mode (apmode.c) */
	const char *ap_network;
	const char *ap_key_file;
	const char *ap_home;
	const char *ap_home_netns;
	const char *ap_beacon_dir;
	bool ap_sta_drop; /* the station request that takes a device home gets no reply */
};

struct srv; /* an MHD daemon driven by the loop */

struct sim {
	struct sim_opts o;
	struct loop *loop;
	struct fixture **fx;
	size_t nfx;
	char **skipped;
	size_t nskipped;
	struct dev **devs;
	size_t ndevs;
	/* Address pool: position -> device (NULL = free). */
	uint32_t base;
	struct dev **pool;
	size_t pool_len, pool_next;
	bool pool_has_wildcard;
	int wildcard_fd;
	struct loop_watch *wildcard_watch;
	struct loop_timer *wildcard_timer; /* re-enables accept after EMFILE */
	struct srv *plain; /* shared daemon of all plain-HTTP devices */
	struct dev *adding; /* device whose connection MHD_add_connection is handing over */
	struct srv *control;
	int control_fd;
	uint16_t control_port;
	char control_host[64];
	/* TLS. */
	void *ca_key; /* EVP_PKEY * */
	void *ca_cert; /* X509 * */
	char *ca_path;
	unsigned tls_serial;
	uint64_t start_ms;
	uint64_t rng;
	bool manifest_ready;
	struct sim_mdns *mdns; /* --mdns: publisher (tests/sim/sim_mdns.c) */
	struct sim_ap *ap; /* --ap-network: AP mode (tests/sim/apmode.c) */
};

/* util.c */
struct buf {
	char *p;
	size_t len, cap;
};
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the NUL-terminated contents; the buffer gives up ownership. */
char *buf_take(struct buf *b, size_t *len);
/* Reads a whole file; returns NULL (and sets *cause) on failure; caller frees. */
char *read_file(const char *path, size_t *len, char **cause);
/* Returns a malloc'd copy of s with every occurrence of from[i] replaced by to[i]. */
char *str_replace_all(const char *s, size_t len, const char *const *from, const char *const *to,
    size_t n, size_t *out_len);
/* Writes the dotted quad of addr (host order) into out (16 bytes). */
void addr_str(uint32_t addr, char out[16]);
int addr_parse(const char *s, uint32_t *out);
/* Pool position of addr relative to base (skipping .0 and .255); -1 if below base or invalid. */
long addr_pos(uint32_t base, uint32_t addr);
/* Address at pool position pos; 0 if it would leave the address space. */
uint32_t addr_at(uint32_t base, size_t pos);
/* Next pseudo-random 64-bit value (xorshift). */
uint64_t sim_rand(struct sim *sim);
/* Rounds to 3 (or n) decimals for stable JSON numbers. */
double round_n(double v, int n);
/* JSON helpers: a cJSON item's number / bool / string, or the default. */
double js_num(const struct cJSON *o, const char *key, double def);
bool js_has(const struct cJSON *o, const char *key);
const char *js_str(const struct cJSON *o, const char *key);
/* Sets (replacing) key of object o; takes ownership of item. */
void js_set(struct cJSON *o, const char *key, struct cJSON *item);
/* Sets key only if it already exists. */
void js_set_num_if(struct cJSON *o, const char *key, double v);
void js_set_bool_if(struct cJSON *o, const char *key, bool v);
void js_set_str_if(struct cJSON *o, const char *key, const char *v);
/* Deep-merges src into dst (objects recursively; an object with numeric keys into an array). */
void js_merge(struct cJSON *dst, const struct cJSON *src);
/* Prints unformatted; returns malloc'd text (never NULL). */
char *js_print(const struct cJSON *o, size_t *len);
/* Device selection lists: "all", "none", "gen1", "gen2" (gen 2+), "every:N", "I", "A-B",
 * comma-separated. */
struct sel *sel_parse(const char *s, char **cause);
bool sel_match(const struct sel *sel, size_t index, int gen);
void sel_free(struct sel *sel);
const char *fault_name(enum sim_fault f);
int fault_parse(const char *s, enum sim_fault *out);
const char *digest_name(enum sim_digest d);
int digest_parse(const char *s, enum sim_digest *out);
void reply_set(struct reply *r, unsigned status, const char *ctype, char *body, size_t len);
void reply_json(struct reply *r, unsigned status, char *body, size_t len);
void reply_done(struct reply *r);

/* fixture.c */
/* Loads every device folder below dir (or the comma-separated models); caller frees with
 * fixtures_free. */
int fixtures_load(struct sim *sim, char **cause);
void fixtures_free(struct sim *sim);
void fixture_free(struct fixture *fx);
/* Loads one folder; NULL if it is not a device (why in *cause). */
struct fixture *fixture_load(const char *root, const char *rel, char **cause);

/* state.c */
void dev_state_init(struct dev *d);
void dev_state_done(struct dev *d);
/* Brings energy, covers and timers up to now (monotonic ms). */
void dev_advance(struct dev *d, uint64_t now);
double sw_power(const struct dev *d, const struct sim_switch *s, uint64_t now);
double cv_power(const struct dev *d, const struct sim_cover *c, uint64_t now);
double lt_power(const struct dev *d, const struct sim_light *l, uint64_t now);
struct sim_switch *dev_switch(struct dev *d, int id);
struct sim_cover *dev_cover(struct dev *d, int id);
struct sim_light *dev_light(struct dev *d, const char *type, int id);
/* Sets a switch; flip_after_s > 0 flips it back later. Returns the previous state. */
bool dev_switch_set(
    struct dev *d, struct sim_switch *s, bool on, double flip_after_s, const char *src);
void dev_light_set(struct dev *d, struct sim_light *l, int on, int brightness, double flip_after_s,
    const char *src);
/* Moves a cover toward target percent; target < 0 stops. */
void dev_cover_go(struct dev *d, struct sim_cover *c, double target, const char *src);
const char *cover_state_gen2(const struct sim_cover *c);
const char *cover_state_gen1(const struct sim_cover *c);
uint64_t dev_uptime_s(const struct dev *d, uint64_t now);
/* Records a configuration change: merges patch_json (an object) into d->patch, bumps cfg_rev. */
void dev_config_patch(struct dev *d, const char *patch_json);
/* Replaces fixture MAC/id with the device's in a rendered text; caller frees. */
char *dev_rewrite(const struct dev *d, const char *text, size_t len, size_t *out_len);
/* The device's name (config patch, else fixture), or NULL. */
const char *dev_name(const struct dev *d);
void dev_reboot_done(struct dev *d);

/* auth.c */
/* Returns true when the request may proceed; otherwise fills rep with a 401. */
bool auth_check(struct dev *d, struct sim_req *req, const char *uri_path, struct reply *rep);
/* Checks the "auth" object of a JSON-RPC frame (Gen2 WS style); frame_auth is JSON text. */
bool auth_check_frame(struct dev *d, const struct cJSON *auth);
/* The WS-style challenge JSON string for error.message; caller frees. */
char *auth_frame_challenge(struct dev *d);
void auth_set_password(struct dev *d, const char *password);
void auth_set_ha1(struct dev *d, const char *ha1_hex);
void sha256_hex(const void *data, size_t len, char out[65]);
char *base64_encode(const unsigned char *data, size_t len);
/* Decodes base64; returns the byte count or -1. */
ssize_t base64_decode(const char *s, unsigned char *out, size_t cap);
/* Generates a random password (hex) into a malloc'd string. */
char *auth_random_password(struct sim *sim);

/* tls.c */
int tls_init(struct sim *sim, char **cause);
void tls_done(struct sim *sim);
/* (Re)issues d's key and certificate (SAN = its address and id). */
int tls_issue(struct sim *sim, struct dev *d, char **cause);

/* gen1.c / gen2.c */
void gen1_handle(struct dev *d, struct sim_req *req, struct reply *rep);
void gen2_handle(struct dev *d, struct sim_req *req, struct reply *rep);
/* Whether the request needs credentials when auth is on. */
bool gen1_protected(const char *path);
bool gen2_protected(struct sim_req *req);
/* Renders the device's /shelly document (used by the manifest and tests). */
char *gen1_render_status(struct dev *d, size_t *len);
char *gen2_render_status(struct dev *d, size_t *len);

/* net.c */
int net_init(struct sim *sim, char **cause);
void net_done(struct sim *sim);
/* Brings the device's listener in line with its state (now, not deferred). */
int dev_net_sync(struct dev *d, char **cause);
/* Defers dev_net_sync to the next loop turn (safe inside MHD callbacks). */
void dev_net_later(struct dev *d);
void dev_set_fault(struct dev *d, enum sim_fault f, long count, const char *path);
void dev_reboot(struct dev *d, uint64_t delay_ms);
int dev_move(struct dev *d, char **cause);
/*
 * Moves d to addr (a free pool address): new listener, mDNS, manifest; with new_key an HTTPS
 * device also gets a new key and certificate (a DHCP move in the tests), else it keeps its key.
 */
int dev_move_to(struct dev *d, uint32_t addr, bool new_key, char **cause);
void dev_set_auth(struct dev *d, bool on, const char *password);
int dev_tls_rotate(struct dev *d, char **cause);
/* Rotates the certificate once the next request to path has been answered (HTTPS only). */
int dev_tls_rotate_after(struct dev *d, const char *path, char **cause);
void dev_reset_counters(struct dev *d);
/* Query argument of the current request, or NULL. */
const char *req_arg(struct sim_req *req, const char *key);
/* Calls fn for every query argument. */
void req_args(
    struct sim_req *req, void (*fn)(void *arg, const char *key, const char *value), void *arg);
const char *req_header(struct sim_req *req, const char *name);
struct dev *sim_dev_lookup(struct sim *sim, const char *key);
/* Drives an started MHD daemon (external epoll mode) from the loop; takes ownership of mhd. */
struct srv *srv_new(struct sim *sim, struct MHD_Daemon *mhd, char **cause);
/* Stops the daemon (resuming parked connections first) and frees the wrapper. */
void srv_free(struct srv *s);
/* Runs one MHD daemon turn after something outside MHD changed it. */
void srv_kick(struct srv *s);

/* main.c */
/* Publishes d over mDNS when --mdns is on (withdrawing its old record first after a move). */
void dev_mdns_publish(struct dev *d, bool withdraw_first);

/* config.c */
/* Gen1 setters of the request into group ("wifi_sta", NULL) or container[index] of the settings
 * doc; 0, or -1 with rep filled (400 refused value, 500 injected failure). */
int simcfg_gen1_set(struct dev *d, struct sim_req *req, struct cJSON *doc, const char *group,
    const char *container, int index, struct reply *rep);
/* Gen2+ SetConfig of component key (current config cur): the result object, or NULL with *code
 * and msg. */
struct cJSON *simcfg_gen2_set(struct dev *d, const char *key, const struct cJSON *cur,
    const struct cJSON *config, int *code, char *msg, size_t size);
/* An injected config failure is due now (counts setter requests). */
bool simcfg_fail_now(struct dev *d);
/* Control actions "config" and "config-fail"; 0, or -1 with *cause. */
int simcfg_control(struct dev *d, const char *action, const struct cJSON *in, char **cause);
/* The write-only keys received so far as a JSON object text (caller frees). */
char *simcfg_secrets(struct dev *d, size_t *len);

/* control.c */
int control_start(struct sim *sim, char **cause);
void control_stop(struct sim *sim);
/* Returns the manifest JSON text; caller frees. */
char *manifest_render(struct sim *sim, size_t *len);
/* Writes --manifest atomically (no-op until every listener was up once). */
int manifest_write(struct sim *sim, char **cause);
/* Renders a device's control state; caller frees. */
char *dev_state_render(struct dev *d, size_t *len);

/* apmode.c */
struct sim_ap;
struct reply;
int apmode_init(struct sim *sim, char **cause);
void apmode_start(struct sim *sim);
void apmode_done(struct sim *sim);
/* Gen1 /settings/sta seen (the settings group answers it). */
void apmode_gen1_sta(struct dev *d, struct sim_req *req);
void apmode_gen2_wifi(struct dev *d, const struct cJSON *config);
/* Around a device's listen(): 1 entered the home namespace, 0 nothing to do, -1 error. */
int apmode_listen_enter(struct dev *d, char **cause);
void apmode_listen_leave(struct dev *d, int entered);

/* staticip.c: sta (Gen1 wifi_sta, Gen2+ wifi.sta) as it is now; moves d when it is static. */
void staticip_check(struct dev *d, const struct cJSON *sta, const char *mode_key);

#endif
