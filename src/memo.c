/* memo — see include/memo.h.  Saved as
 * {"memo": 1, "settings": FP, "entries": {key: fp, ...}}, one file per
 * workflow in state_dir (or the file `ingest --state` names), written
 * through state_write(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "memo.h"
#include "sigv4.h"
#include "state.h"
#include "util.h"

#define MEMO_FORMAT 1

struct memo {
	char settings[33];
	struct strmap entries;
};

void
memo_fp(const char *text, char out[33])
{
	char hex[65];

	sigv4_sha256_hex(text, strlen(text), hex);
	memcpy(out, hex, 32);
	out[32] = '\0';
}

struct memo *
memo_new(const char *settings)
{
	struct memo *m = calloc(1, sizeof(*m));

	if (m)
		memo_fp(settings ? settings : "", m->settings);
	return m;
}

struct memo *
memo_parse(const char *text, const char *settings, const char **why)
{
	struct memo *m = memo_new(settings);
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "memo");
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(j, "settings");
	const cJSON *ents = cJSON_GetObjectItemCaseSensitive(j, "entries"), *e;

	*why = NULL;
	if (!m)
		goto out;
	if (!cJSON_IsObject(j) || !cJSON_IsNumber(fmt) || !cJSON_IsString(set) ||
	    !cJSON_IsObject(ents)) {
		*why = "it is not a memo gluemetad wrote";
		goto out;
	}
	if (fmt->valueint != MEMO_FORMAT) {
		*why = "it was written in another format";
		goto out;
	}
	if (strcmp(set->valuestring, m->settings) != 0) {
		*why = "the workflow file changed since";
		goto out;
	}
	cJSON_ArrayForEach(e, ents) {
		if (!e->string || !cJSON_IsString(e) || strlen(e->valuestring) != 32) {
			*why = "an entry is malformed";
			strmap_clear(&m->entries);
			goto out;
		}
		if (strmap_put(&m->entries, e->string, e->valuestring) < 0) {
			m = memo_free(m);
			goto out;
		}
	}
out:
	cJSON_Delete(j);
	return m;
}

char *
memo_dump(const struct memo *m)
{
	cJSON *j = cJSON_CreateObject(), *ents;
	char *text = NULL;
	size_t i;

	if (!j || !cJSON_AddNumberToObject(j, "memo", MEMO_FORMAT) ||
	    !cJSON_AddStringToObject(j, "settings", m->settings) ||
	    !(ents = cJSON_AddObjectToObject(j, "entries")))
		goto out;
	for (i = 0; i < m->entries.cap; i++)
		if (m->entries.v[i].key &&
		    !cJSON_AddStringToObject(ents, m->entries.v[i].key, m->entries.v[i].value))
			goto out;
	text = cJSON_PrintUnformatted(j);
out:
	cJSON_Delete(j);
	return text;
}

char *
memo_settings_read(const char *wf_path)
{
	FILE *fp = fopen(wf_path, "re");
	struct buf b = {0};
	char chunk[4096];
	size_t n;
	int e;

	if (!fp)
		return NULL;
	e = buf_puts(&b, "gluemetad " GLUEMETAD_VERSION "\n");
	while (!e && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		e = buf_append(&b, chunk, n);
	if (ferror(fp))
		e = -EIO;
	fclose(fp);
	if (e) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b);
}

struct memo *
memo_load(const char *dir, const char *name, const char *settings, char *why, size_t n)
{
	char *text = state_read(dir, name);
	const char *reason = NULL;
	struct memo *m;

	if (!text) {
		snprintf(why, n, "%s", errno == ENOENT ? "there is none yet" : strerror(errno));
		return memo_new(settings);
	}
	m = memo_parse(text, settings, &reason);
	free(text);
	snprintf(why, n, "%s", reason ? reason : "");
	return m;
}

struct memo *
memo_open(const char *dir, const char *name, const char *wf_path, char **ret_settings,
          char *why, size_t n)
{
	char *settings = memo_settings_read(wf_path);
	struct memo *m;

	if (!settings)
		return NULL;
	m = memo_load(dir, name, settings, why, n);
	if (!m) {
		free(settings);
		errno = ENOMEM;
		return NULL;
	}
	*ret_settings = settings;
	return m;
}

int
memo_save(const char *dir, const char *name, const struct memo *m)
{
	char *text = memo_dump(m);
	int r = text ? state_write(dir, name, text, strlen(text)) : -ENOMEM;

	free(text);
	return r;
}

size_t
memo_size(const struct memo *m)
{
	return m ? m->entries.n : 0;
}

struct memo *
memo_free(struct memo *m)
{
	if (m) {
		strmap_clear(&m->entries);
		free(m);
	}
	return NULL;
}

int
memo_same(const struct memo *m, const char *key, const char *fp)
{
	const struct strmap_entry *e = m ? strmap_get(&m->entries, key) : NULL;

	return e && e->value && strcmp(e->value, fp) == 0;
}

int
memo_put(struct memo *m, const char *key, const char *fp)
{
	return m ? strmap_put(&m->entries, key, fp) : 0;
}

int
memo_carry(const struct memo *from, struct memo *to, const char *prefix)
{
	size_t i, n = strlen(prefix);

	if (!from || !to)
		return 0;
	for (i = 0; i < from->entries.cap; i++) {
		const struct strmap_entry *e = &from->entries.v[i];

		if (e->key && strncmp(e->key, prefix, n) == 0 && strmap_put(&to->entries, e->key, e->value) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Appends the n bytes of s at *at in out[cap]; 0, or -ENOSPC. */
static int
memo_append(char *out, size_t cap, size_t *at, const char *s, size_t n)
{
	if (n >= cap - *at)
		return -ENOSPC;
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
	return 0;
}

int
memo_key(char kind, const char *id, const char *sub, char *out, size_t n)
{
	size_t at = 0;

	if (!n)
		return -ENOSPC;
	out[0] = '\0';
	id = id ? id : "";
	if (memo_append(out, n, &at, &kind, 1) < 0 || memo_append(out, n, &at, "\x1f", 1) < 0 ||
	    memo_append(out, n, &at, id, strlen(id)) < 0)
		return -ENOSPC;
	if (sub && (memo_append(out, n, &at, "\x1f", 1) < 0 ||
	            memo_append(out, n, &at, sub, strlen(sub)) < 0))
		return -ENOSPC;
	return 0;
}

int
memo_pipeline_value(const char *hash, const char *id, char *out, size_t n)
{
	size_t at = 0;

	if (!hash || !id || strlen(hash) != 32 || !n)
		return -EINVAL;
	if (memo_append(out, n, &at, hash, 32) < 0 || memo_append(out, n, &at, ":", 1) < 0 ||
	    memo_append(out, n, &at, id, strlen(id)) < 0)
		return -EINVAL;
	return 0;
}

const char *
memo_pipeline_parse(const char *value, char ret_hash[33])
{
	if (!value || strnlen(value, 33) < 33 || value[32] != ':')
		return NULL;
	memcpy(ret_hash, value, 32);
	ret_hash[32] = '\0';
	return value + 33;
}
