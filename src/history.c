/* history — see include/history.h.  Owns the history file's format: how a
 * run is written to JSON and read back, and the bounded list of runs per
 * workflow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "history.h"
#include "state.h"
#include "util.h"

#define HISTORY_VERSION 1

struct history_run *
history_push(struct history *h)
{
	struct history_run *r;

	if (h->n == HISTORY_MAX) {
		memmove(h->runs, h->runs + 1, sizeof(*h->runs) * (HISTORY_MAX - 1));
		h->n--;
	} else if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 4;

		if (cap > HISTORY_MAX)
			cap = HISTORY_MAX;
		if (!(r = realloc(h->runs, cap * sizeof(*r))))
			return NULL;
		h->runs = r;
		h->cap = cap;
	}
	r = &h->runs[h->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

void
history_clear(struct history *h)
{
	free(h->runs);
	h->runs = NULL;
	h->n = h->cap = 0;
}

void
history_run_result(const struct history_run *r, char *out, size_t n)
{
	if (r->state_error[0])
		snprintf(out, n, "%s (state not saved: %s)", r->result, r->state_error);
	else
		snprintf(out, n, "%s", r->result);
}

void
history_run_to_json(struct cJSON *arr, const struct history_run *r)
{
	cJSON *o = cJSON_CreateObject();
	char result[sizeof(r->result) + sizeof(r->state_error) + 32];

	if (!o)
		return;
	history_run_result(r, result, sizeof(result));
	cJSON_AddStringToObject(o, "run_id", r->id);
	cJSON_AddStringToObject(o, "trigger", r->trigger);
	cJSON_AddStringToObject(o, "result", result);
	cJSON_AddNumberToObject(o, "started_ms", (double)r->started_ms);
	cJSON_AddNumberToObject(o, "finished_ms", (double)r->finished_ms);
	cJSON_AddNumberToObject(o, "records", (double)r->records);
	cJSON_AddNumberToObject(o, "warnings", (double)r->warnings);
	cJSON_AddNumberToObject(o, "errors", (double)r->errors);
	cJSON_AddNumberToObject(o, "filtered", (double)r->filtered);
	cJSON_AddNumberToObject(o, "pipelines", (double)r->pipelines);
	cJSON_AddNumberToObject(o, "statuses", (double)r->statuses);
	cJSON_AddNumberToObject(o, "deleted", (double)r->deleted);
	if (r->message[0])
		cJSON_AddStringToObject(o, "message", r->message);
	if (r->state_error[0])
		cJSON_AddStringToObject(o, "state_error", r->state_error);
	cJSON_AddItemToArray(arr, o);
}

int
history_save(const char *dir, const struct history *const *all, size_t n)
{
	cJSON *root = cJSON_CreateObject(), *wfs;
	char *text = NULL;
	size_t i, k;
	int r = -ENOMEM;

	if (!root || !(wfs = cJSON_AddObjectToObject(root, "workflows")))
		goto out;
	cJSON_AddNumberToObject(root, "version", HISTORY_VERSION);
	for (i = 0; i < n; i++) {
		cJSON *arr = cJSON_AddArrayToObject(wfs, all[i]->name);

		for (k = 0; arr && k < all[i]->n; k++)
			history_run_to_json(arr, &all[i]->runs[k]);
	}
	text = cJSON_Print(root);
	if (text)
		r = state_write(dir, HISTORY_FILE, text, strlen(text));
out:
	free(text);
	cJSON_Delete(root);
	return r;
}

static void
copy_str(char *dst, size_t n, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	/* a history written by an older version may hold raw control bytes */
	str_sanitize_buf(dst, n, cJSON_IsString(v) ? v->valuestring : "");
}

/* The result without the " (state not saved: ...)" that
 * history_run_result() adds: the results themselves have no space. */
static void
copy_result(char *dst, size_t n, const cJSON *o)
{
	char all[256];

	copy_str(all, sizeof(all), o, "result");
	all[strcspn(all, " ")] = '\0';
	str_sanitize_buf(dst, n, all);          /* cuts no character */
}

static unsigned long
get_num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (unsigned long)v->valuedouble : 0;
}

int
history_load(const char *dir, struct history *h)
{
	char *text = state_read(dir, HISTORY_FILE);
	cJSON *root, *arr, *o;

	if (!text)
		return errno == ENOENT ? 0 : -errno;
	root = cJSON_Parse(text);
	free(text);
	if (!root)
		return -EBADMSG;
	arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "workflows"),
	                                       h->name);
	cJSON_ArrayForEach(o, arr) {
		struct history_run *x;

		if (!cJSON_IsObject(o))
			continue;
		if (!(x = history_push(h)))
			break;          /* without memory: the runs read so far */
		copy_str(x->id, sizeof(x->id), o, "run_id");
		copy_str(x->trigger, sizeof(x->trigger), o, "trigger");
		copy_result(x->result, sizeof(x->result), o);
		copy_str(x->message, sizeof(x->message), o, "message");
		copy_str(x->state_error, sizeof(x->state_error), o, "state_error");
		x->started_ms = (int64_t)get_num(o, "started_ms");
		x->finished_ms = (int64_t)get_num(o, "finished_ms");
		x->records = get_num(o, "records");
		x->warnings = get_num(o, "warnings");
		x->errors = get_num(o, "errors");
		x->filtered = get_num(o, "filtered");
		x->pipelines = get_num(o, "pipelines");
		x->statuses = get_num(o, "statuses");
		x->deleted = get_num(o, "deleted");
	}
	cJSON_Delete(root);
	return 0;
}
