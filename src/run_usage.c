/* run_usage — a workflow's usage: the daily counts of its task runs, sent
 * to OpenMetadata's usage API for the days whose runs were all read.  See
 * include/run_int.h for how the run's files share the work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "entity.h"
#include "log.h"
#include "memo.h"
#include "om.h"
#include "run_int.h"
#include "util.h"

/* The start (00:00 UTC) of the day of ms. */
static int64_t
day_start(int64_t ms)
{
	return ms - ((ms % DAY_MS) + DAY_MS) % DAY_MS;
}

/* From the start of the day before the one the status window begins in.
 * Every day from the window's first on then has all its task runs, those
 * of a run that began the evening before included, and its count is
 * Glue's whole count for that day. */
int64_t
run__usage_from(int64_t cutoff_ms)
{
	return day_start(cutoff_ms) - DAY_MS;
}

void
run__day_of(int64_t ms, char out[11])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&sec, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		out[0] = '\0';
}

/* Adds the daily counts of more to days ({date, count} each). */
static void
usage_merge(cJSON *days, cJSON *more)
{
	cJSON *m, *d, *c;

	while (days && more && (m = cJSON_DetachItemFromArray(more, 0))) {
		const char *date = run__jstr(m, "date");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "count");

		cJSON_ArrayForEach(d, days)
			if (date && str_eq(run__jstr(d, "date"), date))
				break;
		c = d ? cJSON_GetObjectItemCaseSensitive(d, "count") : NULL;
		if (cJSON_IsNumber(c) && cJSON_IsNumber(n)) {
			cJSON_SetNumberValue(c, c->valuedouble + n->valuedouble);
			cJSON_Delete(m);
		} else if (d || !cJSON_AddItemToArray(days, m)) {
			cJSON_Delete(m);
		}
	}
	cJSON_Delete(more);
}

/* Daily counts of task runs, from the runs read, to the usage API (POST
 * replaces a day's count, so a run repeated changes nothing).  Only days
 * whose runs were all read are sent: none when reading the runs failed;
 * those from the status window's first day on (run__usage_from()); and
 * when the listing was cut (the per-workflow cap, the page limit) only
 * those that begin a day or more after the oldest run read.  A day not
 * sent keeps its stored count. */
void
run__send_usage(struct item *it)
{
	struct run *r = it->run;
	cJSON *days, *d;
	char first[11];
	int64_t from = it->runs_cut && it->n_runs ? it->oldest_ms : r->usage_from_ms;

	if (it->runs_failed) {
		r->st.source.warnings++;
		log_warning(&r->lg, "'%s': pipeline usage not reported this run, the stored counts stay "
		            "as they are: its runs were not all read", it->name);
		cJSON_Delete(it->usage_runs);
		it->usage_runs = NULL;
		return;
	}
	days = entity_usage_counts(it->statuses);
	usage_merge(days, entity_usage_counts(it->usage_runs));
	cJSON_Delete(it->usage_runs);
	it->usage_runs = NULL;
	/* the first whole day: the first to begin a day or more after from */
	run__day_of(day_start(from + 2 * DAY_MS - 1), first);
	while (it->id && days && (d = cJSON_DetachItemFromArray(days, 0))) {
		struct memo_write w, *c;
		const char *date = run__jstr(d, "date");

		if (!date || strcmp(date, first) < 0 || run__unchanged(it, MEMO_USAGE, date, d, &w) ||
		    !(c = run__memo_write_dup(&w))) {
			cJSON_Delete(d);
			continue;
		}
		om_post_usage(run__om_sent(r)->om, it->id, d, run__on_memo_write, c);
	}
	cJSON_Delete(days);
}
