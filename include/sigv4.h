/* sigv4 — AWS Signature Version 4, a pure function of its inputs (no I/O,
 * no clock, no globals).  The caller adds Host, X-Amz-Date and, with
 * temporary credentials, X-Amz-Security-Token to the header list before
 * signing; the result's authorization is the Authorization header value. */
#ifndef GLUEMETAD_SIGV4_H
#define GLUEMETAD_SIGV4_H

#include <stddef.h>

struct sigv4_header {
	const char *name;           /* any case; canonicalised to lower case */
	const char *value;          /* trimmed, inner runs of spaces collapsed */
};

struct sigv4_input {
	const char *method;         /* "GET", "POST" */
	const char *path;           /* raw path as on the request line, e.g. "/" */
	const char *query;          /* raw query without '?', or NULL */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body;           /* may be NULL when body_len is 0 */
	size_t body_len;
	const char *payload_hash;   /* hex SHA-256 to use instead of hashing body
	                             * (e.g. "UNSIGNED-PAYLOAD"), or NULL */
	const char *region;         /* credential scope region */
	const char *service;        /* signing name: "glue", "sts", "s3" */
	const char *access_key;
	const char *secret_key;
	const char *amz_date;       /* "YYYYMMDDTHHMMSSZ" */
	int normalize_path;         /* 1 for every service but S3 */
};

/* Every member is owned by the result and freed by sigv4_result_clear(). */
struct sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char *authorization;
	char *signed_headers;       /* "content-type;host;x-amz-date;..." */
};

/* Returns 0 and fills *ret, or -EINVAL (bad input) / -ENOMEM; *ret is
 * untouched on failure.  The secret is wiped from every intermediate
 * buffer before returning. */
int sigv4_sign(const struct sigv4_input *in, struct sigv4_result *ret);

/* Frees and zeroes; safe on a zeroed or already cleared result. */
void sigv4_result_clear(struct sigv4_result *r);

/* Lower-case hex SHA-256 of data into out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* "YYYYMMDDTHHMMSSZ" for the given UTC epoch seconds into out[17]. */
void sigv4_amz_date(long long epoch, char out[17]);

#endif
