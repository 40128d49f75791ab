/* entity — see include/entity.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "entity.h"
#include "util.h"

char *
entity_quote_name(const char *name)
{
	struct buf b = {0};
	size_t n = strlen(name);

	if (n >= 2 && name[0] == '"' && name[n - 1] == '"')
		return strdup(name);
	if (strchr(name, '"')) {
		errno = EINVAL;
		return NULL;
	}
	if (!strchr(name, '.'))
		return strdup(name);
	if (buf_printf(&b, "\"%s\"", name) < 0)
		return NULL;
	return buf_steal(&b);
}

char *
entity_fqn2(const char *a, const char *b)
{
	char *qa = entity_quote_name(a), *qb = entity_quote_name(b);
	struct buf out = {0};
	char *r = NULL;

	if (qa && qb && buf_printf(&out, "%s.%s", qa, qb) == 0)
		r = buf_steal(&out);
	free(qa);
	free(qb);
	return r;
}

char *
entity_utf8_prefix(const char *s, size_t max)
{
	size_t i = 0, chars = 0;
	char *r;

	while (s[i] && chars < max) {
		i++;
		while (((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	r = malloc(i + 1);
	if (!r)
		return NULL;
	memcpy(r, s, i);
	r[i] = '\0';
	return r;
}

static const char *
get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Epoch seconds (a JSON number, maybe with a fraction or an exponent) to
 * ms; -1 when absent or not a number. */
static int64_t
get_ms(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
	    v->valuedouble > 1e13)
		return -1;
	return (int64_t)llround(v->valuedouble * 1000.0);
}

int64_t
entity_run_started_ms(const cJSON *run)
{
	return get_ms(run, "StartedOn");
}

cJSON *
entity_service_request(const char *service, const cJSON *connection_config)
{
	cJSON *o = cJSON_CreateObject(), *conn;

	if (!o || !cJSON_AddStringToObject(o, "name", service) ||
	    !cJSON_AddStringToObject(o, "serviceType", "GluePipeline"))
		goto fail;
	if (connection_config) {
		conn = cJSON_AddObjectToObject(o, "connection");
		if (!conn || !cJSON_AddItemToObject(conn, "config",
		                                     cJSON_Duplicate(connection_config, 1)))
			goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* Checks a graph and returns its node and edge arrays (either may be an
 * empty array; a graph with no Nodes member is an empty graph). */
static int
graph_parts(const cJSON *graph, const cJSON **nodes, const cJSON **edges, const char *what,
            struct gm_err *err)
{
	const cJSON *n;

	*nodes = *edges = NULL;
	if (!graph)
		return 0;
	if (!cJSON_IsObject(graph)) {
		gm_err_set(err, "%s: Graph is not an object", what);
		return -EINVAL;
	}
	*nodes = cJSON_GetObjectItemCaseSensitive(graph, "Nodes");
	*edges = cJSON_GetObjectItemCaseSensitive(graph, "Edges");
	if ((*nodes && !cJSON_IsArray(*nodes)) || (*edges && !cJSON_IsArray(*edges))) {
		gm_err_set(err, "%s: Graph.Nodes or Graph.Edges is not a list", what);
		return -EINVAL;
	}
	cJSON_ArrayForEach(n, *nodes) {
		if (!cJSON_IsObject(n) || !get_str(n, "Name") || !get_str(n, "UniqueId") ||
		    !get_str(n, "Type") || !*get_str(n, "Name")) {
			gm_err_set(err, "%s: a graph node lacks Name, UniqueId or Type", what);
			return -EINVAL;
		}
	}
	cJSON_ArrayForEach(n, *edges) {
		if (!cJSON_IsObject(n) || !get_str(n, "SourceId") || !get_str(n, "DestinationId")) {
			gm_err_set(err, "%s: a graph edge lacks SourceId or DestinationId", what);
			return -EINVAL;
		}
	}
	return 0;
}

static const cJSON *
node_by_id(const cJSON *nodes, const char *id)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes)
		if (strcmp(get_str(n, "UniqueId"), id) == 0)
			return n;
	return NULL;
}

static int
add_downstream(cJSON *task, const cJSON *node, const cJSON *nodes, const cJSON *edges)
{
	const char *id = get_str(node, "UniqueId");
	cJSON *down = NULL;
	const cJSON *e;

	cJSON_ArrayForEach(e, edges) {
		const cJSON *dst;
		char *name;
		cJSON *s;

		if (strcmp(get_str(e, "SourceId"), id) != 0)
			continue;
		if (!(dst = node_by_id(nodes, get_str(e, "DestinationId"))))
			continue;
		if (!down && !(down = cJSON_AddArrayToObject(task, "downstreamTasks")))
			return -ENOMEM;
		name = entity_utf8_prefix(get_str(dst, "Name"), ENTITY_TASK_NAME_MAX);
		s = name ? cJSON_CreateString(name) : NULL;
		free(name);
		if (!s || !cJSON_AddItemToArray(down, s)) {
			cJSON_Delete(s);
			return -ENOMEM;
		}
	}
	return 0;
}

int
entity_pipeline_request(const cJSON *wf, const char *service, const char *region, cJSON **ret,
                        struct gm_err *err)
{
	const char *name = get_str(wf, "Name"), *desc = get_str(wf, "Description");
	const cJSON *nodes, *edges, *n;
	cJSON *o = NULL, *tasks;
	char *enc = NULL;
	struct buf url = {0};

	if (!cJSON_IsObject(wf) || !name || !*name) {
		gm_err_set(err, "a workflow without a Name");
		return -EINVAL;
	}
	if (strstr(name, "::") || strlen(name) > 1024) {
		gm_err_set(err, "workflow '%s': the name cannot be an OpenMetadata entity name", name);
		return -EINVAL;
	}
	if (graph_parts(cJSON_GetObjectItemCaseSensitive(wf, "Graph"), &nodes, &edges, name, err) < 0)
		return -EINVAL;
	if (!(enc = str_urlencode(name)) ||
	    buf_printf(&url, "https://%s.console.aws.amazon.com/glue/home?region=%s"
	                     "#/v2/etl-configuration/workflows/view/%s", region, region, enc) < 0)
		goto oom;
	if (!(o = cJSON_CreateObject()) || !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "displayName", name) ||
	    (desc && *desc && !cJSON_AddStringToObject(o, "description", desc)) ||
	    !cJSON_AddStringToObject(o, "sourceUrl", url.data) ||
	    !cJSON_AddStringToObject(o, "service", service) ||
	    !(tasks = cJSON_AddArrayToObject(o, "tasks")))
		goto oom;
	cJSON_ArrayForEach(n, nodes) {
		cJSON *t = cJSON_CreateObject();
		char *tname = entity_utf8_prefix(get_str(n, "Name"), ENTITY_TASK_NAME_MAX);

		if (!t || !tname || !cJSON_AddItemToArray(tasks, t)) {
			free(tname);
			cJSON_Delete(t);
			goto oom;
		}
		if (!cJSON_AddStringToObject(t, "name", tname) ||
		    !cJSON_AddStringToObject(t, "displayName", get_str(n, "Name")) ||
		    !cJSON_AddStringToObject(t, "taskType", get_str(n, "Type")) ||
		    add_downstream(t, n, nodes, edges) < 0) {
			free(tname);
			goto oom;
		}
		free(tname);
	}
	free(enc);
	buf_clear(&url);
	*ret = o;
	return 0;
oom:
	free(enc);
	buf_clear(&url);
	cJSON_Delete(o);
	gm_err_set(err, "out of memory");
	return -ENOMEM;
}

/* Job run states and crawl states (RUNNING CANCELLING CANCELLED SUCCEEDED
 * FAILED ERROR) share one table. */
static const char *
map_state(const char *s)
{
	static const struct { const char *glue, *om; } map[] = {
		{ "SUCCEEDED", "Successful" },
		{ "FAILED", "Failed" }, { "ERROR", "Failed" }, { "TIMEOUT", "Failed" },
		{ "EXPIRED", "Failed" }, { "STOPPED", "Failed" }, { "CANCELLED", "Failed" },
		{ "STARTING", "Pending" }, { "RUNNING", "Pending" }, { "STOPPING", "Pending" },
		{ "WAITING", "Pending" }, { "CANCELLING", "Pending" },
	};
	size_t i;

	for (i = 0; s && i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(map[i].glue, s) == 0)
			return map[i].om;
	return NULL;
}

/* The run to report for a node: the attempt that started last. */
static const cJSON *
latest(const cJSON *runs)
{
	const cJSON *r, *best = NULL;

	cJSON_ArrayForEach(r, runs)
		if (cJSON_IsObject(r) && (!best || get_ms(r, "StartedOn") > get_ms(best, "StartedOn")))
			best = r;
	return best;
}

static int
add_task_status(cJSON *list, const char *name, const char *state, const cJSON *run, int *all_ok)
{
	const char *status = map_state(state);
	int64_t start = get_ms(run, "StartedOn"), end = get_ms(run, "CompletedOn");
	cJSON *t = cJSON_CreateObject();
	char *tname = entity_utf8_prefix(name, ENTITY_TASK_NAME_MAX);
	int r = -ENOMEM;

	if (!status)
		status = "Failed";      /* a state Glue may add later: not a success */
	if (strcmp(status, "Successful") != 0)
		*all_ok = 0;
	if (!t || !tname || !cJSON_AddStringToObject(t, "name", tname) ||
	    !cJSON_AddStringToObject(t, "executionStatus", status) ||
	    (start >= 0 && !cJSON_AddNumberToObject(t, "startTime", (double)start)) ||
	    (end >= 0 && strcmp(status, "Pending") != 0 &&
	     !cJSON_AddNumberToObject(t, "endTime", (double)end)))
		goto out;
	if (!cJSON_AddItemToArray(list, t))
		goto out;
	t = NULL;
	r = 0;
out:
	cJSON_Delete(t);
	free(tname);
	return r;
}

int
entity_pipeline_status(const cJSON *run, cJSON **ret, struct gm_err *err)
{
	const char *status = get_str(run, "Status"), *id = get_str(run, "WorkflowRunId");
	int64_t start = get_ms(run, "StartedOn"), end = get_ms(run, "CompletedOn");
	const cJSON *nodes, *edges, *n;
	const char *exec;
	cJSON *o = NULL, *tasks;
	int all_ok = 1;

	if (!cJSON_IsObject(run) || !status || start < 0) {
		gm_err_set(err, "run '%s' lacks Status or StartedOn", id ? id : "?");
		return -EINVAL;
	}
	if (graph_parts(cJSON_GetObjectItemCaseSensitive(run, "Graph"), &nodes, &edges,
	                id ? id : "run", err) < 0)
		return -EINVAL;
	if (!(o = cJSON_CreateObject()) || !(tasks = cJSON_CreateArray()))
		goto oom;
	cJSON_ArrayForEach(n, nodes) {
		const char *type = get_str(n, "Type");
		const cJSON *det, *runs, *last;
		const char *state;
		int r;

		if (strcmp(type, "JOB") == 0) {
			det = cJSON_GetObjectItemCaseSensitive(n, "JobDetails");
			runs = cJSON_GetObjectItemCaseSensitive(det, "JobRuns");
			last = cJSON_IsArray(runs) ? latest(runs) : NULL;
			state = last ? get_str(last, "JobRunState") : NULL;
		} else if (strcmp(type, "CRAWLER") == 0) {
			det = cJSON_GetObjectItemCaseSensitive(n, "CrawlerDetails");
			runs = cJSON_GetObjectItemCaseSensitive(det, "Crawls");
			last = cJSON_IsArray(runs) ? latest(runs) : NULL;
			state = last ? get_str(last, "State") : NULL;
		} else {
			continue;
		}
		if (!last)
			continue;       /* did not run in this workflow run */
		if ((r = add_task_status(tasks, get_str(n, "Name"), state, last, &all_ok)) < 0) {
			cJSON_Delete(tasks);
			goto oom;
		}
	}
	if (strcmp(status, "RUNNING") == 0 || strcmp(status, "STOPPING") == 0)
		exec = "Pending";
	else if (strcmp(status, "COMPLETED") == 0 && all_ok)
		exec = "Successful";
	else
		exec = "Failed";
	if (!cJSON_AddNumberToObject(o, "timestamp", (double)start) ||
	    !cJSON_AddStringToObject(o, "executionStatus", exec) ||
	    !cJSON_AddItemToObject(o, "taskStatus", tasks) ||
	    (id && !cJSON_AddStringToObject(o, "executionId", id)) ||
	    (end >= 0 && strcmp(exec, "Pending") != 0 &&
	     !cJSON_AddNumberToObject(o, "endTime", (double)end)))
		goto oom;
	*ret = o;
	return 0;
oom:
	cJSON_Delete(o);
	gm_err_set(err, "out of memory");
	return -ENOMEM;
}

cJSON *
entity_node_names(const cJSON *workflow, const char *type_wanted)
{
	const cJSON *graph = cJSON_GetObjectItemCaseSensitive(workflow, "Graph");
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(graph, "Nodes"), *n, *k;
	cJSON *out = cJSON_CreateArray();

	cJSON_ArrayForEach(n, nodes) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(n, "Type");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "Name");
		int dup = 0;

		if (!out || !cJSON_IsString(type) || strcmp(type->valuestring, type_wanted) != 0 ||
		    !cJSON_IsString(name) || !*name->valuestring)
			continue;
		cJSON_ArrayForEach(k, out)
			if (strcmp(k->valuestring, name->valuestring) == 0)
				dup = 1;
		if (!dup)
			cJSON_AddItemToArray(out, cJSON_CreateString(name->valuestring));
	}
	return out;
}

cJSON *
entity_job_names(const cJSON *workflow)
{
	return entity_node_names(workflow, "JOB");
}

cJSON *
entity_usage_counts(const cJSON *statuses)
{
	struct { char date[11]; long count; } days[64];
	size_t n = 0, i;
	const cJSON *s, *t;
	cJSON *out = cJSON_CreateArray();

	cJSON_ArrayForEach(s, statuses) {
		const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(s, "taskStatus");

		cJSON_ArrayForEach(t, tasks) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(t, "startTime");
			time_t sec;
			struct tm tm;
			char date[11];

			if (!cJSON_IsNumber(st) || st->valuedouble < 0 || st->valuedouble > 4e15)
				continue;
			sec = (time_t)(st->valuedouble / 1000);
			if (!gmtime_r(&sec, &tm) || strftime(date, sizeof(date), "%Y-%m-%d", &tm) != 10)
				continue;
			for (i = 0; i < n && strcmp(days[i].date, date) != 0; i++)
				;
			if (i == n) {
				if (n == sizeof(days) / sizeof(*days))
					continue;       /* beyond 64 days: not reported */
				memcpy(days[n].date, date, sizeof(date));
				days[n++].count = 0;
			}
			days[i].count++;
		}
	}
	for (i = 0; out && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddStringToObject(o, "date", days[i].date) ||
		    !cJSON_AddNumberToObject(o, "count", (double)days[i].count) ||
		    !cJSON_AddItemToArray(out, o))
			cJSON_Delete(o);
	}
	return out;
}
