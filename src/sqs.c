/* sqs — see include/sqs.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "aws.h"
#include "sqs.h"
#include "util.h"

static void
status_of(const struct aws_result *res, struct sqs_status *st)
{
	st->ok = res->ok;
	st->cancelled = res->cancelled;
	st->throttled = !res->ok && (res->status == 429 ||
	                             (res->code && aws_error_is_throttling(res->code)));
	if (res->ok)
		return;
	str_sanitize_buf(st->code, sizeof(st->code), res->code ? res->code : "");
	if (res->code && res->status)
		snprintf(st->why, sizeof(st->why), "%s: %s", res->code,
		         res->message ? res->message : "");
	else
		snprintf(st->why, sizeof(st->why), "%s",
		         res->message ? res->message : "no reply");
	str_sanitize_buf(st->why, sizeof(st->why), st->why);
}

static const char *
string_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
md5_matches(const char *body, const char *md5)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!md5)
		return 1;               /* SQS always sends it; a local queue may not */
	if (!EVP_Digest(body, strlen(body), d, &n, EVP_md5(), NULL))
		return 0;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return strcasecmp(hex, md5) == 0;
}

int
sqs_received_decode(const cJSON *reply, struct sqs_received *out)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(reply, "Messages"), *m;
	size_t n = 0;

	if (!cJSON_IsObject(reply) || (msgs && !cJSON_IsNull(msgs) && !cJSON_IsArray(msgs)))
		return -EINVAL;
	if (!cJSON_IsArray(msgs) || !cJSON_GetArraySize(msgs))
		return 0;
	out->msgs = calloc((size_t)cJSON_GetArraySize(msgs), sizeof(*out->msgs));
	if (!out->msgs)
		return -ENOMEM;
	cJSON_ArrayForEach(m, msgs) {
		const char *id = string_of(m, "MessageId"), *rh = string_of(m, "ReceiptHandle"),
		           *body = string_of(m, "Body"), *cnt;
		const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(m, "Attributes");
		struct sqs_message *x;

		if (!id || !rh || !body)
			return -EINVAL;
		if (!md5_matches(body, string_of(m, "MD5OfBody"))) {
			out->bad_md5++;
			continue;
		}
		x = &out->msgs[n];
		if (!(x->id = strdup(id)) || !(x->receipt = strdup(rh)) || !(x->body = strdup(body))) {
			out->n = n + 1;
			return -ENOMEM;
		}
		if ((cnt = string_of(attrs, "ApproximateReceiveCount")))
			x->receive_count = (unsigned)strtoul(cnt, NULL, 10);
		out->n = ++n;
	}
	return 0;
}

void
sqs_received_clear(struct sqs_received *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free(res->msgs[i].id);
		free(res->msgs[i].receipt);
		free(res->msgs[i].body);
	}
	free(res->msgs);
	memset(res, 0, sizeof(*res));
}

void
sqs_received_free(struct sqs_received *res)
{
	if (!res)
		return;
	sqs_received_clear(res);
	free(res);
}

struct receive_call {
	sqs_receive_cb cb;
	void *arg;
};

static void
on_received(const struct aws_result *res, void *arg)
{
	struct receive_call *k = arg;
	struct sqs_received *out = calloc(1, sizeof(*out));

	if (out) {
		status_of(res, &out->st);
		if (res->ok) {
			int r = sqs_received_decode(res->json, out);

			if (r < 0) {
				sqs_received_clear(out);
				snprintf(out->st.code, sizeof(out->st.code), "InvalidResponse");
				snprintf(out->st.why, sizeof(out->st.why), r == -ENOMEM ? "out of memory"
				         : "ReceiveMessage: a reply SQS does not send");
			}
		}
	}
	k->cb(out, k->arg);
	free(k);
}

void
sqs_receive(struct aws_client *c, const char *queue_url, unsigned max, unsigned wait_s,
            sqs_receive_cb cb, void *arg)
{
	struct receive_call *k = calloc(1, sizeof(*k));
	cJSON *in = cJSON_CreateObject(), *names;

	names = cJSON_AddArrayToObject(in, "MessageSystemAttributeNames");
	if (!k || !in || !names ||
	    !cJSON_AddStringToObject(in, "QueueUrl", queue_url) ||
	    !cJSON_AddNumberToObject(in, "MaxNumberOfMessages", max) ||
	    !cJSON_AddNumberToObject(in, "WaitTimeSeconds", wait_s)) {
		free(k);
		cJSON_Delete(in);
		cb(NULL, arg);
		return;
	}
	cJSON_AddItemToArray(names, cJSON_CreateString("ApproximateReceiveCount"));
	cJSON_AddItemToArray(names, cJSON_CreateString("SentTimestamp"));
	k->cb = cb;
	k->arg = arg;
	aws_call(c, "ReceiveMessage", in, on_received, k);
}

struct delete_call {
	struct sqs_delete_entry *e;
	size_t n;
	sqs_delete_cb cb;
	void *arg;
};

static void
on_deleted(const struct aws_result *res, void *arg)
{
	struct delete_call *k = arg;
	struct sqs_status st = {0};
	const cJSON *ok, *failed, *x;

	status_of(res, &st);
	if (res->ok) {
		ok = cJSON_GetObjectItemCaseSensitive(res->json, "Successful");
		failed = cJSON_GetObjectItemCaseSensitive(res->json, "Failed");
		cJSON_ArrayForEach(x, ok) {
			const char *id = string_of(x, "Id");
			long i = id ? strtol(id, NULL, 10) : -1;

			if (i >= 0 && (size_t)i < k->n)
				k->e[i].deleted = 1;
		}
		cJSON_ArrayForEach(x, failed) {
			const char *id = string_of(x, "Id"), *code = string_of(x, "Code"),
			           *msg = string_of(x, "Message");
			long i = id ? strtol(id, NULL, 10) : -1;

			if (i >= 0 && (size_t)i < k->n) {
				k->e[i].deleted = 0;
				snprintf(k->e[i].why, sizeof(k->e[i].why), "%s%s%s", code ? code : "failed",
				         msg ? ": " : "", msg ? msg : "");
				str_sanitize_buf(k->e[i].why, sizeof(k->e[i].why), k->e[i].why);
			}
		}
	}
	k->cb(&st, k->e, k->n, k->arg);
	free(k);
}

void
sqs_delete_batch(struct aws_client *c, const char *queue_url, struct sqs_delete_entry *e,
                 size_t n, sqs_delete_cb cb, void *arg)
{
	struct delete_call *k = calloc(1, sizeof(*k));
	cJSON *in = cJSON_CreateObject(), *entries;
	char id[24];
	size_t i;
	int bad = !k || !in || n == 0 || n > SQS_MAX_BATCH ||
	          !cJSON_AddStringToObject(in, "QueueUrl", queue_url) ||
	          !(entries = cJSON_AddArrayToObject(in, "Entries"));

	for (i = 0; !bad && i < n; i++) {
		cJSON *x = cJSON_CreateObject();

		e[i].deleted = 0;
		e[i].why[0] = '\0';
		snprintf(id, sizeof(id), "%zu", i);
		if (!x || !cJSON_AddStringToObject(x, "Id", id) ||
		    !cJSON_AddStringToObject(x, "ReceiptHandle", e[i].receipt))
			bad = 1;
		if (x)
			cJSON_AddItemToArray(entries, x);
	}
	if (bad) {
		struct sqs_status st = { .ok = 0, .code = "NoMemory", .why = "out of memory" };

		free(k);
		cJSON_Delete(in);
		cb(&st, e, n, arg);
		return;
	}
	k->e = e;
	k->n = n;
	k->cb = cb;
	k->arg = arg;
	aws_call(c, "DeleteMessageBatch", in, on_deleted, k);
}

int
sqs_queue_region(const char *url, char *out, size_t n)
{
	const char *h, *end, *p;
	char host[256];
	size_t len;

	if (strncmp(url, "https://", 8) == 0)
		h = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		h = url + 7;
	else
		return -EINVAL;
	end = h + strcspn(h, "/");
	len = (size_t)(end - h);
	/* a path of two parts: /ACCOUNT/NAME */
	if (!len || len >= sizeof(host) || *end != '/' || !end[1] || !(p = strchr(end + 1, '/')) ||
	    p == end + 1 || !p[1] || strchr(p + 1, '/'))
		return -EINVAL;
	memcpy(host, h, len);
	host[len] = '\0';
	host[strcspn(host, ":")] = '\0';
	if (strncmp(host, "sqs.", 4) == 0 && (p = strstr(host + 4, ".amazonaws.com"))) {
		len = (size_t)(p - (host + 4));
		if (len && len < n && !memchr(host + 4, '.', len)) {
			memcpy(out, host + 4, len);
			out[len] = '\0';
			return aws_region_valid(out) ? 0 : -ENOENT;
		}
	}
	if ((p = strstr(host, ".queue.amazonaws.com")) && p != host) {
		len = (size_t)(p - host);
		if (len < n && !memchr(host, '.', len)) {
			memcpy(out, host, len);
			out[len] = '\0';
			return aws_region_valid(out) ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}
