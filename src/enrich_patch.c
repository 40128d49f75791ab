/* enrich — the patch of a written pipeline (enrich_patch() in
 * include/enrich.h): a pure function, from the stored entity and what the
 * workflow's tags ask for to JSON Patch operations. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "enrich.h"
#include "enrich_int.h"
#include "util.h"

#define CLASSIFICATION ENRICH__CLASSIFICATION

static int
add_op(cJSON *ops, const char *kind, const char *path, cJSON *value)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddStringToObject(o, "op", kind) || !cJSON_AddStringToObject(o, "path", path) ||
	    (value && !cJSON_AddItemToObject(o, "value", value)) || !cJSON_AddItemToArray(ops, o)) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return 0;
}

static int
has_label(const cJSON *labels, const char *fqn)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, labels)
		if (str_eq(enrich__jstr(l, "tagFQN"), fqn))
			return 1;
	return 0;
}

cJSON *
enrich_patch(const cJSON *entity, const struct enrich_want *want, const char *description,
             int override)
{
	const cJSON *want_tags = want ? want->tags : NULL, *want_owner = want ? want->owner : NULL;
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(entity, "tags");
	const cJSON *owners = cJSON_GetObjectItemCaseSensitive(entity, "owners");
	const char *desc = enrich__jstr(entity, "description");
	cJSON *ops = cJSON_CreateArray();
	int i, n = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
	char path[32];

	if (!ops)
		return NULL;
	/* stale GlueTags.* labels, from the last index down; only from a
	 * complete read of the workflow's tags */
	for (i = (want && want->tags_known == ENRICH_KNOWN) ? n - 1 : -1; i >= 0; i--) {
		const char *fqn = enrich__jstr(cJSON_GetArrayItem(tags, i), "tagFQN");

		if (fqn && strncmp(fqn, CLASSIFICATION ".", strlen(CLASSIFICATION) + 1) == 0 &&
		    !has_label(want_tags, fqn)) {
			snprintf(path, sizeof(path), "/tags/%d", i);
			if (add_op(ops, "remove", path, NULL) < 0)
				goto fail;
		}
	}
	if (want_owner) {
		int empty = !cJSON_IsArray(owners) || cJSON_GetArraySize(owners) == 0;
		const cJSON *cur = empty ? NULL : cJSON_GetArrayItem(owners, 0);
		int same = !empty && cJSON_GetArraySize(owners) == 1 &&
		           str_eq(enrich__jstr(cur, "id"), enrich__jstr(want_owner, "id"));

		if (empty || (override && !same)) {
			cJSON *list = cJSON_CreateArray(), *ref = cJSON_Duplicate(want_owner, 1);

			if (!list || !ref || !cJSON_AddItemToArray(list, ref)) {
				cJSON_Delete(list);
				cJSON_Delete(ref);
				goto fail;
			}
			if (add_op(ops, owners ? "replace" : "add", "/owners", list) < 0)
				goto fail;
		}
	}
	if (override && description && *description && !str_eq(desc, description)) {
		cJSON *v = cJSON_CreateString(description);

		if (!v || add_op(ops, desc ? "replace" : "add", "/description", v) < 0) {
			cJSON_Delete(v);
			goto fail;
		}
	}
	if (cJSON_GetArraySize(ops) == 0)
		goto fail;
	return ops;
fail:
	cJSON_Delete(ops);
	return NULL;
}
