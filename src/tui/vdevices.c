/*
 * The devices view (the console's root): the fleet as a table with sort by any column, an
 * incremental filter, marks for bulk actions, the newest events below when there is room,
 * and a welcome text while the database has no device.
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "model/fwver.h"
#include "tui/source.h"
#include "tui/view.h"
#include "util/loop.h"
#include "util/str.h"
#include "util/xmalloc.h"

/*
 * X(ID, name, heading, width, drop order (0 never; higher goes first), right-aligned)
 * The name column takes what the others leave.
 */
/* clang-format off */
#define DEV_COLUMNS(X) \
	X(NAME, "name", "NAME", 0, 0, 0) \
	X(MODEL, "model", "MODEL", 12, 5, 0) \
	X(GEN, "gen", "G", 1, 6, 1) \
	X(IP, "ip", "IP", 15, 0, 0) \
	X(STATE, "state", "STATE", 8, 0, 0) \
	X(DRIFT, "drift", "DRIFT", 5, 4, 1) \
	X(OUT, "outputs", "OUT", 7, 0, 0) \
	X(POWER, "power", "POWER", 8, 0, 1) \
	X(ENERGY, "energy", "ENERGY", 9, 9, 1) \
	X(TEMP, "temp", "TEMP", 5, 7, 1) \
	X(RSSI, "rssi", "RSSI", 4, 10, 1) \
	X(FW, "fw", "FW", 9, 8, 0) \
	X(SEEN, "seen", "SEEN", 4, 11, 1) \
	X(VOLT, "voltage", "VOLT", 6, 12, 1) \
	X(UPTIME, "uptime", "UPTIME", 7, 13, 1) \
	X(MAC, "mac", "MAC", 17, 14, 0) \
	X(BATT, "battery", "BATT", 4, 15, 1)

/* The extra columns: shown by default only on a terminal this wide (console-columns can name
 * them at any width). */
#define EXTRA_COLS_WIDTH 200
#define COL_FIRST_EXTRA COL_VOLT
#define DROP_MAX 15

enum dev_column {
#define DEV_COL_ENUM(id, name, head, w, drop, right) COL_##id,
	DEV_COLUMNS(DEV_COL_ENUM)
#undef DEV_COL_ENUM
	COL__COUNT
};

static const struct {
	const char *name, *head;
	int width, drop, right;
} columns[COL__COUNT] = {
#define DEV_COL_ROW(id, name, head, w, drop, right) [COL_##id] = { name, head, w, drop, right },
	DEV_COLUMNS(DEV_COL_ROW)
#undef DEV_COL_ROW
};
/* clang-format on */

struct vdevices {
	struct view v;
	size_t *shown; /* indices of the rows the filter shows, sorted */
	size_t nshown;
	char sel_mac[DEV_MAC_LEN];
	enum dev_column sort;
	int reverse;
	char filter[256];
	char (*marks)[DEV_MAC_LEN]; /* sorted */
	size_t nmarks;
	struct source_job *job; /* a toggle from this view */
	char bulk_key; /* the bulk action waiting for its confirmation */
	int menu; /* the bulk menu is open */
	enum dev_column order[COL__COUNT]; /* the configured columns, in order */
	struct drift_cache *drift;
	int norder;
	int auto_extra[COL__COUNT]; /* an extra column console-columns did not name */
};

const char *
vdevices_columns(void)
{
	return "name model gen ip state drift outputs power energy temp rssi fw seen voltage uptime "
	       "mac battery";
}

/* ---- marks ---- */

static int
mac_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
is_marked(const struct vdevices *d, const char *mac)
{
	return d->nmarks > 0 &&
	       bsearch(mac, d->marks, d->nmarks, sizeof *d->marks, mac_cmp) != NULL;
}

static void
set_mark(struct vdevices *d, const char *mac, int on)
{
	char(*m)[DEV_MAC_LEN] =
	    d->nmarks > 0 ? bsearch(mac, d->marks, d->nmarks, sizeof *d->marks, mac_cmp) : NULL;

	if (on && m == NULL) {
		d->marks = xreallocarray(d->marks, d->nmarks + 1, sizeof *d->marks);
		str_copy(d->marks[d->nmarks++], DEV_MAC_LEN, mac);
		qsort(d->marks, d->nmarks, sizeof *d->marks, mac_cmp);
	} else if (!on && m != NULL) {
		size_t i = (size_t)(m - d->marks);
		memmove(&d->marks[i], &d->marks[i + 1], (d->nmarks - i - 1) * sizeof *d->marks);
		d->nmarks--;
	}
}

/* ---- filter and sort ---- */

/*
 * Where a device is among the STATE column's words: its state, STATE_NEW (not polled), or
 * STATE_UNREAD (its stored status could not be read: not to be taken for a new device).
 */
#define STATE_NEW DEVICE_STATE_COUNT
#define STATE_UNREAD (DEVICE_STATE_COUNT + 1)

static int
state_at(const struct source_dev *r)
{
	return r->has_status ? (int)r->state : r->status_unread ? STATE_UNREAD : STATE_NEW;
}

/* The STATE column's word for position s (what state= matches, what a summary counts). */
static const char *
state_word_at(int s)
{
	switch (s) {
	case STATE_NEW:
		return "new";
	case STATE_UNREAD:
		return "unknown";
	case DEVICE_AUTH_REQUIRED:
		return "auth?";
	case DEVICE_AUTH_FAILED:
		return "authfail";
	default:
		return device_state_name((enum device_state)s);
	}
}

static const char *
state_word(const struct source_dev *r)
{
	return state_word_at(state_at(r));
}

/* What has= takes: a component kind the row's reply shows, or a firmware update offered. */
#define HAS_WORDS "cover light switch output update"

static int
has_matches(const struct source_dev *r, const char *k)
{
	if (str_caseeq(k, "cover"))
		return r->covers > 0;
	if (str_caseeq(k, "light"))
		return r->lights > 0;
	if (str_caseeq(k, "switch"))
		return r->outputs > r->lights;
	if (str_caseeq(k, "output"))
		return r->outputs > 0;
	if (str_caseeq(k, "update"))
		return r->fw_update == 1;
	return 0;
}

static int
word_matches(const struct source_dev *r, const char *w)
{
	if (str_has_caseprefix(w, "has="))
		return has_matches(r, w + 4);
	if (str_has_caseprefix(w, "state=")) {
		const char *s = w + 6;
		return str_caseeq(s, state_word(r)) ||
		       (r->has_status && str_has_caseprefix(device_state_name(r->state), s));
	}
	return strcasestr(r->name, w) || strcasestr(r->model, w) || strcasestr(r->model_name, w) ||
	       strcasestr(r->host, w) || strcasestr(r->id, w) || strcasestr(r->mac, w);
}

static int
row_matches(const struct source_dev *r, const char *filter)
{
	char buf[256], *save = NULL;

	str_copy(buf, sizeof buf, filter);
	for (char *w = strtok_r(buf, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		if (!word_matches(r, w))
			return 0;
	return 1;
}

static int
num_cmp(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b); /* unknown last */
	return a < b ? -1 : a > b;
}

static const struct source_dev *sort_rows;
static enum dev_column sort_col;
static int sort_rev;
static struct drift_cache *sort_drift;
static struct tui *sort_tui;

/* OUT sorts outputs (by how many are on), then covers (by position, then state). */
static int
out_rank(const struct source_dev *r)
{
	return r->outputs > 0 ? 0 : r->covers > 0 ? 1 : 2;
}

static int
out_cmp(const struct source_dev *a, const struct source_dev *b)
{
	int ra = out_rank(a), c;

	if (ra != out_rank(b))
		return ra - out_rank(b);
	if (ra == 0)
		return a->outputs_on - b->outputs_on;
	c = num_cmp(a->cover_pct[0], b->cover_pct[0]);
	return c != 0 ? c : (int)a->cover_state[0] - (int)b->cover_state[0];
}

/* Firmware by version (1.2.0 before 1.14.0); text where either has no version (those sort
 * after the versions: unknown()). */
static int
fw_cmp(const char *a, const char *b)
{
	int c;

	return fwver_cmp(a, b, &c) == 0 && c != 0 ? c : strcmp(a, b);
}

static int
compare(const struct source_dev *a, const struct source_dev *b)
{
	switch (sort_col) {
	case COL_MODEL:
		return str_casecmp(a->model_name, b->model_name);
	case COL_GEN:
		return a->gen - b->gen;
	case COL_IP:
		return strcmp(a->host, b->host);
	case COL_STATE:
		return strcmp(state_word(a), state_word(b));
	case COL_OUT:
		return out_cmp(a, b);
	case COL_POWER:
		return num_cmp(a->power_w, b->power_w);
	case COL_ENERGY:
		return num_cmp(a->energy_wh, b->energy_wh);
	case COL_TEMP:
		return num_cmp(a->temperature_c, b->temperature_c);
	case COL_RSSI:
		return num_cmp(a->rssi_dbm, b->rssi_dbm);
	case COL_FW:
		return fw_cmp(a->fw, b->fw);
	case COL_DRIFT:
		return drift_cache_get(sort_drift, sort_tui, a->mac) -
		       drift_cache_get(sort_drift, sort_tui, b->mac);
	case COL_SEEN:
		return (a->seen_ms < b->seen_ms) - (a->seen_ms > b->seen_ms);
	case COL_VOLT:
		return num_cmp(a->voltage_v, b->voltage_v);
	case COL_BATT:
		return num_cmp(a->battery_pct, b->battery_pct);
	case COL_UPTIME:
		return (a->uptime_s > b->uptime_s) - (a->uptime_s < b->uptime_s);
	case COL_MAC:
		return strcmp(a->mac, b->mac);
	default:
		return str_casecmp(source_dev_label(a), source_dev_label(b));
	}
}

/* 1 when r has no value in the sort column (the table shows "-"). */
static int
unknown(const struct source_dev *r)
{
	switch (sort_col) {
	case COL_OUT: /* what the table shows as "-" */
		return !r->has_status ||
		       (r->state != DEVICE_ONLINE && r->state != DEVICE_ASLEEP && !r->stale) ||
		       (r->outputs <= 0 && r->covers == 0);
	case COL_POWER:
		return isnan(r->power_w);
	case COL_ENERGY:
		return isnan(r->energy_wh);
	case COL_TEMP:
		return isnan(r->temperature_c);
	case COL_RSSI:
		return isnan(r->rssi_dbm);
	case COL_VOLT:
		return isnan(r->voltage_v);
	case COL_BATT:
		return isnan(r->battery_pct);
	case COL_UPTIME:
		return r->uptime_s < 0;
	case COL_FW: { /* a firmware without a version sorts after those with one */
		int c;
		return fwver_cmp(r->fw, r->fw, &c) != 0;
	}
	default:
		return 0;
	}
}

/* Unknown values sort last in both directions; only known ones follow sort_rev. */
static int
index_cmp(const void *x, const void *y)
{
	const struct source_dev *a = &sort_rows[*(const size_t *)x];
	const struct source_dev *b = &sort_rows[*(const size_t *)y];
	int ua = unknown(a), ub = unknown(b);
	int c;

	if (ua != ub)
		return ua - ub;
	c = compare(a, b);
	if (c == 0) {
		/* Equal values read in name order (then MAC), whichever way the column sorts. */
		c = sort_col == COL_NAME ? 0 : str_casecmp(source_dev_label(a), source_dev_label(b));
		return c != 0 ? c : strcmp(a->mac, b->mac);
	}
	return sort_rev ? -c : c;
}

/* Rebuilds the shown rows and keeps the cursor on the same device. */
static void
rebuild(struct view *v)
{
	struct vdevices *d = (struct vdevices *)v;

	size_t n;
	const struct source_dev *rows = source_devices(d->v.t->src, &n);

	/* A device gone from the registry (--remove, an import) is no longer marked: the count in
	 * the title and the bulk question, groups and drift see only registered devices. */
	for (size_t m = d->nmarks; m > 0; m--)
		if (source_device(d->v.t->src, d->marks[m - 1]) == NULL) {
			memmove(&d->marks[m - 1], &d->marks[m], (d->nmarks - m) * sizeof *d->marks);
			d->nmarks--;
		}
	d->shown = xreallocarray(d->shown, n ? n : 1, sizeof *d->shown);
	d->nshown = 0;
	for (size_t i = 0; i < n; i++)
		if (d->filter[0] == '\0' || row_matches(&rows[i], d->filter))
			d->shown[d->nshown++] = i;
	/* The only caller of qsort here; the comparison reads these statics. */
	sort_rows = rows;
	sort_col = d->sort;
	sort_rev = d->reverse;
	sort_drift = d->drift;
	sort_tui = d->v.t;
	qsort(d->shown, d->nshown, sizeof *d->shown, index_cmp);
	for (size_t i = 0; i < d->nshown; i++)
		if (strcmp(rows[d->shown[i]].mac, d->sel_mac) == 0) {
			d->v.cur.sel = i;
			break;
		}
	cursor_fit(&d->v.cur, d->nshown, d->v.cur.page);
}

static const struct source_dev *
current(struct vdevices *d)
{
	size_t n;
	const struct source_dev *rows = source_devices(d->v.t->src, &n);

	if (d->nshown == 0 || d->v.cur.sel >= d->nshown)
		return NULL;
	return &rows[d->shown[d->v.cur.sel]];
}

static void
remember(struct vdevices *d)
{
	const struct source_dev *r = current(d);

	str_copy(d->sel_mac, sizeof d->sel_mac, r != NULL ? r->mac : "");
}

int
vdevices_sort(struct view *v, const char *column)
{
	struct vdevices *d = (struct vdevices *)v;

	for (int c = 0; c < COL__COUNT; c++)
		if (str_caseeq(column, columns[c].name) || str_caseeq(column, columns[c].head)) {
			d->reverse = d->sort == (enum dev_column)c
			                 ? !d->reverse
			                 : c == COL_POWER || c == COL_ENERGY || c == COL_TEMP;
			d->sort = (enum dev_column)c;
			rebuild(&d->v);
			return 0;
		}
	return -1;
}

void
vdevices_filter(struct view *v, const char *text)
{
	struct vdevices *d = (struct vdevices *)v;

	str_copy(d->filter, sizeof d->filter, text != NULL ? text : "");
	rebuild(&d->v);
}

/* ---- drawing ---- */

/* aabbcc001122 as aa:bb:cc:00:11:22 (anything else as it is). */
static void
fmt_mac(char *buf, size_t size, const char *mac)
{
	if (strlen(mac) != 12) {
		snprintf(buf, size, "%s", mac[0] ? mac : "-");
		return;
	}
	snprintf(buf, size, "%.2s:%.2s:%.2s:%.2s:%.2s:%.2s", mac, mac + 2, mac + 4, mac + 6,
	    mac + 8, mac + 10);
}

/*
 * Cover i: its position, with an arrow while it moves; a cover without position control (not
 * calibrated) has none, and shows its state word (open, closing, stopped, ...). Compact (two
 * covers in one cell): the arrow replaces the %, and a state is its arrow or first two letters.
 */
static void
fmt_one_cover(char *buf, size_t size, const struct source_dev *r, int i, int utf8, int compact)
{
	enum cover_state st = r->cover_state[i];
	const char *arrow = "";

	if (st == COVER_OPENING)
		arrow = utf8 ? "\u2191" : "^";
	else if (st == COVER_CLOSING)
		arrow = utf8 ? "\u2193" : "v";
	if (!isnan(r->cover_pct[i]))
		snprintf(
		    buf, size, "%.0f%s%s", r->cover_pct[i], compact && arrow[0] ? "" : "%", arrow);
	else if (st == COVER_UNKNOWN)
		snprintf(buf, size, "-");
	else if (compact && arrow[0])
		snprintf(buf, size, "%s", arrow);
	else if (compact)
		snprintf(buf, size, "%.2s", cover_state_name(st));
	else
		snprintf(buf, size, "%s", cover_state_name(st));
}

/*
 * The covers of a row. Two (a Pro Dual Cover) are both shown, split by '/' as outputs show
 * on/total: "30%/50%" when that fits the column, else compact ("30\u2191/st").
 */
static void
fmt_cover(char *buf, size_t size, const struct source_dev *r, int utf8)
{
	char a[32], b[32];

	if (r->covers < 2) {
		fmt_one_cover(buf, size, r, 0, utf8, 0);
		return;
	}
	fmt_one_cover(a, sizeof a, r, 0, utf8, 0);
	fmt_one_cover(b, sizeof b, r, 1, utf8, 0);
	snprintf(buf, size, "%s/%s", a, b);
	if (draw_width(buf) <= columns[COL_OUT].width)
		return;
	fmt_one_cover(a, sizeof a, r, 0, utf8, 1);
	fmt_one_cover(b, sizeof b, r, 1, utf8, 1);
	snprintf(buf, size, "%s/%s", a, b);
}

/* 1 when column c shows a value of the device's reply (dimmed when it is the last known). */
static int
stale_column(enum dev_column c)
{
	return c == COL_OUT || c == COL_POWER || c == COL_ENERGY || c == COL_TEMP ||
	       c == COL_RSSI || c == COL_VOLT;
}

/*
 * The FW cell: the version, and when an update is offered its arrow (ASCII ^ without UTF-8),
 * which always keeps its cell: a version too long for both is cut to make room.
 */
static void
fw_cell(struct tui *t, const struct source_dev *r, char *buf, size_t size)
{
	const char *arrow = t->utf8 ? "\u2191" : "^", *fw = r->fw[0] ? r->fw : "-";
	int w = columns[COL_FW].width;
	char cut[64];
	size_t n;

	if (r->fw_update != 1 || draw_width(fw) + 2 <= w) {
		snprintf(buf, size, "%s%s%s", fw, r->fw_update == 1 ? " " : "",
		    r->fw_update == 1 ? arrow : "");
		return;
	}
	draw_cells(cut, sizeof cut, fw, w - 1);
	for (n = strlen(cut); n > 0 && cut[n - 1] == ' '; n--)
		cut[n - 1] = '\0';
	snprintf(buf, size, "%s%s", cut, arrow);
}

static void
cell(struct tui *t, struct drift_cache *dc, const struct source_dev *r, enum dev_column c,
    char *buf, size_t size, int *attr)
{
	int64_t now = loop_wall_ms();
	int live = r->has_status && (r->state == DEVICE_ONLINE || r->state == DEVICE_ASLEEP);
	int shown = live || r->stale; /* a device that stopped answering: its last known values */

	*attr = 0;
	switch (c) {
	case COL_NAME:
		snprintf(buf, size, "%s", source_dev_label(r));
		break;
	case COL_MODEL: /* "Shelly Plus 1PM" reads as "Plus 1PM" in a narrow column */
		snprintf(buf, size, "%s",
		    str_has_prefix(r->model_name, "Shelly ") ? r->model_name + 7
		    : r->model_name[0]                       ? r->model_name
		                                             : "-");
		break;
	case COL_GEN:
		snprintf(buf, size, r->gen > 0 ? "%d" : "-", r->gen);
		break;
	case COL_IP:
		snprintf(buf, size, "%s", r->host[0] ? r->host : "-");
		break;
	case COL_STATE:
		snprintf(buf, size, "%s", state_word(r));
		*attr = theme_attr(t->theme, r->status_unread             ? TC_ERROR
		                             : !r->has_status             ? TC_DIM
		                             : r->state == DEVICE_ONLINE  ? TC_ONLINE
		                             : r->state == DEVICE_OFFLINE ? TC_OFFLINE
		                             : r->state == DEVICE_ASLEEP  ? TC_ASLEEP
		                             : r->state == DEVICE_ERROR   ? TC_ERROR
		                                                          : TC_AUTH);
		break;
	case COL_DRIFT: {
		int n = drift_cache_get(dc, t, r->mac);
		snprintf(buf, size, n >= 0 ? "%d" : n == -1 ? "-" : "?", n);
		if (n > 0)
			*attr = theme_attr(t->theme, TC_ERROR);
		break;
	}
	case COL_OUT:
		if (!shown)
			snprintf(buf, size, "-");
		else if (r->outputs == 1) /* an output the reply did not tell is not "off" */
			snprintf(buf, size, "%s",
			    r->outputs_known == 0 ? "?" : r->outputs_on ? "on" : "off");
		else if (r->outputs > 1)
			snprintf(buf, size, "%d/%d%s", r->outputs_on, r->outputs,
			    r->outputs_known < r->outputs ? "?" : "");
		else if (r->covers > 0)
			fmt_cover(buf, size, r, t->utf8);
		else
			snprintf(buf, size, "-");
		break;
	case COL_POWER:
		fmt_power(buf, size, shown ? r->power_w : NAN);
		break;
	case COL_ENERGY:
		fmt_energy(buf, size, r->energy_wh);
		break;
	case COL_TEMP:
		if (shown && !isnan(r->temperature_c))
			snprintf(buf, size, "%.0f%s", r->temperature_c, t->utf8 ? "\u00b0C" : "C");
		else
			snprintf(buf, size, "-");
		break;
	case COL_RSSI:
		snprintf(buf, size, shown && !isnan(r->rssi_dbm) ? "%.0f" : "-", r->rssi_dbm);
		break;
	case COL_FW:
		fw_cell(t, r, buf, size);
		if (r->fw_update == 1)
			*attr = theme_attr(t->theme, TC_UPDATE);
		break;
	case COL_SEEN:
		fmt_age(buf, size, r->seen_ms > 0 ? now - r->seen_ms : -1);
		break;
	case COL_VOLT:
		snprintf(buf, size, shown && !isnan(r->voltage_v) ? "%.1fV" : "-", r->voltage_v);
		break;
	case COL_UPTIME:
		fmt_age(buf, size, live && r->uptime_s >= 0 ? r->uptime_s * 1000 : -1);
		break;
	case COL_BATT:
		snprintf(
		    buf, size, shown && !isnan(r->battery_pct) ? "%.0f%%" : "-", r->battery_pct);
		break;
	case COL_MAC:
		fmt_mac(buf, size, r->mac);
		break;
	default:
		buf[0] = '\0';
	}
	/* Last known values are dimmed: the SEEN column tells how old they are. */
	if (strcmp(buf, "-") == 0 || (!live && r->stale && stale_column(c)))
		*attr = theme_attr(t->theme, TC_DIM);
}

/* An empty table under a filter says why, and what state= takes (a typo matches nothing). */
static void
draw_no_match(const struct vdevices *d, struct tui *t, int y, int w)
{
	int attr = theme_attr(t->theme, TC_DIM);
	char buf[200] = "state= takes:";
	size_t len = strlen(buf);

	draw_text(y, 3, w - 4, "no device matches the filter (Esc clears it)", attr);
	if (strcasestr(d->filter, "has=") != NULL)
		draw_text(y + 1, 3, w - 4, "has= takes: " HAS_WORDS, attr);
	if (strcasestr(d->filter, "state=") == NULL)
		return;
	for (int s = 0; s <= STATE_UNREAD && len < sizeof buf; s++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, " %s", state_word_at(s));
	draw_text(y + 1, 3, w - 4, buf, attr);
}

/* Which of the configured columns fit in w cells; returns the width left for the name. */
static int
layout(const struct vdevices *d, int w, int *show)
{
	int used = 0, namew;

	memset(show, 0, COL__COUNT * sizeof *show);
	for (int k = 0; k < d->norder; k++) {
		if (d->auto_extra[d->order[k]] && w + 4 < EXTRA_COLS_WIDTH)
			continue;
		show[d->order[k]] = 1;
		if (d->order[k] != COL_NAME)
			used += columns[d->order[k]].width + 1;
	}
	/* The name keeps 15 cells at least: at 80 columns name, model, IP, state, drift, outputs
	 * and power fit. */
	for (int drop = DROP_MAX; drop > 0 && w - used < 15; drop--)
		for (int c = 1; c < COL__COUNT; c++)
			if (show[c] && columns[c].drop == drop) {
				show[c] = 0;
				used -= columns[c].width + 1;
			}
	namew = w - used;
	return namew < 8 ? 8 : namew > 40 ? 40 : namew;
}

/*
 * The width of column c drawn at x in a frame w wide: cut at the frame's right border, since
 * below 80 columns the columns never dropped may not fit (0: no room left).
 */
static int
cell_width(int c, int namew, int x, int w)
{
	int cw = c == COL_NAME ? namew : columns[c].width;

	return cw < w - 1 - x ? cw : w - 1 - x;
}

/* Reads console-columns; unknown names are reported and skipped. */
static void
set_columns(struct vdevices *d, const char *list)
{
	char buf[256], *save = NULL;

	d->norder = 0;
	str_copy(buf, sizeof buf, list != NULL ? list : "");
	for (char *w = strtok_r(buf, ", ", &save); w != NULL; w = strtok_r(NULL, ", ", &save)) {
		int found = 0;
		for (int c = 0; c < COL__COUNT && !found; c++)
			if (str_caseeq(w, columns[c].name)) {
				found = 1;
				for (int k = 0; k < d->norder; k++)
					found += d->order[k] == (enum dev_column)c;
				if (found == 1 && d->norder < COL__COUNT)
					d->order[d->norder++] = (enum dev_column)c;
			}
		if (!found)
			tui_message(d->v.t, 1, "console-columns: unknown column '%s' (one of: %s)",
			    w, vdevices_columns());
	}
	if (d->norder == 0)
		for (int c = 0; c < COL_FIRST_EXTRA; c++)
			d->order[d->norder++] = (enum dev_column)c;
	/* The extras the list does not name follow, shown only on a wide terminal. */
	for (int c = COL_FIRST_EXTRA; c < COL__COUNT; c++) {
		int named = 0;
		for (int k = 0; k < d->norder; k++)
			named |= d->order[k] == (enum dev_column)c;
		d->auto_extra[c] = !named;
		if (!named)
			d->order[d->norder++] = (enum dev_column)c;
	}
}

static void
draw_welcome(struct tui *t, int y, int h, int w)
{
	static const char *const lines[] = {
	    "Welcome to shelly-tui. The database has no device yet.",
	    "",
	    "  F2 or :scan 192.168.1.0/24   scan a network you choose (nothing is scanned",
	    "                                until you press Enter)",
	    "  shelly-tui --add HOST         add one device by address",
	    "  shelly-tui --discover         find devices by mDNS and configured ranges",
	    "  device NAME HOST              lines in the configuration file,",
	    NULL, /* which one: the path */
	    "",
	    "No devices at hand? `make demo` opens this console on a simulated fleet.",
	    "? shows every key.",
	};
	char *def = t->app->config_path == NULL ? conf_default_path() : NULL;
	const char *path = t->app->config_path != NULL ? t->app->config_path : def;
	char *where = xasprintf("%32s%s", "", path != NULL ? path : "--config FILE");

	for (size_t i = 0; i < sizeof lines / sizeof lines[0] && (int)i < h; i++)
		draw_text(y + (int)i, 2, w - 4, lines[i] != NULL ? lines[i] : where,
		    theme_attr(t->theme, TC_NORMAL));
	free(where);
	free(def);
}

static void draw_bulk_menu(struct vdevices *d, struct tui *t, int y, int h, int w);

/*
 * The panel's title in room cells: "Devices - filter: F - sort: name ^ - 3 of 4 - 2 marked".
 * Narrow, "Devices - " goes first, then "sort: ", then the sort column, then the rest is cut:
 * the marks stay.
 */
static void
panel_title(const struct vdevices *d, size_t n, int room, char *out, size_t size)
{
	const char *arrow =
	    d->reverse ? (d->v.t->utf8 ? "\u25bc" : "v") : (d->v.t->utf8 ? "\u25b2" : "^");
	char rest[400], marked[40] = "", cut[4 * 400];

	if (d->nmarks > 0)
		snprintf(marked, sizeof marked, " - %zu marked", d->nmarks);
	room -= draw_width(marked);
	for (int step = 0; step < 4; step++) {
		char sort[64] = "";
		if (step < 3)
			snprintf(sort, sizeof sort, "%s%s %s - ", step < 2 ? "sort: " : "",
			    columns[d->sort].name, arrow);
		snprintf(rest, sizeof rest, "%s%s%s%s%s%zu of %zu", step == 0 ? "Devices" : "",
		    d->filter[0] ? (step == 0 ? " - filter: " : "filter: ") : "", d->filter,
		    d->filter[0] || step == 0 ? " - " : "", sort, d->nshown, n);
		if (draw_width(rest) <= room)
			break;
	}
	if (draw_width(rest) > room && marked[0] != '\0')
		str_copy(rest, sizeof rest, draw_cells(cut, sizeof cut, rest, room > 1 ? room : 1));
	snprintf(out, size, "%s%s", rest, marked);
}

static void
draw(struct view *v, struct tui *t, int y, int h, int w)
{
	struct vdevices *d = (struct vdevices *)v;
	size_t n;
	const struct source_dev *rows = source_devices(t->src, &n);
	int show[COL__COUNT], namew, th = h, x;
	char title[512], buf[128];

	if (h >= 24) {
		th = h - 7;
		events_pane(t, NULL, "Events", y + th, h - th, w);
	}
	panel_title(d, n, w - 6, title, sizeof title);
	view_panel(t, y, th, w, title);
	if (n == 0) {
		draw_welcome(t, y + 1, th - 2, w);
		return;
	}
	namew = layout(d, w - 4, show);
	x = 3;
	for (int k = 0; k < d->norder; k++) {
		int c = d->order[k], cw = cell_width(c, namew, x, w);
		if (!show[c] || cw <= 0)
			continue;
		if (columns[c].right)
			draw_rtext(y + 1, x, cw, columns[c].head, theme_attr(t->theme, TC_TITLE));
		else
			draw_text(y + 1, x, cw, columns[c].head, theme_attr(t->theme, TC_TITLE));
		x += cw + 1;
	}
	if (d->nshown == 0 && d->filter[0] != '\0')
		draw_no_match(d, t, y + 2, w);
	cursor_fit(&d->v.cur, d->nshown, th - 3);
	for (int i = 0; i < th - 3 && d->v.cur.top + (size_t)i < d->nshown; i++) {
		size_t idx = d->v.cur.top + (size_t)i;
		const struct source_dev *r = &rows[d->shown[idx]];
		int mark = is_marked(d, r->mac), sel = idx == d->v.cur.sel;
		int base = sel    ? theme_attr(t->theme, TC_CURSOR)
		           : mark ? theme_attr(t->theme, TC_MARKED)
		                  : theme_attr(t->theme, TC_NORMAL);
		int ry = y + 2 + i;

		draw_text(ry, 1, 2, mark ? "* " : "  ", base);
		x = 3;
		for (int k = 0; k < d->norder; k++) {
			int c = d->order[k], cw = cell_width(c, namew, x, w), attr;
			if (!show[c] || cw <= 0)
				continue;
			cell(t, d->drift, r, (enum dev_column)c, buf, sizeof buf, &attr);
			if (sel || attr == 0)
				attr = base;
			if (columns[c].right)
				draw_rtext(ry, x, cw, buf, attr);
			else
				draw_text(ry, x, cw, buf, attr);
			if (x + cw < w - 1)
				draw_text(ry, x + cw, 1, " ", base);
			x += cw + 1;
		}
		if (x < w - 1)
			draw_text(ry, x, w - 1 - x, "", base);
	}
	if (d->menu)
		draw_bulk_menu(d, t, y, th, w);
}

/* ---- actions ---- */

static void
filter_change_cb(struct tui *t, const char *text, void *arg)
{
	struct vdevices *d = arg;

	(void)t;
	vdevices_filter(&d->v, text);
}

static void
toggle_done_cb(struct source_job *job, void *arg)
{
	struct vdevices *d = arg;

	view_job_report(d->v.t, job, "toggle", NULL);
	/* The job is freed at the next toggle or with the view. */
}

static void
toggle(struct vdevices *d)
{
	const struct source_dev *r = current(d);
	const char *mac;

	if (r == NULL)
		return;
	if (r->outputs == 0) { /* unknown (-1, e.g. no status yet) is tried */
		tui_message(d->v.t, 1, "%s has no output to toggle", source_dev_label(r));
		return;
	}
	mac = r->mac;
	jobshelf_put(d->v.t->shelf, "toggle", d->job);
	d->job = source_action(d->v.t->src,
	    r->outputs > 0 && r->lights == r->outputs ? "light_toggle" : "switch_toggle", 0, -1,
	    &mac, 1, toggle_done_cb, d);
	tui_message(d->v.t, 0, "toggling output 0 of %s ...", source_dev_label(r));
}

/* What a bulk action needs of every device it runs on. */
enum bulk_need { NEED_NOTHING, NEED_OUTPUT, NEED_COVER, NEED_UPDATE };

/*
 * The bulk actions (key, menu word, action for a switch, for a light (NULL: the same), what
 * it needs, words of the question, what a device lacks when it cannot). Output actions go to
 * output 0, as a switch or a light action by the device's kind.
 */
static const struct {
	char key;
	const char *word, *action, *light_action;
	enum bulk_need need;
	const char *what, *lacks;
} bulk[] = {
    {'o', "on", "switch_on", "light_on", NEED_OUTPUT, "Turn ON output 0 of", "no output"},
    {'f', "off", "switch_off", "light_off", NEED_OUTPUT, "Turn OFF output 0 of", "no output"},
    {'t', "toggle", "switch_toggle", "light_toggle", NEED_OUTPUT, "Toggle output 0 of",
        "no output"},
    {'O', "open", "cover_open", NULL, NEED_COVER, "Open cover 0 of", "no cover"},
    {'C', "close", "cover_close", NULL, NEED_COVER, "Close cover 0 of", "no cover"},
    {'S', "stop", "cover_stop", NULL, NEED_COVER, "Stop cover 0 of", "no cover"},
    {'r', "reboot", "reboot", NULL, NEED_NOTHING, "Reboot", NULL},
    {'u', "update", "fw_update", NULL, NEED_UPDATE, "Install the stable firmware update on",
        "no update offered"},
};
#define NBULK (sizeof bulk / sizeof bulk[0])

/*
 * A marked device the bulk action is sent to: every one but those known to be unreachable
 * (offline, or asleep: a battery device takes no command). A device in error or waiting for
 * a password is tried and reports its own failure.
 */
static int
bulk_live(const struct source_dev *r)
{
	return !r->has_status || (r->state != DEVICE_OFFLINE && r->state != DEVICE_ASLEEP);
}

/* Whether r has what need asks; what is unknown (no status parsed yet) is tried. */
static int
bulk_fits(const struct source_dev *r, enum bulk_need need)
{
	int unknown = r->outputs < 0;

	switch (need) {
	case NEED_OUTPUT:
		return r->outputs != 0;
	case NEED_COVER:
		return r->covers > 0 || unknown;
	case NEED_UPDATE:
		return r->fw_update != 0;
	default:
		return 1;
	}
}

/* The marked rows (NULL for a mark whose device is gone), in mark order. */
static const struct source_dev *
marked_row(const struct vdevices *d, size_t m)
{
	return source_device(d->v.t->src, d->marks[m]);
}

/* How many marked devices are skipped (not online), and why, as "2 offline, 1 asleep". */
static size_t
bulk_skipped(const struct vdevices *d, char *why, size_t size)
{
	size_t total = 0, len = 0;

	why[0] = '\0';
	for (int s = 0; s <= STATE_NEW; s++) {
		size_t k = 0;
		for (size_t m = 0; m < d->nmarks; m++) {
			const struct source_dev *r = marked_row(d, m);
			k += r != NULL && !bulk_live(r) && state_at(r) == s;
		}
		if (k > 0 && len < size)
			len += (size_t)snprintf(why + len, size - len, "%s%zu %s",
			    total > 0 ? ", " : "", k, s == STATE_NEW ? "not polled yet" : state_word_at(s));
		total += k;
	}
	return total;
}

/* Marked online devices that lack what bulk action i needs. */
static size_t
bulk_lacking(const struct vdevices *d, size_t i, size_t *live)
{
	size_t lack = 0;

	*live = 0;
	for (size_t m = 0; m < d->nmarks; m++) {
		const struct source_dev *r = marked_row(d, m);
		if (r == NULL || !bulk_live(r))
			continue;
		(*live)++;
		lack += !bulk_fits(r, bulk[i].need);
	}
	return lack;
}

/* Marked devices bulk action i goes to that the filter hides (the question says so). */
static size_t
bulk_hidden(const struct vdevices *d, size_t i)
{
	size_t hidden = 0;

	for (size_t m = 0; d->filter[0] != '\0' && m < d->nmarks; m++) {
		const struct source_dev *r = marked_row(d, m);
		hidden += r != NULL && bulk_live(r) && bulk_fits(r, bulk[i].need) &&
		          !row_matches(r, d->filter);
	}
	return hidden;
}

/* The menu over the table while the operator picks: offered actions, the rest dimmed with why. */
/* 1 when a marked device that would be acted on surely has what need asks (has= agrees). */
static int
bulk_some_have(const struct vdevices *d, enum bulk_need need)
{
	const char *word = need == NEED_OUTPUT ? "output" : need == NEED_COVER ? "cover" :
	                   need == NEED_UPDATE ? "update" : NULL;

	for (size_t m = 0; word != NULL && m < d->nmarks; m++) {
		const struct source_dev *r = marked_row(d, m);
		if (r != NULL && bulk_live(r) && has_matches(r, word))
			return 1;
	}
	return 0;
}

static void
draw_bulk_menu(struct vdevices *d, struct tui *t, int y, int h, int w)
{
	int mw = w < 64 ? w - 2 : 62, my = y + 2, mx = (w - mw) / 2;
	int hint = 0; /* some marked devices lack what others have: say how to mark those */
	char buf[160];

	if (h < (int)NBULK + 4)
		return;
	for (size_t i = 0; i < NBULK && !hint && h >= (int)NBULK + 5; i++) {
		size_t live, lack = bulk_lacking(d, i, &live);
		hint = lack > 0 && bulk_some_have(d, bulk[i].need);
	}
	draw_frame(t, my, mx, (int)NBULK + 2 + hint, mw, "Bulk action");
	if (hint)
		draw_text(my + 1 + (int)NBULK, mx + 1, mw - 2,
		    " mark only those that can: filter has=output/cover/update, a",
		    theme_attr(t->theme, TC_DIM));
	for (size_t i = 0; i < NBULK; i++) {
		size_t live, lack = bulk_lacking(d, i, &live);
		int offered = live > 0 && lack == 0;
		if (offered)
			snprintf(buf, sizeof buf, " %c  %-7s %s %zu device%s", bulk[i].key,
			    bulk[i].word, bulk[i].what, live, live == 1 ? "" : "s");
		else if (live == 0)
			snprintf(
			    buf, sizeof buf, " -  %-7s no marked device is online", bulk[i].word);
		else
			snprintf(buf, sizeof buf, " -  %-7s %zu marked device%s ha%s %s",
			    bulk[i].word, lack, lack == 1 ? "" : "s", lack == 1 ? "s" : "ve",
			    bulk[i].lacks);
		draw_text(my + 1 + (int)i, mx + 1, mw - 2, buf,
		    theme_attr(t->theme, offered ? TC_NORMAL : TC_DIM));
	}
}

static void
bulk_confirm_cb(struct tui *t, void *arg)
{
	struct vdevices *d = arg;
	const char **macs, **actions;
	size_t i, n = 0;
	struct source_job *job;
	char title[160];

	for (i = 0; i < NBULK && bulk[i].key != d->bulk_key; i++)
		;
	if (i == NBULK)
		return;
	macs = xcalloc(d->nmarks + 1, sizeof *macs);
	actions = xcalloc(d->nmarks + 1, sizeof *actions);
	for (size_t m = 0; m < d->nmarks; m++) {
		const struct source_dev *r = marked_row(d, m);
		if (r == NULL || !bulk_live(r) || !bulk_fits(r, bulk[i].need))
			continue;
		/* A device whose outputs are all lights gets the light action. */
		actions[n] =
		    bulk[i].light_action != NULL && r->outputs > 0 && r->lights == r->outputs
		        ? bulk[i].light_action
		        : bulk[i].action;
		macs[n++] = d->marks[m];
	}
	job = source_actions(t->src, actions,
	    bulk[i].need == NEED_OUTPUT || bulk[i].need == NEED_COVER ? 0 : -1, -1, macs, n, NULL,
	    NULL);
	free(macs);
	free(actions);
	snprintf(title, sizeof title, "%s %zu device%s", bulk[i].what, n, n == 1 ? "" : "s");
	tui_show_job(t, title, job);
}

static void
bulk_choice_cb(struct tui *t, const char *text, void *arg)
{
	struct vdevices *d = arg;
	char q[300], why[120], hid[48] = "";
	size_t live, skipped, hidden;

	d->menu = 0;
	if (text == NULL) {
		tui_message(t, 0, "nothing done");
		return;
	}
	for (size_t i = 0; i < NBULK; i++)
		if (bulk[i].key == text[0]) {
			d->bulk_key = bulk[i].key;
			bulk_lacking(d, i, &live);
			skipped = bulk_skipped(d, why, sizeof why);
			hidden = bulk_hidden(d, i);
			if (hidden > 0)
				snprintf(hid, sizeof hid, "%zu hidden by the filter", hidden);
			snprintf(q, sizeof q, "%s %zu device%s%s%s%s%s%s%s?", bulk[i].what, live,
			    live == 1 ? "" : "s", hidden > 0 || skipped > 0 ? " (" : "", hid,
			    hidden > 0 && skipped > 0 ? "; " : "", skipped > 0 ? why : "",
			    skipped > 0 ? " will be skipped" : "",
			    hidden > 0 || skipped > 0 ? ")" : "");
			tui_ask(t, q, "nothing done", bulk_confirm_cb, d);
			return;
		}
}

static void
bulk_start(struct vdevices *d)
{
	char q[120], keys[NBULK + 1];
	size_t nk = 0;

	if (d->nmarks == 0) {
		const struct source_dev *r = current(d);
		if (r == NULL)
			return;
		set_mark(d, r->mac, 1);
	}
	for (size_t i = 0; i < NBULK; i++) {
		size_t live, lack = bulk_lacking(d, i, &live);
		if (live > 0 && lack == 0)
			keys[nk++] = bulk[i].key;
	}
	keys[nk] = '\0';
	if (nk == 0) {
		char why[120];
		bulk_skipped(d, why, sizeof why);
		tui_message(d->v.t, 1, "no marked device can take an action now (%s)", why);
		return;
	}
	snprintf(
	    q, sizeof q, "%zu marked: which action? (%s; another key cancels) ", d->nmarks, keys);
	d->menu = 1;
	tui_choose(d->v.t, q, keys, bulk_choice_cb, d);
}

static int
action(struct view *v, struct tui *t, enum tui_action a)
{
	struct vdevices *d = (struct vdevices *)v;
	const struct source_dev *r;

	if (view_move(v, a)) {
		remember(d);
		return R_DIRTY;
	}
	switch (a) {
	case TA_OPEN:
		if ((r = current(d)) != NULL)
			tui_push(t, vdetail_new(t, r->mac));
		return R_DIRTY;
	case TA_FILTER:
		tui_prompt(t, "/", d->filter, NULL, filter_change_cb, d);
		return R_DIRTY;
	case TA_FILTER_CLEAR:
		if (d->filter[0] != '\0') {
			vdevices_filter(&d->v, "");
			tui_message(t, 0, "filter cleared");
		}
		return R_DIRTY;
	case TA_SORT:
	case TA_SORT_BACK:
		d->sort =
		    (enum dev_column)((d->sort + (a == TA_SORT ? 1 : COL__COUNT - 1)) % COL__COUNT);
		d->reverse = d->sort == COL_POWER || d->sort == COL_ENERGY || d->sort == COL_TEMP;
		rebuild(&d->v);
		tui_message(t, 0, "sorted by %s", columns[d->sort].name);
		return R_DIRTY;
	case TA_SORT_REVERSE:
		d->reverse = !d->reverse;
		rebuild(&d->v);
		return R_DIRTY;
	case TA_MARK:
		if ((r = current(d)) != NULL) {
			set_mark(d, r->mac, !is_marked(d, r->mac));
			cursor_move(&d->v.cur, TA_DOWN);
			remember(d);
		}
		return R_DIRTY;
	case TA_MARK_ALL:
	case TA_MARK_INVERT: {
		size_t n;
		const struct source_dev *rows = source_devices(t->src, &n);
		for (size_t i = 0; i < d->nshown; i++) {
			const char *mac = rows[d->shown[i]].mac;
			set_mark(d, mac, a == TA_MARK_ALL ? 1 : !is_marked(d, mac));
		}
		return R_DIRTY;
	}
	case TA_MARK_CLEAR:
		d->nmarks = 0;
		return R_DIRTY;
	case TA_TOGGLE:
		toggle(d);
		return R_DIRTY;
	case TA_BULK:
		bulk_start(d);
		return R_DIRTY;
	case TA_CONFIG:
		if ((r = current(d)) != NULL)
			tui_push(t, vconfig_new(t, r->mac));
		return R_DIRTY;
	case TA_DRIFT: {
		const char **macs;
		size_t n = vdevices_marked(v, &macs);
		char title[64];
		snprintf(
		    title, sizeof title, n ? "Drift of %zu marked" : "Drift of every device", n);
		tui_push(t, vdrift_new(t, title, n ? macs : NULL, n));
		free(macs);
		return R_DIRTY;
	}
	default:
		return R_UNHANDLED;
	}
}

static void
vfree(struct view *v)
{
	struct vdevices *d = (struct vdevices *)v;

	source_job_free(d->job);
	drift_cache_free(d->drift);
	free(d->shown);
	free(d->marks);
}

size_t
vdevices_marked(struct view *v, const char ***macs)
{
	struct vdevices *d = (struct vdevices *)v;

	*macs = xcalloc(d->nmarks ? d->nmarks : 1, sizeof **macs);
	for (size_t i = 0; i < d->nmarks; i++)
		(*macs)[i] = d->marks[i];
	return d->nmarks;
}

void
vdevices_config_changed(struct view *v)
{
	drift_cache_invalidate(((struct vdevices *)v)->drift);
}

static const struct view_ops vdevices_ops = {
    .kind = TV_KIND_DEVICES,
    .draw = draw,
    .action = action,
    .changed = rebuild,
    .free = vfree,
};

struct view *
vdevices_new(struct tui *t)
{
	struct vdevices *d = view_new(t, sizeof *d, &vdevices_ops);

	d->sort = COL_NAME;
	d->drift = drift_cache_new();
	set_columns(d, conf_get_str(t->app->cfg, OPT_CONSOLE_COLUMNS));
	return view_open(&d->v);
}

void
vdevices_mark_only(struct view *v, const char *const *macs, size_t n)
{
	struct vdevices *d = (struct vdevices *)v;

	d->nmarks = 0;
	for (size_t i = 0; i < n; i++)
		set_mark(d, macs[i], 1);
}
