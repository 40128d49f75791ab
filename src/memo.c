/* memo — see include/memo.h.  Saved as
 * {"memo": 1, "settings": FP, "entries": {key: fp, ...}}, one file per
 * workflow in state_dir (or the file `ingest --state` names), written
 * through state_write(). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memo.h"
#include "sigv4.h"
#include "state.h"
#include "util.h"

#define MEMO_FORMAT 1

/* The entries, grouped by what comes before a key's second \x1f (kind
 * and pipeline id: "s\x1fID"), so that memo_carry() of one pipeline's
 * statuses reads only them, and held compactly: 175,000 entries (5,000
 * workflows x 20 runs) as strings cost 28 MB, grouped with binary
 * fingerprints 8.  A group's subs ("1795811040031", "2026-11-28") are
 * NUL-terminated in one buffer; a key without a sub has NO_SUB. */
#define NO_SUB UINT32_MAX

struct memo_ent {
	unsigned char fp[16];
	uint32_t sub;                   /* offset in the group's subs, or NO_SUB */
};

struct memo_group {
	char *name;
	struct memo_ent *v;
	uint32_t n, cap;
	char *subs;
	size_t subs_len, subs_cap;
};

struct memo {
	char settings[33];
	struct memo_group **slot;       /* open addressing, at most half full */
	size_t cap, n_groups, n;
};

static uint64_t
name_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The group a key belongs to and the key's sub (NULL: none). */
static size_t
key_split(const char *key, const char **ret_sub)
{
	const char *a = strchr(key, '\x1f'), *b = a ? strchr(a + 1, '\x1f') : NULL;

	*ret_sub = b ? b + 1 : NULL;
	return b ? (size_t)(b - key) : strlen(key);
}

static struct memo_group **
group_slot(const struct memo *m, const char *name, size_t len)
{
	size_t i = (size_t)name_hash(name, len) & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1))
		if (!m->slot[i] || (strncmp(m->slot[i]->name, name, len) == 0 &&
		                    m->slot[i]->name[len] == '\0'))
			return &m->slot[i];
}

static struct memo_group *
group_get(const struct memo *m, const char *name, size_t len)
{
	return m->cap ? *group_slot(m, name, len) : NULL;
}

static struct memo_group *
group_add(struct memo *m, const char *name, size_t len)
{
	struct memo_group **at, *g;
	size_t i;

	if (2 * (m->n_groups + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct memo_group **old = m->slot, **slot = calloc(cap, sizeof(*slot));
		size_t old_cap = m->cap;

		if (!slot)
			return NULL;
		m->slot = slot;
		m->cap = cap;
		for (i = 0; i < old_cap; i++)
			if (old[i])
				*group_slot(m, old[i]->name, strlen(old[i]->name)) = old[i];
		free(old);
	}
	at = group_slot(m, name, len);
	if (*at)
		return *at;
	if (!(g = calloc(1, sizeof(*g))) || !(g->name = strndup(name, len))) {
		free(g);
		return NULL;
	}
	m->n_groups++;
	return *at = g;
}

static struct memo_ent *
group_find(const struct memo_group *g, const char *sub)
{
	uint32_t i;

	for (i = 0; g && i < g->n; i++)
		if (sub ? g->v[i].sub != NO_SUB && strcmp(g->subs + g->v[i].sub, sub) == 0
		        : g->v[i].sub == NO_SUB)
			return &g->v[i];
	return NULL;
}

static int
group_put(struct memo *m, struct memo_group *g, const char *sub, const unsigned char fp[16])
{
	struct memo_ent *e = group_find(g, sub);
	size_t len = sub ? strlen(sub) + 1 : 0;

	if (e) {
		memcpy(e->fp, fp, 16);
		return 0;
	}
	if (g->n == g->cap) {
		uint32_t cap = g->cap ? 2 * g->cap : 4;
		struct memo_ent *v = realloc(g->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		g->v = v;
		g->cap = cap;
	}
	if (sub && g->subs_len + len > g->subs_cap) {
		size_t cap = g->subs_cap ? 2 * g->subs_cap : 64;
		char *subs;

		while (cap < g->subs_len + len)
			cap *= 2;
		if (cap >= NO_SUB || !(subs = realloc(g->subs, cap)))
			return -ENOMEM;
		g->subs = subs;
		g->subs_cap = cap;
	}
	e = &g->v[g->n++];
	memcpy(e->fp, fp, 16);
	e->sub = NO_SUB;
	if (sub) {
		memcpy(g->subs + g->subs_len, sub, len);
		e->sub = (uint32_t)g->subs_len;
		g->subs_len += len;
	}
	m->n++;
	return 0;
}

/* A group's room cut to what it holds (a memo read, or carried, is
 * complete: the doubling's slack would be a third of it). */
static void
group_fit(struct memo_group *g)
{
	struct memo_ent *v;
	char *subs;

	if (g->n && g->n < g->cap && (v = realloc(g->v, g->n * sizeof(*v)))) {
		g->v = v;
		g->cap = g->n;
	}
	if (g->subs_len && g->subs_len < g->subs_cap && (subs = realloc(g->subs, g->subs_len))) {
		g->subs = subs;
		g->subs_cap = g->subs_len;
	}
}

/* 32 hex characters into 16 bytes; 0 or -1. */
static int
fp_parse(const char *hex, unsigned char out[16])
{
	int i;

	if (strlen(hex) != 32)
		return -1;
	for (i = 0; i < 32; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		        c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return -1;
		out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return 0;
}

static void
fp_hex(const unsigned char fp[16], char out[33])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		out[2 * i] = digits[fp[i] >> 4];
		out[2 * i + 1] = digits[fp[i] & 15];
	}
	out[32] = '\0';
}

static void
memo_clear(struct memo *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		struct memo_group *g = m->slot[i];

		if (g) {
			free(g->name);
			free(g->v);
			free(g->subs);
			free(g);
		}
	}
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n_groups = m->n = 0;
}

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

/* The memo's text is read and written here, without a cJSON tree: with
 * 5,000 workflows a memo holds some 175,000 entries (17 MB), and a tree of
 * them cost more than twice the text.  What is read is the JSON that
 * memo_dump() writes (and cJSON wrote before): an object of "memo",
 * "settings" and "entries" in that order, whitespace allowed between
 * tokens. */
struct reader {
	const char *p, *end;
	struct buf s;                   /* the last string read, decoded */
	const char *map;                /* a mapped file: pages read are let go */
	size_t dropped;
};

/* The character at p + k, NUL past the end. */
static char
at(const struct reader *r, size_t k)
{
	return (size_t)(r->end - r->p) > k ? r->p[k] : '\0';
}

static void
skip_space(struct reader *r)
{
	while (at(r, 0) == ' ' || at(r, 0) == '\t' || at(r, 0) == '\n' || at(r, 0) == '\r')
		r->p++;
}

/* A mapped memo is read once, front to back: what is behind is given
 * back each MiB, so a 17 MB memo costs no 17 MB of memory. */
static void
let_go(struct reader *r)
{
	size_t upto = (size_t)(r->p - r->map) & ~(size_t)((1 << 20) - 1);

	if (r->map && upto > r->dropped) {
		(void)madvise((void *)(uintptr_t)(r->map + r->dropped), upto - r->dropped,
		              MADV_DONTNEED);
		r->dropped = upto;
	}
}

/* c next (not NUL), after whitespace: taken, 1; else 0. */
static int
accept(struct reader *r, char c)
{
	skip_space(r);
	if (at(r, 0) != c || !c)
		return 0;
	r->p++;
	return 1;
}

static int
hex4(const char *p, unsigned *ret)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*ret = v;
	return 0;
}

/* A JSON string into r->s; 0, or -1 when there is none or it is malformed
 * (or out of memory). */
static int
read_string(struct reader *r)
{
	r->s.len = 0;
	if (buf_append(&r->s, "", 0) < 0 || !accept(r, '"'))
		return -1;
	for (;;) {
		const char *run = r->p;
		char out[4];
		size_t n = 0;
		unsigned cp;

		while (r->p < r->end && *r->p && *r->p != '"' && *r->p != '\\' &&
		       (unsigned char)*r->p >= 0x20)
			r->p++;
		if (buf_append(&r->s, run, (size_t)(r->p - run)) < 0)
			return -1;
		if (at(r, 0) == '"') {
			r->p++;
			return 0;
		}
		if (at(r, 0) != '\\')
			return -1;      /* the end, or a raw control character */
		r->p++;
		switch (at(r, 0)) {
		case '"': case '\\': case '/': out[n++] = *r->p; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			/* keys are ASCII with \x1f between parts: no surrogates */
			if (r->end - r->p < 5 || hex4(r->p + 1, &cp) < 0 || cp == 0 || (cp >= 0xd800 && cp < 0xe000))
				return -1;
			r->p += 4;
			if (cp < 0x80) {
				out[n++] = (char)cp;
			} else if (cp < 0x800) {
				out[n++] = (char)(0xc0 | (cp >> 6));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[n++] = (char)(0xe0 | (cp >> 12));
				out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			return -1;
		}
		r->p++;
		if (buf_append(&r->s, out, n) < 0)
			return -1;
	}
}

/* "KEY": expected next (after a '{' or ','); 0 or -1. */
static int
read_key(struct reader *r, const char *key)
{
	return read_string(r) == 0 && strcmp(r->s.data, key) == 0 && accept(r, ':') ? 0 : -1;
}

/* The reasons a memo reads as empty, checked in this order: the text is
 * not the JSON of a memo (whatever else is wrong), its format, its
 * settings, an entry. */
static struct memo *
parse(struct reader *rp, const char *settings, const char **why)
{
	struct memo *m = memo_new(settings);
	struct reader r = *rp;
	const char *reason = NULL;
	char *key = NULL;
	unsigned char fp[16];
	int first = 1, ok = 0;
	size_t k;

	*why = NULL;
	if (!m)
		goto out;
	if (!accept(&r, '{') || read_key(&r, "memo") < 0)
		goto out;
	skip_space(&r);
	if (!(at(&r, 0) >= '0' && at(&r, 0) <= '9'))
		goto out;
	if (at(&r, 0) != '0' + MEMO_FORMAT || (at(&r, 1) >= '0' && at(&r, 1) <= '9') ||
	    at(&r, 1) == '.')
		reason = "it was written in another format";
	while ((at(&r, 0) >= '0' && at(&r, 0) <= '9') || at(&r, 0) == '.')
		r.p++;
	if (!accept(&r, ',') || read_key(&r, "settings") < 0 || read_string(&r) < 0)
		goto out;
	if (!reason && strcmp(r.s.data, m->settings) != 0)
		reason = "the workflow file changed since";
	if (!accept(&r, ',') || read_key(&r, "entries") < 0 || !accept(&r, '{'))
		goto out;
	while (!accept(&r, '}')) {
		if ((!first && !accept(&r, ',')) || read_string(&r) < 0 || !accept(&r, ':') ||
		    !(key = strdup(r.s.data)) || read_string(&r) < 0)
			goto out;
		if (!reason && fp_parse(r.s.data, fp) < 0)
			reason = "an entry is malformed";
		if (!reason && memo_put(m, key, r.s.data) < 0) {
			m = memo_free(m);
			goto out;
		}
		free(key);
		key = NULL;
		first = 0;
		let_go(&r);
	}
	if (!accept(&r, '}'))
		goto out;
	skip_space(&r);
	ok = r.p == r.end;
	for (k = 0; ok && m->slot && k < m->cap; k++)
		if (m->slot[k])
			group_fit(m->slot[k]);
out:
	if (m && (!ok || reason)) {
		*why = ok ? reason : "it is not a memo gluemetad wrote";
		memo_clear(m);
	}
	free(key);
	buf_clear(&r.s);
	return m;
}

struct memo *
memo_parse(const char *text, const char *settings, const char **why)
{
	struct reader r = { .p = text ? text : "", .s = { .max = STATE_MAX_FILE } };

	r.end = r.p + strlen(r.p);
	return parse(&r, settings, why);
}

/* s inside a JSON string: ", \ and control characters escaped. */
static int
write_escaped(struct buf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (buf_append(b, run, (size_t)(s - run)) < 0 ||
		    (c < 0x20 ? buf_printf(b, "\\u%04x", c) : buf_printf(b, "\\%c", c)) < 0)
			return -1;
		run = s + 1;
	}
	return buf_append(b, run, (size_t)(s - run));
}

/* A JSON string of a, and of \x1f and b when b is not NULL. */
static int
write_string(struct buf *b, const char *a, const char *sub)
{
	return buf_puts(b, "\"") < 0 || write_escaped(b, a) < 0 ||
	       (sub && (buf_puts(b, "\\u001f") < 0 || write_escaped(b, sub) < 0)) ||
	       buf_puts(b, "\"") < 0 ? -1 : 0;
}

#define MEMO_CHUNK ((size_t)64 << 10)

/* The memo's text into b; with out, written there each MEMO_CHUNK and at
 * the end (b then holds nothing), so a large memo is never whole in
 * memory.  0, or a negative errno. */
static int
memo_text(const struct memo *m, struct buf *b, struct state_out *out)
{
	const char *sep = "";
	char hex[33];
	size_t i;
	int r;

	if (buf_printf(b, "{\"memo\":%d,\"settings\":", MEMO_FORMAT) < 0 ||
	    write_string(b, m->settings, NULL) < 0 || buf_puts(b, ",\"entries\":{") < 0)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		const struct memo_group *g = m->slot[i];
		uint32_t k;

		for (k = 0; g && k < g->n; k++) {
			const struct memo_ent *e = &g->v[k];

			fp_hex(e->fp, hex);
			if (buf_puts(b, sep) < 0 ||
			    write_string(b, g->name, e->sub == NO_SUB ? NULL : g->subs + e->sub) < 0 ||
			    buf_printf(b, ":\"%s\"", hex) < 0)
				return -ENOMEM;
			sep = ",";
			if (out && b->len >= MEMO_CHUNK) {
				if ((r = state_out_write(out, b->data, b->len)) < 0)
					return r;
				b->len = 0;
			}
		}
	}
	if (buf_puts(b, "}}") < 0)
		return -ENOMEM;
	if (out && (r = state_out_write(out, b->data, b->len)) < 0)
		return r;
	return 0;
}

char *
memo_dump(const struct memo *m)
{
	struct buf b = { .max = STATE_MAX_FILE };

	if (memo_text(m, &b, NULL) < 0) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
fill_memo(void *arg, struct state_out *o)
{
	struct buf b = {0};
	int r = memo_text(arg, &b, o);

	buf_clear(&b);
	return r;
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
	struct reader r = { .s = { .max = STATE_MAX_FILE } };
	const char *reason = NULL;
	char path[4096];
	struct memo *m;
	struct stat st;
	void *map = NULL;
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		e = errno;
	else if ((size_t)st.st_size > STATE_MAX_FILE)
		e = EFBIG;
	else if (st.st_size > 0 &&
	         (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		e = errno;
	if (fd >= 0)
		close(fd);
	if (e) {
		snprintf(why, n, "%s", e == ENOENT ? "there is none yet" : strerror(e));
		return memo_new(settings);
	}
	r.map = map;
	r.p = map ? map : "";
	r.end = r.p + (map ? (size_t)st.st_size : 0);
	m = parse(&r, settings, &reason);
	if (map)
		munmap(map, (size_t)st.st_size);
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
	/* fill_memo() reads m only */
	return state_write_with(dir, name, fill_memo, (void *)(uintptr_t)m);
}

size_t
memo_size(const struct memo *m)
{
	return m ? m->n : 0;
}

struct memo *
memo_free(struct memo *m)
{
	if (m) {
		memo_clear(m);
		free(m);
	}
	return NULL;
}

int
memo_same(const struct memo *m, const char *key, const char *fp)
{
	const char *sub;
	size_t len = key_split(key, &sub);
	const struct memo_ent *e = m ? group_find(group_get(m, key, len), sub) : NULL;
	unsigned char bin[16];

	return e && fp && fp_parse(fp, bin) == 0 && memcmp(e->fp, bin, 16) == 0;
}

int
memo_put(struct memo *m, const char *key, const char *fp)
{
	const char *sub;
	size_t len;
	struct memo_group *g;
	unsigned char bin[16];

	if (!m)
		return 0;
	if (!fp || fp_parse(fp, bin) < 0)
		return -EINVAL;
	len = key_split(key, &sub);
	return (g = group_add(m, key, len)) ? group_put(m, g, sub, bin) : -ENOMEM;
}

/* Whether the key name[\x1f sub] starts with prefix (n > strlen(name)). */
static int
key_has_prefix(const char *name, const char *sub, const char *prefix, size_t n)
{
	size_t len = strlen(name);

	return strncmp(name, prefix, len) == 0 && sub && prefix[len] == '\x1f' &&
	       strncmp(sub, prefix + len + 1, n - len - 1) == 0;
}

int
memo_carry(const struct memo *from, struct memo *to, const char *prefix)
{
	size_t i, n = strlen(prefix);
	const struct memo_group *one = NULL;
	struct memo_group *g;
	const char *sub;
	uint32_t k;

	if (!from || !to)
		return 0;
	/* "K\x1fID\x1f" names one group: only its entries with a sub */
	if (n > 0 && prefix[n - 1] == '\x1f' && (i = key_split(prefix, &sub)) == n - 1 &&
	    sub && !*sub) {
		if (!(one = group_get(from, prefix, n - 1)))
			return 0;
	}
	for (i = 0; i < from->cap; i++) {
		const struct memo_group *f = one ? one : from->slot[i];
		size_t len = f ? strlen(f->name) : 0;

		if (f && (one || strncmp(f->name, prefix, n < len ? n : len) == 0)) {
			if (!(g = group_add(to, f->name, len)))
				return -ENOMEM;
			for (k = 0; k < f->n; k++) {
				sub = f->v[k].sub == NO_SUB ? NULL : f->subs + f->v[k].sub;
				if (one && !sub)
					continue;
				if (!one && n > len && !key_has_prefix(f->name, sub, prefix, n))
					continue;
				if (group_put(to, g, sub, f->v[k].fp) < 0)
					return -ENOMEM;
			}
			if (one)
				group_fit(g);
		}
		if (one)
			break;
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
