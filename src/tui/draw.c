/*
 * Widgets of the console: text in terminal cells (util/cells, so names in any script line up),
 * frames (ACS lines, which ncurses maps to ASCII where the terminal has none), the
 * function-key bar built from the action table, progress bars and sparklines.
 */
#include <curses.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/view.h"
#include "util/cells.h"
#include "util/xmalloc.h"

/* Text decoded for the terminal (util/cells): its characters and the cells of each. */
struct text {
	wchar_t wc[512];
	signed char cells[512];
	size_t n;
};

/*
 * Decodes s (util/cells: what is not UTF-8, controls, bidi and format characters become '?');
 * a character this locale cannot show (the C locale: anything not ASCII) becomes '?' too.
 */
static void
decode(const char *s, struct text *t)
{
	uint32_t cp[512];
	int wide = MB_CUR_MAX > 1;

	t->n = cells_decode(s, cp, t->cells, 512);
	for (size_t i = 0; i < t->n; i++) {
		t->wc[i] = (wchar_t)cp[i];
		if (cp[i] > 0x7e && !wide) {
			t->wc[i] = L'?';
			t->cells[i] = 1;
		}
	}
}

int
draw_width(const char *s)
{
	struct text t;
	int w = 0;

	decode(s, &t);
	for (size_t i = 0; i < t.n; i++)
		w += t.cells[i];
	return w;
}

/* How many of t's characters from at fit in w cells (never half a wide one); *used gets the
 * cells they take. */
static size_t
fit(const struct text *t, size_t at, int w, int *used)
{
	size_t k = at;

	*used = 0;
	while (k < t->n && *used + t->cells[k] <= w)
		*used += t->cells[k++];
	return k - at;
}

char *
draw_cells(char *out, size_t size, const char *s, int w)
{
	struct text t;
	size_t k, len = 0;
	mbstate_t ps;
	int used;

	out[0] = '\0';
	if (w <= 0 || size == 0)
		return out;
	decode(s, &t);
	k = fit(&t, 0, w, &used);
	memset(&ps, 0, sizeof ps);
	for (size_t i = 0; i < k; i++) {
		char mb[MB_LEN_MAX];
		size_t r = wcrtomb(mb, t.wc[i], &ps);
		if (r == (size_t)-1 || len + r >= size)
			break;
		memcpy(out + len, mb, r);
		len += r;
	}
	for (; used < w && len + 1 < size; used++)
		out[len++] = ' ';
	out[len] = '\0';
	return out;
}

static int
put(int y, int x, int w, const char *s, int attr, int right)
{
	struct text t;
	size_t k;
	int used, pad;

	if (w <= 0)
		return 0;
	decode(s, &t);
	k = fit(&t, 0, w, &used);
	pad = w - used;
	attrset(attr);
	move(y, x);
	if (right)
		for (int i = 0; i < pad; i++)
			addch(' ');
	if (k > 0)
		addnwstr(t.wc, (int)k);
	if (!right)
		for (int i = 0; i < pad; i++)
			addch(' ');
	attrset(A_NORMAL);
	return used;
}

int
draw_wrap(int y, int x, int h, int w, const char *s, int attr)
{
	struct text t;
	size_t at = 0;
	int rows = 0;

	if (w <= 0)
		return 0;
	decode(s, &t);
	while (rows < h && (at < t.n || rows == 0)) {
		int used;
		size_t k = fit(&t, at, w, &used);
		if (k == 0 && at < t.n)
			k = 1; /* a character wider than the row: skipped, never a loop */
		attrset(attr);
		move(y + rows, x);
		addnwstr(t.wc + at, (int)k);
		for (int i = used; i < w; i++)
			addch(' ');
		attrset(A_NORMAL);
		at += k;
		rows++;
	}
	return rows;
}

int
draw_text(int y, int x, int w, const char *s, int attr)
{
	return put(y, x, w, s, attr, 0);
}

int
draw_rtext(int y, int x, int w, const char *s, int attr)
{
	return put(y, x, w, s, attr, 1);
}

void
draw_frame(struct tui *t, int y, int x, int h, int w, const char *title)
{
	int a = theme_attr(t->theme, TC_FRAME);

	if (h < 2 || w < 4)
		return;
	attrset(a);
	mvaddch(y, x, ACS_ULCORNER);
	mvhline(y, x + 1, ACS_HLINE, w - 2);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	mvvline(y + 1, x, ACS_VLINE, h - 2);
	mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
	attrset(A_NORMAL);
	if (title != NULL && title[0] != '\0') {
		char buf[512];
		int tw;
		snprintf(buf, sizeof buf, " %s ", title);
		tw = draw_width(buf);
		draw_text(y, x + 2, tw < w - 4 ? tw : w - 4, buf, theme_attr(t->theme, TC_TITLE));
	}
}

/* The cells the function-key bar takes with labels cut to cut cells. */
static int
fkeys_width(const int *keyw, const int *labelw, int n, int cut)
{
	int x = 0;

	for (int i = 0; i < n; i++)
		x += keyw[i] + 1 + (labelw[i] < cut ? labelw[i] : cut) + 1;
	return x;
}

void
draw_fkeys(struct tui *t, int y, enum tui_view_kind view)
{
	const char *labels[12];
	int keys[12], keyw[12], labelw[12], n = 0, cut = 0, x = 0;

	for (int f = 1; f <= 12; f++)
		for (int a = 1; a < TA__COUNT; a++) {
			const char *label = keymap_action((enum tui_action)a)->label;
			if (label == NULL || (int)keymap_lookup(t->km, view, KEY_F(f)) != a)
				continue;
			keys[n] = f;
			keyw[n] = f < 10 ? 2 : 3;
			labels[n] = label;
			labelw[n] = draw_width(label);
			cut = labelw[n] > cut ? labelw[n] : cut;
			n++;
			break;
		}
	/* Every key stays on a narrow terminal: the labels are cut (F2 Disc) until all fit. */
	while (cut > 1 && fkeys_width(keyw, labelw, n, cut) > t->cols)
		cut--;
	move(y, 0);
	attrset(theme_attr(t->theme, TC_STATUS));
	clrtoeol();
	for (int i = 0; i < n; i++) {
		char key[16];
		int lw = labelw[i] < cut ? labelw[i] : cut;
		if (x + keyw[i] + 1 + lw > t->cols)
			break;
		snprintf(key, sizeof key, "F%d", keys[i]);
		x += draw_text(y, x, keyw[i], key, theme_attr(t->theme, TC_FKEY));
		x += draw_text(y, x + 1, lw, labels[i], theme_attr(t->theme, TC_FKEY_LABEL)) + 1;
		if (x < t->cols)
			x += draw_text(y, x, 1, " ", 0);
	}
	if (x + 12 < t->cols)
		draw_rtext(y, t->cols - 11, 10, ": command", theme_attr(t->theme, TC_DIM));
}

void
draw_progress(struct tui *t, int y, int x, int w, size_t done, size_t total)
{
	char tail[48];
	int tw, bar, fill;

	snprintf(tail, sizeof tail, " %zu/%zu", done, total);
	tw = (int)strlen(tail);
	bar = w - tw - 2;
	if (bar < 4) {
		draw_text(y, x, w, tail, theme_attr(t->theme, TC_GRAPH));
		return;
	}
	fill = total > 0 ? (int)((double)bar * (double)done / (double)total) : 0;
	mvaddch(y, x, '[');
	attrset(theme_attr(t->theme, TC_GRAPH));
	for (int i = 0; i < bar; i++)
		addch(i < fill ? '#' : '.');
	attrset(A_NORMAL);
	addch(']');
	draw_text(y, x + bar + 2, tw, tail, 0);
}

void
draw_sparkline(struct tui *t, int y, int x, int w, const double *v, size_t n)
{
	static const char *const blocks[8] = {
	    "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.-:=+*#";
	double lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i])) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
	attrset(theme_attr(t->theme, TC_GRAPH));
	for (int i = 0; i < w && (size_t)i < n; i++) {
		int level = 0;
		if (isnan(v[i])) {
			mvaddch(y, x + i, ' ');
			continue;
		}
		if (hi > lo)
			level = (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5);
		if (t->utf8)
			mvaddstr(y, x + i, blocks[level]);
		else
			mvaddch(y, x + i, (chtype)ascii[level]);
	}
	attrset(A_NORMAL);
}

void
cursor_fit(struct cursor *c, size_t n, int page)
{
	c->n = n;
	c->page = page > 0 ? page : 1;
	if (n == 0) {
		c->sel = c->top = 0;
		return;
	}
	if (c->sel >= n)
		c->sel = n - 1;
	if (c->sel < c->top)
		c->top = c->sel;
	if (c->sel >= c->top + (size_t)c->page)
		c->top = c->sel - (size_t)c->page + 1;
	if (c->top + (size_t)c->page > n)
		c->top = n > (size_t)c->page ? n - (size_t)c->page : 0;
}

int
cursor_move(struct cursor *c, enum tui_action a)
{
	size_t page = c->page > 1 ? (size_t)c->page - 1 : 1;

	switch (a) {
	case TA_UP:
		c->sel = c->sel > 0 ? c->sel - 1 : 0;
		break;
	case TA_DOWN:
		c->sel++;
		break;
	case TA_PAGE_UP:
		c->sel = c->sel > page ? c->sel - page : 0;
		break;
	case TA_PAGE_DOWN:
		c->sel += page;
		break;
	case TA_HOME:
		c->sel = 0;
		break;
	case TA_END:
		c->sel = c->n > 0 ? c->n - 1 : 0;
		break;
	default:
		return 0;
	}
	cursor_fit(c, c->n, c->page);
	return 1;
}

int
cursor_scroll(struct cursor *c, enum tui_action a)
{
	size_t page = c->page > 1 ? (size_t)c->page - 1 : 1, top = c->top;

	switch (a) {
	case TA_UP:
		top = top > 0 ? top - 1 : 0;
		break;
	case TA_DOWN:
		top++;
		break;
	case TA_PAGE_UP:
		top = top > page ? top - page : 0;
		break;
	case TA_PAGE_DOWN:
		top += page;
		break;
	case TA_HOME:
		top = 0;
		break;
	case TA_END:
		top = c->n;
		break;
	default:
		return 0;
	}
	/* The cursor rides on the first line shown: cursor_fit keeps it there, or the last
	 * page in view. */
	c->top = c->sel = top;
	cursor_fit(c, c->n, c->page);
	return 1;
}

/* A unit a value is shown in from a magnitude on: value / div, prec decimals. */
struct unit_step {
	double from, div;
	int prec;
	const char *unit;
};

/* v in the first of steps its magnitude reaches (the last one's from is 0), "-" unknown. */
static void
fmt_steps(char *buf, size_t size, double v, const struct unit_step *steps)
{
	const struct unit_step *u = steps;

	if (isnan(v)) {
		snprintf(buf, size, "-");
		return;
	}
	while (fabs(v) < u->from)
		u++;
	snprintf(buf, size, "%.*f%s", u->prec, v / u->div, u->unit);
}

void
fmt_power(char *buf, size_t size, double w)
{
	static const struct unit_step steps[] = {{10000, 1000, 2, "kW"}, {0, 1, 1, "W"}};

	fmt_steps(buf, size, w, steps);
}

void
fmt_energy(char *buf, size_t size, double wh)
{
	static const struct unit_step steps[] = {{1e6, 1e6, 1, "MWh"}, {0, 1000, 1, "kWh"}};

	fmt_steps(buf, size, wh, steps);
}

void
fmt_age(char *buf, size_t size, int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, size, "-");
	else if (s < 60)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
}
