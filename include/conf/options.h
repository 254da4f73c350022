#ifndef CONF_OPTIONS_H
#define CONF_OPTIONS_H

/*
 * Every `set` option, written once. The table generates enum option_id (OPT_<ID>), the
 * parser's name lookup and validation, conf_list_options() (--list-options) and the man
 * page list (a test compares them).
 *
 * X(ID, name, type, default, min, max, choices, help)
 *   type     OT_DURATION  value in ms; written 500ms, 10s, 5m, 2h, 1d (a bare number is s)
 *            OT_INT       a non-negative decimal integer
 *            OT_SIZE      bytes; written 1048576, 512k, 1MiB (suffixes are binary)
 *            OT_STRING    any text
 *            OT_PATH      a file name: a leading ~ is expanded, a relative name is taken
 *                         relative to the directory of the config file that sets it; "" stays ""
 *            OT_BOOL      on/off, yes/no, true/false, 1/0
 *            OT_ENUM      one of choices ("a|b|c"); read as its index or its name
 *            OT_ADDRESS   HOST:PORT; HOST an IPv4 address, [IPv6] or a name; PORT 0..65535
 *   min/max  inclusive bounds for duration (ms), int and size (bytes); 0, 0 for the others
 */

#define OPT_SEC 1000ull
#define OPT_MIN (60 * OPT_SEC)
#define OPT_HOUR (60 * OPT_MIN)
#define OPT_DAY (24 * OPT_HOUR)
#define OPT_KIB 1024ull
#define OPT_MIB (1024 * OPT_KIB)

/* clang-format off */
#define OPTION_TABLE(X) \
	X(POLL_INTERVAL_GEN1, "poll-interval-gen1", OT_DURATION, "30s", 1, OPT_DAY, NULL, \
	    "Time between two status polls of a Gen1 device") \
	X(POLL_INTERVAL_GEN2, "poll-interval-gen2", OT_DURATION, "10s", 1, OPT_DAY, NULL, \
	    "Time between two status polls of a Gen2 or later device") \
	X(CONNECT_TIMEOUT, "connect-timeout", OT_DURATION, "2s", 1, 10 * OPT_MIN, NULL, \
	    "Time allowed to open a connection to a device") \
	X(REQUEST_TIMEOUT, "request-timeout", OT_DURATION, "5s", 1, 10 * OPT_MIN, NULL, \
	    "Time allowed for a whole request, connection included") \
	X(OFFLINE_AFTER, "offline-after", OT_INT, "3", 1, 1000, NULL, \
	    "Consecutive failed polls after which a device is shown offline") \
	X(BACKOFF_MAX, "backoff-max", OT_DURATION, "5m", 1, OPT_DAY, NULL, \
	    "Longest wait between polls of a device that keeps failing") \
	X(MAX_CONCURRENCY, "max-concurrency", OT_INT, "64", 1, 4096, NULL, \
	    "Requests in flight at once, over all devices") \
	X(LANES_GEN2, "lanes-gen2", OT_INT, "2", 1, 3, NULL, \
	    "Requests in flight at once to one Gen2 or later device") \
	X(RESPONSE_MAX, "response-max", OT_SIZE, "1MiB", 1 * OPT_KIB, 256 * OPT_MIB, NULL, \
	    "Largest response body accepted from a device") \
	X(JSON_MAX_DEPTH, "json-max-depth", OT_INT, "32", 1, 256, NULL, \
	    "Deepest JSON nesting accepted from a device") \
	X(LISTEN, "listen", OT_ADDRESS, "127.0.0.1:9464", 0, 0, NULL, \
	    "Address of the HTTP server of --headless (metrics, health, agent API)") \
	X(CONSOLE_AGENT_API, "console-agent-api", OT_BOOL, "off", 0, 0, NULL, \
	    "The console serves the agent API (agent-listen, else listen) while it runs the fleet") \
	X(AGENT_LISTEN, "agent-listen", OT_STRING, "", 0, 0, NULL, \
	    "Own address (HOST:PORT) of the agent API; empty: on listen (plain HTTP)") \
	X(AGENT_TLS_CERT, "agent-tls-cert", OT_PATH, "", 0, 0, NULL, \
	    "Certificate (PEM) of the agent API on agent-listen: HTTPS with agent-tls-key") \
	X(AGENT_TLS_KEY, "agent-tls-key", OT_FILEREF, "", 0, 0, NULL, \
	    "Private key (file:PATH, PEM) of agent-tls-cert; not readable by others") \
	X(DB, "db", OT_PATH, "", 0, 0, NULL, \
	    "Database file; empty means $XDG_DATA_HOME/shelly-tui/shelly.db") \
	X(HISTORY_RAW_RETENTION, "history-raw-retention", OT_DURATION, "48h", 1, 365 * OPT_DAY, \
	    NULL, "How long raw history samples are kept before only buckets remain") \
	X(HISTORY_RETENTION, "history-retention", OT_DURATION, "30d", 1, 3650 * OPT_DAY, NULL, \
	    "How long history buckets are kept") \
	X(HISTORY_BUCKET, "history-bucket", OT_DURATION, "5m", 1, OPT_DAY, NULL, \
	    "Width of a history bucket (min/avg/max)") \
	X(EVENTS_RETENTION, "events-retention", OT_DURATION, "90d", 0, 3650 * OPT_DAY, NULL, \
	    "How long events are kept; 0 keeps them forever") \
	X(AUDIT_RETENTION, "audit-retention", OT_DURATION, "365d", 0, 3650 * OPT_DAY, NULL, \
	    "How long audit records are kept; 0 keeps them forever") \
	X(FLUSH_INTERVAL, "flush-interval", OT_DURATION, "1s", 1, 10 * OPT_MIN, NULL, \
	    "Longest time buffered results wait to be written to the database") \
	X(DISCOVER_INTERVAL, "discover-interval", OT_DURATION, "0", 0, 30 * OPT_DAY, NULL, \
	    "Time between two scheduled discoveries in --headless; 0 turns them off") \
	X(DISCOVER_TIMEOUT, "discover-timeout", OT_DURATION, "2s", 1, 10 * OPT_MIN, NULL, \
	    "Time allowed for one address to answer during a scan") \
	X(DISCOVER_PORT, "discover-port", OT_INT, "0", 0, 65535, NULL, \
	    "Port probed by discovery scans; 0 means 80, with HTTPS on 443 as a fallback") \
	X(DISCOVER_MDNS, "discover-mdns", OT_BOOL, "on", 0, 0, NULL, \
	    "Browse mDNS during discovery") \
	X(SCAN_CONCURRENCY, "scan-concurrency", OT_INT, "256", 1, 4096, NULL, \
	    "Addresses probed at once during a scan") \
	X(TLS_MODE, "tls-mode", OT_ENUM, "tofu", 0, 0, "tofu|ca|insecure", \
	    "Certificate check for HTTPS devices: trust on first use, a CA file, or none") \
	X(TLS_CA_FILE, "tls-ca-file", OT_PATH, "", 0, 0, NULL, \
	    "CA certificates (PEM) used when tls-mode is ca") \
	X(LOG_LEVEL, "log-level", OT_ENUM, "info", 0, 0, "debug|info|warn|error|off", \
	    "Lowest level of log lines written") \
	X(LEASE_HEARTBEAT, "lease-heartbeat", OT_DURATION, "5s", 1, OPT_HOUR, NULL, \
	    "Time between two renewals of the poller lease") \
	X(LEASE_TIMEOUT, "lease-timeout", OT_DURATION, "20s", 1, OPT_DAY, NULL, \
	    "Age after which another poller may take over a lease") \
	X(EXPORT_INTERVAL, "export-interval", OT_DURATION, "0", 0, 365 * OPT_DAY, NULL, \
	    "Time between two scheduled exports in --headless; 0 turns them off") \
	X(EXPORT_FORMAT, "export-format", OT_ENUM, "json", 0, 0, \
	    "json|toml|csv|hosts|dhcp-isc|dnsmasq|kea", "Format of scheduled exports") \
	X(EXPORT_DIR, "export-dir", OT_PATH, "", 0, 0, NULL, \
	    "Directory of scheduled exports (shelly-fleet-TIME.EXT); empty turns them off") \
	X(EXPORT_KEEP, "export-keep", OT_INT, "10", 1, 100000, NULL, \
	    "Scheduled export files kept; older ones of the format are deleted") \
	X(EXPORT_GIT_DIR, "export-git-dir", OT_PATH, "", 0, 0, NULL, \
	    "Git working copy where each scheduled run commits the fleet as fleet.toml") \
	X(OPNSENSE_URL, "opnsense-url", OT_STRING, "", 0, 0, NULL, \
	    "OPNsense firewall to keep DHCP reservations and an alias on: https://HOST[:PORT]") \
	X(OPNSENSE_KEY, "opnsense-key", OT_FILEREF, "", 0, 0, NULL, \
	    "File holding the OPNsense API key (file:PATH; not readable by others)") \
	X(OPNSENSE_SECRET, "opnsense-secret", OT_FILEREF, "", 0, 0, NULL, \
	    "File holding the OPNsense API secret (file:PATH; not readable by others)") \
	X(OPNSENSE_CA, "opnsense-ca", OT_FILEREF, "", 0, 0, NULL, \
	    "CA or certificate (file:PATH, PEM) to verify the firewall; empty: the system store") \
	X(OPNSENSE_INSECURE, "opnsense-insecure", OT_BOOL, "off", 0, 0, NULL, \
	    "Do not verify the firewall's certificate at all (logged on every sync)") \
	X(OPNSENSE_PIN, "opnsense-pin", OT_STRING, "", 0, 0, NULL, \
	    "Public key pin of the firewall (sha256//BASE64 as curl --pinnedpubkey, or 64 hex " \
	    "digits): trusted instead of a CA, e.g. its self-signed certificate by IP") \
	X(OPNSENSE_BACKEND, "opnsense-backend", OT_ENUM, "auto", 0, 0, "auto|kea|dnsmasq", \
	    "DHCP server holding the reservations; auto detects the enabled one") \
	X(OPNSENSE_ALIAS, "opnsense-alias", OT_STRING, "shelly_devices", 0, 0, NULL, \
	    "Firewall alias (type host) holding every device's address; empty: none") \
	X(OPNSENSE_INTERVAL, "opnsense-interval", OT_DURATION, "0", 0, 30 * OPT_DAY, NULL, \
	    "Time between two OPNsense syncs in --headless; 0 turns them off") \
	X(OPNSENSE_TIMEOUT, "opnsense-timeout", OT_DURATION, "15s", 1, 10 * OPT_MIN, NULL, \
	    "Time allowed for one OPNsense API request (a reconfigure gets three times as long)") \
	X(CONSOLE_COLUMNS, "console-columns", OT_STRING, \
	    "name,model,gen,ip,state,drift,outputs,power,energy,temp,rssi,fw,seen", 0, 0, NULL, \
	    "Columns of the console's devices table, in order (comma-separated)") \
	X(AGENT_LEASE, "agent-lease", OT_DURATION, "60s", 1, OPT_DAY, NULL, \
	    "How long a provisioning task stays with an agent that stopped heartbeating") \
	X(ENROL_TTL, "enrol-ttl", OT_DURATION, "1h", 1, 30 * OPT_DAY, NULL, \
	    "How long an enrolment secret from --agent-enrol stays valid") \
	X(VERIFY_TIMEOUT, "verify-timeout", OT_DURATION, "3m", 1, OPT_DAY, NULL, \
	    "How long a provisioned device has to appear on the target network") \
	X(READDRESS_TIMEOUT, "readdress-timeout", OT_DURATION, "30s", 1, OPT_HOUR, NULL, \
	    "How long a device given a new static address has to answer there") \
	X(VERIFY_INTERVAL, "verify-interval", OT_DURATION, "5s", 1, OPT_HOUR, NULL, \
	    "Time between two scans for provisioned devices and checks of agent leases")
/* clang-format on */

enum option_type {
	OT_DURATION,
	OT_INT,
	OT_SIZE,
	OT_STRING,
	OT_PATH,
	OT_FILEREF,
	OT_BOOL,
	OT_ENUM,
	OT_ADDRESS,
};

#define OPTION_ENUM(id, name, type, def, min, max, choices, help) OPT_##id,
enum option_id { OPTION_TABLE(OPTION_ENUM) OPT__COUNT };
#undef OPTION_ENUM

/* Index of each value of the enum options, in the order of their choices. */
enum opt_tls_mode { OPT_TLS_TOFU, OPT_TLS_CA, OPT_TLS_INSECURE };
enum opt_opnsense_backend { OPT_OPNSENSE_AUTO, OPT_OPNSENSE_KEA, OPT_OPNSENSE_DNSMASQ };
/* log-level indices equal enum log_level of util/log.h. */

#endif
