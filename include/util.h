/* util — small domain-free helpers: growable buffers with a hard cap,
 * error messages with context, strict number parsing, percent-encoding. */
#ifndef GLUEMETAD_UTIL_H
#define GLUEMETAD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer, always NUL-terminated when data != NULL. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;                 /* hard cap on len; 0 = BUF_DEFAULT_MAX */
};
#define BUF_DEFAULT_MAX ((size_t)64 << 20)

int buf_append(struct buf *b, const void *p, size_t n);   /* -ENOMEM, -EFBIG */
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the data (owned by the caller) and resets the buffer. */
char *buf_steal(struct buf *b);
void buf_clear(struct buf *b);          /* frees, keeps max */
void buf_wipe(struct buf *b);           /* cleanses then frees */

/* A user-visible error message.  The first error set wins unless reset. */
struct gm_err {
	char msg[4096];
};
void gm_err_set(struct gm_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gm_err_setv(struct gm_err *e, const char *fmt, va_list ap);

/* strtonum-like: decimal only, no trailing garbage, within [min, max].
 * Returns 0 or -EINVAL/-ERANGE with *errstr a reason. */
int num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret, const char **errstr);

/* Percent-encodes everything but RFC 3986 unreserved characters. */
char *str_urlencode(const char *s);
/* fmt, whose one conversion is %s, with raw percent-encoded; malloc'd. */
char *str_urlencode_printf(const char *fmt, const char *raw);
char *str_dup(const char *s);           /* NULL-safe strdup */
int str_eq(const char *a, const char *b);   /* NULL-safe */
/* Cleanses and frees a NUL-terminated secret. */
void str_wipe_free(char *s);

/* The text of the first <tag>...</tag> in body, XML entities decoded;
 * malloc'd, NULL when absent. */
char *str_xml_leaf(const char *body, const char *tag);

/* A map of strings to strings (values may be NULL), by open addressing. */
struct strmap_entry {
	char *key;                  /* NULL: a free slot */
	char *value;
};
struct strmap {
	struct strmap_entry *v;
	size_t cap, n;
};
struct strmap_entry *strmap_get(const struct strmap *m, const char *key);
/* Adds key or replaces its value (copied; may be NULL); 0 or -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, const char *value);
void strmap_clear(struct strmap *m);   /* frees all, leaves an empty map */

/* Wall-clock milliseconds since the epoch, and monotonic milliseconds. */
int64_t time_now_ms(void);
uint64_t time_mono_ms(void);
/* "2026-11-24T19:00:00Z", with optional fractions and a +hh:mm/-hh:mm
 * offset, as epoch seconds; -1 when malformed. */
int64_t time_parse_iso8601(const char *s);
/* Random 64-bit value from the OS (used for jitter and run ids). */
uint64_t rand_u64(void);
/* A random UUID (version 4) as text into out[37]. */
void str_uuid4(char out[37]);

/* The noun for a count in a message: PLURAL(n, "page", "pages"). */
#define PLURAL(n, one, many) ((n) == 1 ? (one) : (many))

#endif
