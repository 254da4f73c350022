#ifndef TUI_KEYMAP_H
#define TUI_KEYMAP_H

/*
 * The console's actions, written once: the table generates enum tui_action, the default key
 * bindings, the help view, the function-key bar, --list-keys and (through a test) the man
 * page's KEY BINDINGS. Users rebind with `bind VIEW KEY ACTION` (ACTION "none" unbinds).
 *
 * X(ID, name, views, default keys, F-key bar label, help)
 *   views   the views the binding applies to (TV_* bits); TV_ALL for every view
 *   keys    blank-separated key names (see keymap_parse_key)
 *   label   short label on the function-key bar when a default key is F1..F12, else NULL
 */
#include <stdio.h>

/* The views, as `bind` names them. */
#define TUI_VIEWS(X)                \
	X(DEVICES, "devices")       \
	X(DETAIL, "detail")         \
	X(EVENTS, "events")         \
	X(RESULTS, "results")       \
	X(DISCOVER, "discover")     \
	X(HELP, "help")             \
	X(CONFIG, "config")         \
	X(DRIFT, "drift")           \
	X(GROUPS, "groups")         \
	X(PROVISION, "provision")      \
	X(OPNSENSE, "opnsense")      \
	X(SNAPSHOTS, "snapshots")

enum tui_view_kind {
#define TUI_VIEW_ENUM(id, name) TV_KIND_##id,
	TUI_VIEWS(TUI_VIEW_ENUM)
#undef TUI_VIEW_ENUM
	TV__COUNT
};

#define TVB(id) (1u << TV_KIND_##id)
#define TV_ALL ((1u << TV__COUNT) - 1)
#define TV_LISTS \
	(TVB(DEVICES) | TVB(EVENTS) | TVB(RESULTS) | TVB(DISCOVER) | TVB(HELP) | TVB(DETAIL) | \
	    TVB(CONFIG) | TVB(DRIFT) | TVB(GROUPS) | TVB(PROVISION) | TVB(OPNSENSE) | \
	    TVB(SNAPSHOTS))
#define TV_SUB (TV_ALL & ~TVB(DEVICES))

/* clang-format off */
#define TUI_ACTIONS(X) \
	X(HELP, "help", TV_ALL, "? F1", "Help", "Show the keys of every view") \
	X(QUIT, "quit", TV_ALL, "F10", "Quit", \
	    "Leave the console (the lease is given back; asks first while actions or scans still "   \
	    "run or configuration is still being written)") \
	X(LEAVE, "leave", TVB(DEVICES), "q", NULL, "Leave the console (q in the devices view)") \
	X(BACK, "back", TV_SUB, "q Esc", NULL, \
	    "Close this view (an action or scan it shows keeps running; L shows it again; while a "  \
	    "configuration apply it started still writes, asks first: closing stops it)") \
	X(LAST_RESULTS, "last-results", TV_ALL, "L", NULL, \
	    "Show an action or scan whose view was closed, the one closed or ended last: its progress or results") \
	X(UP, "up", TV_LISTS, "Up k", NULL, \
	    "Move the cursor up (a text without one, such as help or a raw reply, scrolls)") \
	X(DOWN, "down", TV_LISTS, "Down j", NULL, \
	    "Move the cursor down (a text without one, such as help or a raw reply, scrolls)") \
	X(PAGE_UP, "page-up", TV_LISTS, "PageUp C-b", NULL, "Move one page up") \
	X(PAGE_DOWN, "page-down", TV_LISTS, "PageDown C-f", NULL, "Move one page down") \
	X(HOME, "home", TV_LISTS, "Home g", NULL, "Go to the first line") \
	X(END, "end", TV_LISTS, "End G", NULL, "Go to the last line") \
	X(OPEN, "open", TVB(DEVICES), "Enter Right l", NULL, "Open the device under the cursor") \
	X(DISCOVER, "discover", TVB(DEVICES), "F2 D", "Discover", "Scan a range for devices") \
	X(FILTER, "filter", TVB(DEVICES) | TVB(EVENTS), "/ F3", "Filter", \
	    "Filter rows as you type (name, model, IP, id, MAC; state=WORD; has=cover|light|switch|output|update)") \
	X(FILTER_CLEAR, "filter-clear", TVB(DEVICES) | TVB(EVENTS), "Esc", NULL, \
	    "Clear the filter: every row shows again (in events, Esc without a filter closes it)") \
	X(SORT, "sort", TVB(DEVICES), "F4 >", "Sort", "Sort by the next column") \
	X(SORT_BACK, "sort-back", TVB(DEVICES), "<", NULL, "Sort by the previous column") \
	X(SORT_REVERSE, "sort-reverse", TVB(DEVICES), "r", NULL, "Reverse the sort order") \
	X(TOGGLE, "toggle", TVB(DEVICES) | TVB(DETAIL), "F5 t", "Toggle", \
	    "Toggle the output (first output in the table, selected one in detail)") \
	X(ON, "on", TVB(DETAIL), "o", NULL, "Turn the selected output on") \
	X(OFF, "off", TVB(DETAIL), "f", NULL, "Turn the selected output off") \
	X(NEXT_OUTPUT, "next-output", TVB(DETAIL), "Tab", NULL, "Select the next output or cover") \
	X(COVER_OPEN, "cover-open", TVB(DETAIL), "O", NULL, "Open the selected cover") \
	X(COVER_CLOSE, "cover-close", TVB(DETAIL), "C", NULL, "Close the selected cover") \
	X(COVER_STOP, "cover-stop", TVB(DETAIL), "S", NULL, "Stop the selected cover") \
	X(SET_VALUE, "set-value", TVB(DETAIL), "v", NULL, \
	    "Move the selected cover to a position or set the selected light's brightness (0-100)") \
	X(REBOOT, "reboot", TVB(DETAIL), "R", NULL, "Restart the device (asks first)") \
	X(FW_UPDATE, "fw-update", TVB(DETAIL), "U", NULL, "Install the stable firmware update (asks first)") \
	X(RAW, "raw", TVB(DETAIL), "J", NULL, "Show or hide the device's raw reply") \
	X(CREDENTIALS, "credentials", TVB(DETAIL), "P", NULL, \
	    "Read the device again and store the password that works (asked for when none is stored or the stored one is refused)") \
	X(ACCEPT_CERT, "accept-cert", TVB(DETAIL), "K", NULL, \
	    "Pin the certificate an HTTPS device shows now, after it changed (asks first)") \
	X(MARK, "mark", TVB(DEVICES), "Space", NULL, "Mark or unmark the row and move down") \
	X(MARK_ALL, "mark-all", TVB(DEVICES), "a", NULL, "Mark every row the filter shows") \
	X(MARK_INVERT, "mark-invert", TVB(DEVICES), "i", NULL, "Invert the marks of the shown rows") \
	X(MARK_CLEAR, "mark-clear", TVB(DEVICES), "A", NULL, "Clear every mark") \
	X(BULK, "bulk", TVB(DEVICES), "F6 b", "Bulk", "Run an action on the marked devices") \
	X(RETRY, "retry", TVB(RESULTS), "r", NULL, \
	    "Run the action again on the devices that failed (not a toggle whose reply was lost: " \
	    "it may have switched)") \
	X(EVENTS, "events", TVB(DEVICES) | TVB(DETAIL), "F8 e", "Events", \
	    "Show the event log (from a device's detail: that device's events)") \
	X(THEME, "theme", TV_ALL, "T", NULL, "Switch to the next theme") \
	X(COMMAND, "command", TV_ALL, ":", NULL, "Type a command (:help lists them)") \
	X(REDRAW, "redraw", TV_ALL, "C-l", NULL, "Redraw the whole screen") \
	X(CONFIG, "config", TVB(DEVICES) | TVB(DETAIL), "F7 c", "Config", \
	    "Open the device's typed configuration (read in the background)") \
	X(DRIFT, "drift", TVB(DEVICES) | TVB(GROUPS), "d", NULL, \
	    "Show drifted fields, desired and actual, of the marked devices (all when none is marked; the group's members in groups)") \
	X(GROUPS, "groups", TVB(DEVICES), "m", NULL, "Show groups, their members and templates, and the templates") \
	X(EDIT, "edit", TVB(CONFIG), "Enter e", NULL, "Edit the selected field (checked before anything is sent)") \
	X(FIND_FIELD, "find-field", TVB(CONFIG), "/", NULL, "Go to the first field whose name holds the text typed") \
	X(UNDO_EDIT, "undo-edit", TVB(CONFIG), "u", NULL, "Drop the edit of the selected field") \
	X(REREAD, "reread", TVB(CONFIG), "C-r", NULL, "Read the device's configuration again") \
	X(APPLY, "apply", TVB(CONFIG) | TVB(DRIFT), "a", NULL, \
	    "Send the edits (editor) or bring the listed devices to their desired configuration (drift), after a confirmation") \
	X(ALLOW_REBOOT, "allow-reboot", TVB(CONFIG) | TVB(DRIFT) | TVB(SNAPSHOTS), "B", NULL, \
	    "Toggle: let an apply reboot a device that says it must") \
	X(ALLOW_NETWORK, "allow-network", TVB(CONFIG) | TVB(DRIFT) | TVB(SNAPSHOTS), "N", NULL, \
	    "Toggle: allow a change that may cut a device off the network") \
	X(SNAPSHOTS, "snapshots", TVB(DETAIL) | TVB(CONFIG), "H", NULL, \
	    "Show the device's configuration snapshots (id, time UTC, cfg_rev, source), newest first") \
	X(SNAP_SHOW, "snapshot-show", TVB(SNAPSHOTS), "Enter", NULL, \
	    "Show the selected snapshot's fields (secrets masked); q goes back to the list") \
	X(SNAP_RESTORE, "snapshot-restore", TVB(SNAPSHOTS), "r", NULL, \
	    "Restore the selected snapshot: asks, shows the dry run's changes, applies them on a second yes") \
	X(GROUP_ADD, "group-add", TVB(GROUPS), "a +", NULL, \
	    "Add the marked devices to the selected group (or to a new one: n)") \
	X(GROUP_NEW, "group-new", TVB(GROUPS), "n", NULL, "Add the marked devices to a new group (asks its name)") \
	X(GROUP_TEMPLATE, "group-template", TVB(GROUPS), "t", NULL, "Attach a template to the selected group (asks its name)") \
	X(GROUP_MARK, "group-mark", TVB(GROUPS), "Enter", NULL, \
	    "Mark the selected group's members (the marks replaced) and go back to the devices, for a bulk action") \
	X(PROVISIONING, "provisioning", TVB(DEVICES), "W", NULL, "Show the access points agents see and the provisioning tasks") \
	X(PROV_MARK, "prov-mark", TVB(PROVISION), "Space", NULL, "Mark or unmark the access point and move down") \
	X(PROV_QUEUE, "prov-queue", TVB(PROVISION), "p", NULL, \
	    "Provision the marked access points (or the selected one): asks the network, WiFi key file, template, name, password file and AP off") \
	X(PROV_CANCEL, "prov-cancel", TVB(PROVISION), "c", NULL, \
	    "Cancel a provisioning task that has not ended (asks its id, then confirms)") \
	X(EXPORT, "export", TVB(DEVICES), "F9 x", "Export", \
	    "Export the fleet to a file: format, path, device passwords only when confirmed twice") \
	X(IMPORT, "import", TVB(DEVICES), "I", NULL, \
	    "Import a json or toml export: the dry run's result first, then apply when confirmed") \
	X(OPNSENSE, "opnsense", TVB(DEVICES), "F11", "OPNsense", \
	    "Show the OPNsense sync plan: DHCP reservations and the firewall alias") \
	X(OPN_APPLY, "opnsense-apply", TVB(OPNSENSE), "a", NULL, \
	    "Apply the plan shown to OPNsense (asks first); then each record's result") \
	X(OPN_REFRESH, "opnsense-refresh", TVB(OPNSENSE), "r", NULL, \
	    "Read the firewall again and show a new plan") \
	X(FOUND_ADD, "add-found", TVB(DISCOVER), "a Enter", NULL, \
	    "Add the found device under the cursor to the registry (a registered one that moved: store its new address)") \
	X(FOUND_ADD_ALL, "add-all-found", TVB(DISCOVER), "A", NULL, \
	    "Add every new or moved found device that is not ignored") \
	X(FOUND_IGNORE, "ignore-found", TVB(DISCOVER), "i", NULL, \
	    "Ignore the found device under the cursor for this session (again: stop ignoring)")
/* clang-format on */

enum tui_action {
	TA_NONE = 0,
#define TUI_ACTION_ENUM(id, name, views, keys, label, help) TA_##id,
	TUI_ACTIONS(TUI_ACTION_ENUM)
#undef TUI_ACTION_ENUM
	TA__COUNT
};

struct keymap;

/* Returns the default bindings of the table; caller frees with keymap_free. */
struct keymap *keymap_new(void);
void keymap_free(struct keymap *km);
/* Binds key in view (a `bind` VIEW name, or "all") to action (a name, or "none"). 0 or -1. */
int keymap_bind(struct keymap *km, const char *view, const char *key, const char *action,
    char **cause);
/* The action bound to key in view, or TA_NONE. */
enum tui_action keymap_lookup(const struct keymap *km, enum tui_view_kind view, int key);
/* Names of the keys bound to action in view, blank-separated, into buf; returns buf. */
char *keymap_keys(const struct keymap *km, enum tui_view_kind view, enum tui_action a,
    char *buf, size_t size);

/* An action's row of the table (TA_NONE's for one out of range). */
struct keymap_action {
	const char *name;
	unsigned views;		/* TV_* bits */
	const char *keys;	/* default keys */
	const char *label;	/* F-key bar label, or NULL */
	const char *help;
};
const struct keymap_action *keymap_action(enum tui_action a);
/* The action called name, or TA_NONE. */
enum tui_action keymap_action_find(const char *name);
/* The view called name, or -1. */
int keymap_view_find(const char *name);
const char *keymap_view_name(enum tui_view_kind v);

/* A key name ("q", "C-x", "F5", "PageDown", "Enter", "Space", "Esc", "Tab") to a curses key
 * code (a character, or KEY_*), or -1. */
int keymap_parse_key(const char *name);
/* The name of a key code into buf; returns buf. */
char *keymap_key_name(int key, char *buf, size_t size);

/* --list-keys: one line per action, tab-separated: name, views, default keys, help. */
void keymap_list(FILE *fp);

#endif
