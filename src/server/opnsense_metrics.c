/* The OPNsense sync's /metrics families (server/opnsense_metrics.h). */
#include "server/opnsense_metrics.h"

#include "engine/opnsense_runner.h"
#include "server/metrics.h"

enum opnsense_family {
#define OF_ENUM(id, name, type, help) OF_##id,
	OPNSENSE_FAMILIES(OF_ENUM)
#undef OF_ENUM
	    OF__COUNT
};

static const struct metrics_family_info families[] = {
#define OF_INFO(id, name, type, help) {name, METRICS_##type, help},
    OPNSENSE_FAMILIES(OF_INFO)
#undef OF_INFO
};

static void
family(struct metrics_writer *w, enum opnsense_family f)
{
	metrics_family(w, families[f].name, families[f].type, families[f].help);
}

void
opnsense_metrics_write(const struct opnsense_runner *r, struct metrics_writer *w)
{
	const struct opnsense_runner_stats *st = r != NULL ? opnsense_runner_stats(r) : NULL;
	int synced = st != NULL && st->last_ms != 0;

	family(w, OF_LAST_SYNC);
	if (synced)
		metrics_sample(w, NULL, 0, (double)st->last_ms / 1000.0);
	family(w, OF_LAST_OK);
	if (synced)
		metrics_sample(w, NULL, 0, st->last_ok ? 1 : 0);
	family(w, OF_RECORDS);
	for (int a = 0; synced && a < OPN_ACTION_COUNT; a++) {
		struct metrics_label l[1] = {{"action", opn_action_name((enum opn_action)a)}};

		metrics_sample(w, l, 1, (double)st->counts[a]);
	}
	family(w, OF_SYNCS);
	if (st != NULL) {
		struct metrics_label ok[1] = {{"result", "ok"}}, bad[1] = {{"result", "failed"}};

		metrics_sample(w, ok, 1, (double)st->runs_ok);
		metrics_sample(w, bad, 1, (double)st->runs_failed);
	}
}

void
opnsense_metrics_list(FILE *fp)
{
	for (int f = 0; f < OF__COUNT; f++)
		metrics_list_family(fp, families[f].name, families[f].type, families[f].help);
}
