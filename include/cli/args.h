#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stdint.h>
#include <stdio.h>

/*
 * The command line, written once: the table generates the getopt_long table, --help and the
 * list a test compares with shelly-tui.1.
 *
 * X(ID, long name, short, argument (0 none, 1 required), argument name, mode?, help)
 * A "mode" option selects what the run does; two modes on one command line are a usage error.
 */
/* clang-format off */
#define CLI_OPTIONS(X) \
	X(HEADLESS, "headless", 0, 0, NULL, 1, \
	    "Run the poller daemon in the foreground: polling, history, /metrics, /healthz, /readyz") \
	X(PROBE, "probe", 0, 1, "HOST[:PORT]", 1, \
	    "Identify one device and print its typed status; stores nothing") \
	X(ADD, "add", 0, 1, "HOST[:PORT]", 1, \
	    "Identify a device and add it to the registry (keyed by its MAC)") \
	X(REMOVE, "remove", 0, 1, "ID|MAC", 1, \
	    "Remove a device from the registry") \
	X(LIST, "list", 0, 0, NULL, 1, \
	    "List the registered devices with their last known state") \
	X(POLL_ONCE, "poll-once", 0, 0, NULL, 1, \
	    "Poll every registered device once, store the results, print a summary") \
	X(DISCOVER, "discover", 0, 0, NULL, 1, \
	    "Find devices by mDNS and by scanning the given TARGETs or configured ranges") \
	X(ACTION, "action", 0, 1, "ACTION", 1, \
	    "Run a device ACTION on each TARGET (registered MAC, id or name, @GROUP, or HOST[:PORT])") \
	X(LIST_ACTIONS, "list-actions", 0, 0, NULL, 1, \
	    "List the device actions of --action with what they need, their --channel forms and help") \
	X(LIST_METRICS, "list-metrics", 0, 0, NULL, 1, \
	    "List every /metrics family of --headless with its type and help") \
	X(OPNSENSE_SYNC, "opnsense-sync", 0, 0, NULL, 1, \
	    "Sync DHCP reservations and the device alias to OPNsense; prints each record's action") \
	X(BACKUP_DB, "backup-db", 0, 1, "FILE", 1, \
	    "Write a consistent copy of the database to FILE (safe while the poller runs)") \
	X(LIST_KEYS, "list-keys", 0, 0, NULL, 1, \
	    "List the console's actions with their views, default keys and help") \
	X(EXPORT, "export", 0, 1, "FORMAT", 1, \
	    "Write the fleet as FORMAT (json toml csv hosts dhcp-isc dnsmasq kea) to stdout or -o") \
	X(IMPORT, "import", 0, 1, "FILE", 1, \
	    "Restore a json or toml export: validated first, then applied in one transaction") \
	X(CONFIG_GET, "config-get", 0, 1, "TARGET", 1, \
	    "Print the typed configuration of TARGET (and of more TARGET operands)") \
	X(CONFIG_SET, "config-set", 0, 1, "FIELD=VALUE", 1, \
	    "Set fields (more FIELD=VALUE operands) on each TARGET; read back, restored on failure") \
	X(CONFIG_FIELDS, "config-fields", 0, 0, NULL, 1, \
	    "List the configuration fields: name, type, generations, range and help") \
	X(TEMPLATE_SAVE, "template-save", 0, 1, "NAME", 1, \
	    "Keep the configuration of the --from device as template NAME (a file)") \
	X(DRIFT, "drift", 0, 0, NULL, 1, \
	    "Compare each TARGET with --template NAME or its stored desired config; exit 3 on drift") \
	X(APPLY, "apply", 0, 0, NULL, 1, \
	    "Bring each TARGET to a template ([NAME] TARGET..., --template) or its stored desired config") \
	X(CLONE, "clone", 0, 1, "SOURCE", 1, \
	    "Copy SOURCE's configuration (no identity, no secrets) onto each TARGET of its model") \
	X(GROUP_ADD, "group-add", 0, 1, "GROUP", 1, \
	    "Add the registered TARGETs to GROUP (created if needed); @GROUP names it as a TARGET") \
	X(GROUP_REMOVE, "group-remove", 0, 1, "GROUP", 1, \
	    "Remove the TARGETs from GROUP, or the whole group when none is given") \
	X(GROUP_LIST, "group-list", 0, 0, NULL, 1, \
	    "List the groups with their template and members") \
	X(GROUP_TEMPLATE, "group-template", 0, 1, "GROUP", 1, \
	    "Make GROUP follow the template named by the operand (\"\" detaches it)") \
	X(GROUP_SET, "group-set", 0, 1, "GROUP", 1, \
	    "Set GROUP's own desired fields (FIELD=VALUE operands), over its template") \
	X(PENDING, "pending", 0, 0, NULL, 1, \
	    "List configuration changes queued for offline devices, and what became of them") \
	X(SNAPSHOTS, "snapshots", 0, 1, "DEVICE", 1, \
	    "List DEVICE's configuration snapshots (id, time, cfg_rev, source); --snapshot ID shows one") \
	X(CONFIG_RESTORE, "config-restore", 0, 1, "DEVICE", 1, \
	    "Bring DEVICE back to its --snapshot ID: written, read back, restored on failure") \
	X(AGENT_ENROL, "agent-enrol", 0, 0, NULL, 1, \
	    "Create a one-time enrolment secret for a shelly-provisioner agent and print it once") \
	X(PROVISION, "provision", 0, 1, "SSID|MAC", 1, \
	    "Queue WiFi provisioning of the device AP SSID or MAC (more may follow) for an agent") \
	X(PROVISION_CSV, "provision-csv", 0, 1, "FILE", 1, \
	    "Queue provisioning of every 'SSID|MAC[,NAME]' record of the CSV (RFC 4180) FILE (validated first)") \
	X(TASKS, "tasks", 0, 0, NULL, 1, "List provisioning tasks with their state and reason") \
	X(TASK_CANCEL, "task-cancel", 0, 1, "ID", 1, "Cancel a provisioning task that has not ended") \
	X(AGENTS, "agents", 0, 0, NULL, 1, "List the registered provisioning agents") \
	X(AGENT_REVOKE, "agent-revoke", 0, 1, "AGENT_ID", 1, \
	    "Revoke a provisioning agent: its token is refused at once, its tasks are requeued") \
	X(LIST_OPTIONS, "list-options", 0, 0, NULL, 1, \
	    "List every configuration file option with its type, default and help") \
	X(HEALTH_CHECK, "health-check", 0, 1, "ADDR:PORT", 1, \
	    "Exit 0 when the poller at loopback ADDR:PORT answers /healthz with 200 (containers)") \
	X(HELP, "help", 'h', 0, NULL, 1, "Show this help") \
	X(VERSION, "version", 'V', 0, NULL, 1, "Show the version") \
	X(DB, "db", 0, 1, "PATH", 0, \
	    "Database file (default $XDG_DATA_HOME/shelly-tui/shelly.db; read-only modes never create it)") \
	X(CONFIG, "config", 0, 1, "FILE", 0, \
	    "Configuration file (default $XDG_CONFIG_HOME/shelly-tui/config)") \
	X(JSON, "json", 0, 0, NULL, 0, "Machine-readable output (the shared device object)") \
	X(USER, "user", 'u', 1, "USER", 0, "User name for the device (Gen1; Gen2+ is always admin)") \
	X(PASSWORD_FILE, "password-file", 0, 1, "FILE", 0, \
	    "Read the device password from FILE (else SHELLY_TUI_PASSWORD, else a prompt)") \
	X(NAME, "name", 'n', 1, "NAME", 0, \
	    "Name given to the device with --add or one --provision target (printable UTF-8; --add: at most 127 bytes, --provision: 1-64)") \
	X(NETWORK, "network", 0, 1, "SSID", 0, \
	    "WiFi network that --provision puts devices on (UTF-8, 1-32 bytes)") \
	X(WIFI_KEY_FILE, "wifi-key-file", 0, 1, "FILE", 0, \
	    "WiFi key of --network, read from FILE (stored as a reference, never printed)") \
	X(AP_OFF, "ap-off", 0, 0, NULL, 0, \
	    "Turn the device's own access point off once it is seen on --network (--provision)") \
	X(ATTEMPTS, "attempts", 0, 1, "N", 0, \
	    "Attempts a --provision task gets before it fails: 1 to 100 (default 3)") \
	X(LISTEN, "listen", 'l', 1, "ADDR:PORT", 0, \
	    "Address of the --headless HTTP server, or of the console's agent API (127.0.0.1:9464)") \
	X(FORCE, "force", 'f', 0, NULL, 0, \
	    "--poll-once despite a live poller's lease; --discover larger than a /16; --clone across models") \
	X(TIMEOUT, "timeout", 't', 1, "SECONDS", 0, \
	    "Per-request timeout (--probe, --add, --discover, --action): 0.001 to 600") \
	X(MDNS_ONLY, "mdns-only", 0, 0, NULL, 0, "--discover by mDNS only") \
	X(SCAN_ONLY, "scan-only", 0, 0, NULL, 0, "--discover by scanning only") \
	X(PORT, "port", 'p', 1, "PORT", 0, "Port probed by --discover scans: 1 to 65535 (default 80)") \
	X(CHANNEL, "channel", 0, 1, "N", 0, \
	    "Channel (output, cover or light number; also TYPE:N, e.g. switch:0, cover:0, " \
	    "cct:0: --list-actions shows each action's forms) of --action (default 0)") \
	X(VALUE, "value", 0, 1, "V", 0, \
	    "Position or brightness 0-100 of --action cover_position and light_brightness") \
	X(HTTPS, "https", 0, 0, NULL, 0, \
	    "Talk HTTPS to the device named by --probe, --add or an --action HOST") \
	X(CA_FILE, "ca-file", 0, 1, "FILE", 0, \
	    "Verify HTTPS devices against the CA certificates in FILE instead of pinning") \
	X(INSECURE, "insecure", 'k', 0, NULL, 0, \
	    "Do not verify HTTPS device certificates at all (logged)") \
	X(ACCEPT_CERT, "accept-cert", 0, 0, NULL, 0, \
	    "Accept a certificate that changed since it was pinned (--add, --probe, --action)") \
	X(THEME, "theme", 0, 1, "NAME", 0, \
	    "Console theme: default, light, mono, high-contrast, or a theme file") \
	X(OUTPUT, "output", 'o', 1, "FILE", 0, \
	    "--export to FILE (a regular file is replaced atomically, a link's target too; a FIFO or device is written in place; mode 0600 when it holds secrets)") \
	X(INCLUDE_SECRETS, "include-secrets", 0, 0, NULL, 0, \
	    "--export json or toml with the stored device passwords and secret config fields") \
	X(COLUMNS, "columns", 0, 1, "LIST", 0, \
	    "--export csv columns, comma-separated (default mac,name,host,port,gen,model,fw,state)") \
	X(GROUP, "group", 0, 1, "G", 0, \
	    "--export only the members of group G (also @G), in every format") \
	X(DRY_RUN, "dry-run", 0, 0, NULL, 0, \
	    "Change nothing: --import validates, --config-set/--apply/--clone list changes, --opnsense-sync plans") \
	X(MERGE, "merge", 0, 0, NULL, 0, "--import adds and updates devices and settings (default)") \
	X(REPLACE, "replace", 0, 0, NULL, 0, \
	    "--import also removes devices and settings that the file does not hold") \
	X(IMPORT_CREDENTIALS, "import-credentials", 0, 0, NULL, 0, \
	    "--import also the devices' password file references (file:PATH) the file names") \
	X(TEMPLATE, "template", 0, 1, "NAME", 0, \
	    "Template of --drift and --apply; with --provision, applied on the device's AP") \
	X(FROM, "from", 0, 1, "TARGET", 0, "Device whose configuration --template-save keeps") \
	X(SNAPSHOT, "snapshot", 0, 1, "ID", 0, \
	    "Configuration snapshot (from --snapshots) that --snapshots shows or --config-restore applies") \
	X(FIELDS, "fields", 0, 1, "LIST", 0, \
	    "Fields or prefixes (comma-separated) --template-save keeps; identity ones named in full") \
	X(ALLOW_REBOOT, "allow-reboot", 0, 0, NULL, 0, \
	    "Reboot a device after a change when the device says it needs it") \
	X(ALLOW_NETWORK_CHANGE, "allow-network-change", 0, 0, NULL, 0, \
	    "Allow changes that may cut a device off the network (WiFi station, static IP, AP)") \
	X(VERBOSE, "verbose", 'v', 0, NULL, 0, "Log more (repeat for debug)") \
	X(QUIET, "quiet", 'q', 0, NULL, 0, "Log only errors")
/* clang-format on */

enum cli_option {
#define CLI_ENUM(id, lng, shrt, arg, argname, mode, help) CLI_##id,
	CLI_OPTIONS(CLI_ENUM)
#undef CLI_ENUM
	CLI__COUNT
};

/* A parsed command line. Strings point into argv. */
struct cli_args {
	int mode;		/* CLI_<mode>, or -1 for none (the default front end) */
	const char *mode_arg;	/* the mode's argument, if it takes one */
	int set[CLI__COUNT];	/* how many times each option was given */
	const char *val[CLI__COUNT];
	char **rest;		/* operands (TARGETs of --discover and --action) */
	int nrest;
	double timeout_s;	/* --timeout, 0 if not given */
	uint16_t port;		/* --port, 0 if not given */
};

/*
 * Parses argv into out. Returns 0, or -1 with *cause (caller frees) on a usage error: unknown
 * option, missing argument, two modes, operands where the mode takes none, bad numbers.
 */
int cli_parse(int argc, char **argv, struct cli_args *out, char **cause);
/* Prints --help to fp. */
void cli_usage(FILE *fp);
/* Long name of an option ("poll-once"). Static. */
const char *cli_option_name(enum cli_option opt);

#endif
