/* eventbridge — see include/eventbridge.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eventbridge.h"
#include "util.h"

static const char *
text(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
copy_clean(char *out, size_t n, const char *s)
{
	str_sanitize_buf(out, n, s ? s : "");
}

int
eventbridge_parse(const char *body, struct glue_event *ev, char *why, size_t n)
{
	cJSON *j = cJSON_Parse(body ? body : "");
	const cJSON *detail;
	const char *dt, *src, *name = NULL, *t;
	int64_t when;

	memset(ev, 0, sizeof(*ev));
	if (!cJSON_IsObject(j) || !(dt = text(j, "detail-type"))) {
		snprintf(why, n, "%s", !j ? "not JSON" : !cJSON_IsObject(j) ? "not a JSON object"
		         : "no detail-type: not an EventBridge event");
		cJSON_Delete(j);
		return -EINVAL;
	}
	copy_clean(ev->id, sizeof(ev->id), text(j, "id"));
	copy_clean(ev->detail_type, sizeof(ev->detail_type), dt);
	copy_clean(ev->account, sizeof(ev->account), text(j, "account"));
	copy_clean(ev->region, sizeof(ev->region), text(j, "region"));
	if ((t = text(j, "time")) && (when = time_parse_iso8601(t)) > 0)
		ev->time_s = when;
	src = text(j, "source");
	detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
	if (src && strcmp(src, "aws.glue") == 0 && cJSON_IsObject(detail)) {
		if (strcmp(dt, "Glue Job State Change") == 0 || strcmp(dt, "Glue Job Run Status") == 0) {
			ev->kind = GLUE_EVENT_JOB;
			name = text(detail, "jobName");
		} else if (strcmp(dt, "Glue Crawler State Change") == 0) {
			ev->kind = GLUE_EVENT_CRAWLER;
			name = text(detail, "crawlerName");
		}
		copy_clean(ev->state, sizeof(ev->state), text(detail, "state"));
	}
	if (ev->kind != GLUE_EVENT_OTHER &&
	    (!name || !*name || strlen(name) >= sizeof(ev->name)))
		ev->kind = GLUE_EVENT_OTHER;
	else if (name)
		memcpy(ev->name, name, strlen(name) + 1);
	cJSON_Delete(j);
	return 0;
}
