/* sigv4 — AWS Signature Version 4; see include/sigv4.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"
#include "util.h"

static const char hexd[] = "0123456789abcdef";

static void
to_hex(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[in[i] >> 4];
		out[2 * i + 1] = hexd[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data ? data : "", len, md, &n, EVP_sha256(), NULL);
	to_hex(md, 32, out);
}

void
sigv4_amz_date(long long epoch, char out[17])
{
	time_t t = (time_t)epoch;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

static int
uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
	size_t i;
	int e = 0;

	for (i = 0; i < n && !e; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/'))
			e = buf_append(b, &s[i], 1);
		else
			e = buf_printf(b, "%%%c%c", "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]);
	}
	return e;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into a new string (invalid escapes kept). */
static char *
uri_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, j = 0;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}

/* Canonical URI: for normalize_path, remove dot segments and empty
 * segments, then URI-encode each segment of the path as it was sent (so an
 * escape already in it, "%20", is encoded again as "%2520": the "double
 * encoding" AWS asks of services other than S3). */
static int
canonical_uri(struct buf *b, const char *path, int normalize)
{
	const char **segs = NULL;
	size_t *lens = NULL, n = 0, i;
	const char *p = path;
	int trailing, e = 0;

	if (!*path)
		return buf_puts(b, "/");
	if (!normalize)
		return uri_encode(b, path, strlen(path), 1);
	trailing = path[strlen(path) - 1] == '/';
	segs = calloc(strlen(path) + 1, sizeof(*segs));
	lens = calloc(strlen(path) + 1, sizeof(*lens));
	if (!segs || !lens) {
		e = -ENOMEM;
		goto out;
	}
	while (*p) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		if (len == 0 || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (n)
				n--;
			continue;
		}
		segs[n] = s;
		lens[n++] = len;
	}
	e |= buf_puts(b, "/");
	for (i = 0; i < n && !e; i++) {
		e |= uri_encode(b, segs[i], lens[i], 0);
		if (i + 1 < n || trailing)
			e |= buf_puts(b, "/");
	}
out:
	free(segs);
	free(lens);
	return e ? -ENOMEM : 0;
}

struct kv {
	char *k, *v;
};

static int
cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

static int
canonical_query(struct buf *b, const char *q)
{
	struct kv *v = NULL;
	size_t n = 0, i, cap;
	const char *p = q;
	int e = 0;

	if (!q || !*q)
		return 0;
	cap = 1;
	for (i = 0; q[i]; i++)
		cap += q[i] == '&';
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (p && *p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		struct buf k = {0}, val = {0};
		char *dk, *dv;

		if (end == p) {
			p = amp ? amp + 1 : NULL;
			continue;
		}
		dk = uri_decode(p, (size_t)((eq ? eq : end) - p));
		dv = eq ? uri_decode(eq + 1, (size_t)(end - eq - 1)) : strdup("");
		if (!dk || !dv || uri_encode(&k, dk, strlen(dk), 0) < 0 ||
		    uri_encode(&val, dv, strlen(dv), 0) < 0) {
			free(dk);
			free(dv);
			buf_clear(&k);
			buf_clear(&val);
			e = -ENOMEM;
			goto out;
		}
		free(dk);
		free(dv);
		v[n].k = buf_steal(&k);
		v[n++].v = buf_steal(&val);
		p = amp ? amp + 1 : NULL;
	}
	qsort(v, n, sizeof(*v), cmp_kv);
	for (i = 0; i < n && !e; i++)
		e = buf_printf(b, "%s%s=%s", i ? "&" : "", v[i].k, v[i].v);
out:
	for (i = 0; i < n; i++) {
		free(v[i].k);
		free(v[i].v);
	}
	free(v);
	return e;
}

struct hdr {
	char *name;                 /* lower case */
	struct buf value;           /* values joined with ',' */
	size_t order;
};

static int
cmp_hdr(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Trims and collapses runs of spaces (and folded line breaks). */
static int
append_trimmed(struct buf *b, const char *s)
{
	int space = 0, started = 0, e = 0;

	for (; *s && !e; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = started;
			continue;
		}
		if (space)
			e = buf_append(b, " ", 1);
		space = 0;
		started = 1;
		if (!e)
			e = buf_append(b, s, 1);
	}
	return e;
}

static int
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n)
	       ? 0 : -EINVAL;
}

int
sigv4_sign(const struct sigv4_input *in, struct sigv4_result *ret)
{
	struct buf creq = {0}, sts = {0}, auth = {0}, signed_hdrs = {0}, secret = {0};
	struct hdr *h = NULL;
	size_t nh = 0, i, j;
	char payload[65], creq_hash[65], date[9], sig[65];
	unsigned char k[32], k2[32];
	int e = 0, r = -ENOMEM;

	if (!in || !ret || !in->method || !in->path || !in->region || !in->service ||
	    !in->access_key || !in->secret_key || !in->amz_date || strlen(in->amz_date) != 16 ||
	    (in->n_headers && !in->headers) || (in->body_len && !in->body))
		return -EINVAL;
	memcpy(date, in->amz_date, 8);
	date[8] = '\0';

	h = calloc(in->n_headers ? in->n_headers : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (i = 0; i < in->n_headers; i++) {
		const struct sigv4_header *src = &in->headers[i];
		char *lname;

		if (!src->name || !src->value) {
			r = -EINVAL;
			goto out;
		}
		if (!(lname = strdup(src->name)))
			goto out;
		for (j = 0; lname[j]; j++)
			if (lname[j] >= 'A' && lname[j] <= 'Z')
				lname[j] = (char)(lname[j] - 'A' + 'a');
		for (j = 0; j < nh; j++)
			if (strcmp(h[j].name, lname) == 0)
				break;
		if (j == nh) {
			h[nh].name = lname;
			h[nh].order = nh;
			nh++;
		} else {
			free(lname);
			e |= buf_append(&h[j].value, ",", 1);
		}
		e |= append_trimmed(&h[j].value, src->value);
		if (!h[j].value.data)
			e |= buf_append(&h[j].value, "", 0);
	}
	if (e)
		goto out;
	qsort(h, nh, sizeof(*h), cmp_hdr);

	if (in->payload_hash)
		snprintf(payload, sizeof(payload), "%s", in->payload_hash);
	else
		sigv4_sha256_hex(in->body, in->body_len, payload);

	e |= buf_printf(&creq, "%s\n", in->method);
	e |= canonical_uri(&creq, in->path, in->normalize_path);
	e |= buf_puts(&creq, "\n");
	e |= canonical_query(&creq, in->query);
	e |= buf_puts(&creq, "\n");
	for (i = 0; i < nh; i++) {
		e |= buf_printf(&creq, "%s:%s\n", h[i].name, h[i].value.data);
		e |= buf_printf(&signed_hdrs, "%s%s", i ? ";" : "", h[i].name);
	}
	e |= buf_printf(&creq, "\n%s\n%s", signed_hdrs.data ? signed_hdrs.data : "", payload);
	if (e)
		goto out;

	sigv4_sha256_hex(creq.data, creq.len, creq_hash);
	e |= buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", in->amz_date,
	                date, in->region, in->service, creq_hash);
	e |= buf_printf(&secret, "AWS4%s", in->secret_key);
	if (e)
		goto out;
	if (hmac(secret.data, secret.len, date, k) < 0 || hmac(k, 32, in->region, k2) < 0 ||
	    hmac(k2, 32, in->service, k) < 0 || hmac(k, 32, "aws4_request", k2) < 0 ||
	    hmac(k2, 32, sts.data, k) < 0) {
		r = -EINVAL;
		goto out;
	}
	to_hex(k, 32, sig);
	if (buf_printf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	                      "SignedHeaders=%s, Signature=%s", in->access_key, date, in->region,
	               in->service, signed_hdrs.data ? signed_hdrs.data : "", sig) < 0)
		goto out;
	ret->canonical_request = buf_steal(&creq);
	ret->string_to_sign = buf_steal(&sts);
	ret->authorization = buf_steal(&auth);
	ret->signed_headers = buf_steal(&signed_hdrs);
	r = 0;
out:
	explicit_bzero(k, sizeof(k));
	explicit_bzero(k2, sizeof(k2));
	buf_wipe(&secret);
	buf_clear(&creq);
	buf_clear(&sts);
	buf_clear(&auth);
	buf_clear(&signed_hdrs);
	for (i = 0; i < nh; i++) {
		free(h[i].name);
		buf_clear(&h[i].value);
	}
	free(h);
	return r;
}

void
sigv4_result_clear(struct sigv4_result *r)
{
	if (!r)
		return;
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->authorization);
	free(r->signed_headers);
	memset(r, 0, sizeof(*r));
}
