/* sqs — Amazon SQS operations as typed calls over aws.c's client (JSON
 * 1.0, signing name sqs): ReceiveMessage with long polling and
 * DeleteMessageBatch.  Requests are built and replies decoded here and
 * nowhere else.  A received message whose MD5OfBody does not match its
 * body is left out (not deleted: SQS delivers it again), as the SDKs
 * refuse it. */
#ifndef GLUEMETAD_SQS_H
#define GLUEMETAD_SQS_H

#include <stddef.h>

struct aws_client;

#define SQS_MAX_BATCH 10        /* messages per receive, entries per delete */

struct sqs_message {
	char *id;                       /* MessageId */
	char *receipt;                  /* ReceiptHandle */
	char *body;
	unsigned receive_count;         /* ApproximateReceiveCount, 0 unknown */
};

/* ok 0: code and why say what failed (why sanitized); throttled when SQS
 * or the transport said slow down. */
struct sqs_status {
	int ok;
	int throttled;
	int cancelled;
	char code[96];
	char why[512];
};

struct sqs_received {
	struct sqs_status st;
	struct sqs_message *msgs;       /* n of them */
	size_t n;
	size_t bad_md5;                 /* left out: body and MD5OfBody disagree */
};

/* cb owns res (sqs_received_free()). */
typedef void (*sqs_receive_cb)(struct sqs_received *res, void *arg);
void sqs_receive(struct aws_client *c, const char *queue_url, unsigned max, unsigned wait_s,
                 sqs_receive_cb cb, void *arg);
void sqs_received_free(struct sqs_received *res);
/* Frees res's messages and zeroes it, status included, leaving it empty
 * and reusable; res itself is not freed. */
void sqs_received_clear(struct sqs_received *res);

struct sqs_delete_entry {
	const char *receipt;            /* borrowed for the call */
	int deleted;                    /* set by the reply: in Successful */
	char why[160];                  /* a Failed entry's code and message */
};

/* Deletes up to SQS_MAX_BATCH messages; the entries (borrowed until cb)
 * say which were deleted.  st.ok 0: the call failed, none known deleted. */
typedef void (*sqs_delete_cb)(const struct sqs_status *st, struct sqs_delete_entry *e,
                              size_t n, void *arg);
void sqs_delete_batch(struct aws_client *c, const char *queue_url, struct sqs_delete_entry *e,
                      size_t n, sqs_delete_cb cb, void *arg);

/* Exposed for tests: decodes a ReceiveMessage reply into out (0, or
 * -EINVAL for a malformed reply, -ENOMEM). */
struct cJSON;
int sqs_received_decode(const struct cJSON *reply, struct sqs_received *out);

/* The region of a queue URL's host (sqs.REGION.amazonaws.com[.cn], or
 * the legacy REGION.queue.amazonaws.com) into out; 0, or -ENOENT when the
 * host names none (a local endpoint), -EINVAL when url is not an
 * http(s) URL with a host and a path /ACCOUNT/NAME. */
int sqs_queue_region(const char *url, char *out, size_t n);

#endif
