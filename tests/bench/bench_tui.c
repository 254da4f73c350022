/*
 * The console's cost with a large fleet, on a virtual terminal (tests/bench/tui.sh): CPU from
 * a key press to the finished frame, CPU of a frame while idle (the console draws one a second
 * then), while every device changes each second (store re-read and frame), and while a
 * thirtieth of them changes each second (a fleet polled every 30 s: the refresh a console does
 * most), and the bytes a terminal would receive in each case. Each device's stored reply has the
 * shape and size of a Plus 1PM's Shelly.GetStatus (about 800 bytes). The baseline is a minimal
 * ncurses program that draws the same visible table (same text, same size) with one doupdate per
 * frame, in the same run.
 *
 * usage: bench_tui [-n DEVICES] [-k KEYS] [-f FRAMES]
 * prints: bench_tui PHASE cpu_us=X bytes=Y base_cpu_us=X base_bytes=Y   (per key / per frame)
 */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/app.h"
#include "conf/conf.h"
#include "engine/creds.h"
#include "store/store.h"
#include "tui/tui.h"
#include "util/loop.h"
#include "util/xmalloc.h"

#define ROWS 40
#define COLS 160

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static long
file_size(FILE *f)
{
	struct stat st;

	fflush(f);
	return fstat(fileno(f), &st) == 0 ? (long)st.st_size : -1;
}

/* Writes the status of devices [first, first + count) with power p(i, round) and flushes. */
static void
write_statuses(struct store *st, int first, int count, int round)
{
	char *cause = NULL;

	for (int i = first; i < first + count; i++) {
		struct store_status s;
		char mac[13], json[1024];
		double p = 10.0 + (double)((i * 7 + round * 13) % 500);

		snprintf(mac, sizeof mac, "aabb%08x", i);
		snprintf(json, sizeof json,
		    "{\"ble\":{},\"cloud\":{\"connected\":true},"
		    "\"input:0\":{\"id\":0,\"state\":false},\"mqtt\":{\"connected\":false},"
		    "\"switch:0\":{\"id\":0,\"source\":\"init\",\"output\":%s,\"apower\":%.1f,"
		    "\"voltage\":232.9,\"current\":0.4,"
		    "\"aenergy\":{\"total\":%d.0,\"by_minute\":[0,0,0],\"minute_ts\":1779362100},"
		    "\"temperature\":{\"tC\":40,\"tF\":104.0}},"
		    "\"sys\":{\"mac\":\"AABB%08X\",\"restart_required\":false,\"time\":\"13:15\","
		    "\"unixtime\":1779362104,\"last_sync_ts\":1779361211,\"uptime\":%d,"
		    "\"ram_size\":250596,\"ram_free\":127644,\"ram_min_free\":102668,"
		    "\"fs_size\":393216,\"fs_free\":126976,\"cfg_rev\":27,\"kvs_rev\":0,"
		    "\"schedule_rev\":1,\"webhook_rev\":0,\"btrelay_rev\":0,"
		    "\"available_updates\":{},\"reset_reason\":3,\"utc_offset\":7200},"
		    "\"wifi\":{\"sta_ip\":\"10.%d.%d.%d\",\"status\":\"got ip\",\"ssid\":\"fleet\","
		    "\"bssid\":\"20:23:51:59:e7:ac\",\"rssi\":-60},\"ws\":{\"connected\":false}}",
		    (i + round) % 2 ? "true" : "false", p, 1000 * i, (unsigned)i, 5526502 + round,
		    i / 65536, i / 256 % 256, i % 256);
		memset(&s, 0, sizeof s);
		memcpy(s.mac, mac, sizeof s.mac);
		s.ts_ms = loop_wall_ms();
		s.state = "online";
		s.power_w = p;
		s.energy_wh = 1000.0 * i;
		s.temperature_c = 40;
		s.rssi_dbm = -60;
		s.uptime_s = STORE_NULL_INT;
		s.outputs_on = STORE_NULL_INT;
		s.fw_update = 0;
		s.cfg_rev = STORE_NULL_INT;
		s.json = json;
		store_queue_status(st, &s);
	}
	if (store_flush(st, &cause) != 0) {
		fprintf(stderr, "flush: %s\n", cause);
		exit(1);
	}
}

static void
add_devices(struct store *st, int n)
{
	char *cause = NULL;

	for (int i = 0; i < n; i++) {
		struct store_device d;
		char id[32], name[32], host[32];

		memset(&d, 0, sizeof d);
		snprintf(d.mac, sizeof d.mac, "aabb%08x", i);
		snprintf(id, sizeof id, "shellyplus1pm-%08x", i);
		snprintf(name, sizeof name, "device %04d", i);
		snprintf(host, sizeof host, "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		d.id = id;
		d.name = name;
		d.host = host;
		d.model = "SNSW-001P16EU";
		d.gen = 2;
		d.fw = "20241011-114455/1.4.4-g6d2a586";
		d.last_seen_ms = loop_wall_ms();
		if (store_device_upsert(st, &d, &cause) != 0) {
			fprintf(stderr, "upsert: %s\n", cause);
			exit(1);
		}
	}
}

/*
 * frames rounds (from round) of: the statuses of slice devices written (the next slice each
 * round), then the console's re-read and frame, measured; *cpu and *bytes per round.
 */
static void
changes(struct tui *t, struct store *st, FILE *out, int n, int slice, int frames, int round,
    double *cpu, long *bytes)
{
	*cpu = 0;
	*bytes = 0;
	for (int f = 0; f < frames; f++) {
		int first = f * slice % n;
		long b0;
		double c0;

		write_statuses(st, first, first + slice <= n ? slice : n - first, round + f);
		b0 = file_size(out);
		c0 = cpu_us();
		tui_refresh(t);
		*cpu += cpu_us() - c0;
		*bytes += file_size(out) - b0;
	}
	*cpu /= frames;
	*bytes /= frames;
}

/* ---- the baseline: a minimal ncurses program drawing the same visible rows ---- */

static void
base_draw(int first, int sel, int round)
{
	char line[COLS + 1];

	for (int r = 0; r < ROWS - 1; r++) {
		int i = first + r;
		double p = 10.0 + (double)((i * 7 + round * 13) % 500);
		snprintf(line, sizeof line,
		    "  device %04d  Plus 1PM  2 10.%d.%d.%d  online  %-3s %8.1fW %9.1fkWh 40C -60 "
		    "1.4.4",
		    i, i / 65536, i / 256 % 256, i % 256, (i + round) % 2 ? "on" : "off", p,
		    i / 1.0);
		if (i == sel)
			attron(A_REVERSE);
		mvaddstr(r + 1, 0, line);
		clrtoeol();
		attroff(A_REVERSE);
	}
	mvprintw(0, 0, " fleet header %d", round);
	wnoutrefresh(stdscr);
	doupdate();
}

int
main(int argc, char **argv)
{
	int n = 1000, keys = 200, frames = 30, opt, slice;
	struct app app;
	struct tui *t;
	FILE *out, *bout, *bin;
	char *cause = NULL;
	double c0, key_cpu, idle_cpu, churn_cpu, trickle_cpu, bkey_cpu, bidle_cpu, bchurn_cpu;
	long b0, key_b, idle_b, churn_b, trickle_b, bkey_b, bidle_b, bchurn_b;

	while ((opt = getopt(argc, argv, "n:k:f:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'k')
			keys = atoi(optarg);
		else if (opt == 'f')
			frames = atoi(optarg);
	}
	setenv("LC_ALL", "C.UTF-8", 1);
	memset(&app, 0, sizeof app);
	app.cfg = conf_new();
	app.loop = loop_new();
	if (store_open(":memory:", &app.store, &cause) != 0) {
		fprintf(stderr, "store: %s\n", cause);
		return 1;
	}
	add_devices(app.store, n);
	write_statuses(app.store, 0, n, 0);
	out = tmpfile();
	t = tui_new_virtual(&app, ROWS, COLS, out, &cause);
	if (t == NULL) {
		fprintf(stderr, "tui: %s\n", cause);
		return 1;
	}

	/* A key press (cursor down) to the finished frame. */
	b0 = file_size(out);
	c0 = cpu_us();
	for (int k = 0; k < keys; k++)
		tui_feed(t, "j");
	key_cpu = (cpu_us() - c0) / keys;
	key_b = (file_size(out) - b0) / keys;
	/* Idle: a frame with nothing changed. */
	b0 = file_size(out);
	c0 = cpu_us();
	for (int f = 0; f < frames; f++)
		tui_feed(t, "");
	idle_cpu = (cpu_us() - c0) / frames;
	idle_b = (file_size(out) - b0) / frames;
	/* Every device changes: the writes are the poller's; the console's part is re-read + frame.
	 */
	changes(t, app.store, out, n, n, frames, 1, &churn_cpu, &churn_b);
	/* A thirtieth of the devices changes. */
	slice = n / 30 > 0 ? n / 30 : 1;
	changes(t, app.store, out, n, slice, frames, frames + 1, &trickle_cpu, &trickle_b);
	tui_free(t);

	/* The baseline, same size and visible text. */
	bout = tmpfile();
	bin = fopen("/dev/null", "r");
	{
		SCREEN *s = newterm("xterm", bout, bin);
		resizeterm(ROWS, COLS);
		base_draw(0, 0, 0);
		b0 = file_size(bout);
		c0 = cpu_us();
		for (int k = 1; k <= keys; k++)
			base_draw(k > ROWS - 2 ? k - (ROWS - 2) : 0, k, 0);
		bkey_cpu = (cpu_us() - c0) / keys;
		bkey_b = (file_size(bout) - b0) / keys;
		b0 = file_size(bout);
		c0 = cpu_us();
		for (int f = 0; f < frames; f++)
			base_draw(keys - (ROWS - 2), keys, 0);
		bidle_cpu = (cpu_us() - c0) / frames;
		bidle_b = (file_size(bout) - b0) / frames;
		b0 = file_size(bout);
		c0 = cpu_us();
		for (int f = 1; f <= frames; f++)
			base_draw(keys - (ROWS - 2), keys, f);
		bchurn_cpu = (cpu_us() - c0) / frames;
		bchurn_b = (file_size(bout) - b0) / frames;
		endwin();
		delscreen(s);
	}
	printf("bench_tui key cpu_us=%.1f bytes=%ld base_cpu_us=%.1f base_bytes=%ld\n", key_cpu,
	    key_b, bkey_cpu, bkey_b);
	printf("bench_tui idle cpu_us=%.1f bytes=%ld base_cpu_us=%.1f base_bytes=%ld\n", idle_cpu,
	    idle_b, bidle_cpu, bidle_b);
	printf("bench_tui churn cpu_us=%.1f bytes=%ld base_cpu_us=%.1f base_bytes=%ld\n", churn_cpu,
	    churn_b, bchurn_cpu, bchurn_b);
	/* (the baseline redraws the same changing rows as for churn) */
	printf("bench_tui trickle cpu_us=%.1f bytes=%ld base_cpu_us=%.1f base_bytes=%ld\n",
	    trickle_cpu, trickle_b, bchurn_cpu, bchurn_b);
	fclose(bout);
	fclose(bin);
	fclose(out);
	creds_free(app.creds);
	store_free(app.store);
	loop_free(app.loop);
	conf_free(app.cfg);
	return 0;
}
