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

/* The character at s (n > 0 bytes) into *cp; returns the bytes it takes.
 * A sequence that is not UTF-8 (overlong, a surrogate, past U+10FFFF,
 * cut short) gives *cp = UTF8_INVALID and the length of its maximal
 * subpart, as Unicode §3.9 and Python's "replace" count them. */
#define UTF8_INVALID UINT32_MAX
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
/* cp (a scalar value) as UTF-8 into out; returns its length, 1..4. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* Text from outside (Glue, OpenMetadata, S3, a control request) made safe
 * for a log line, a journal field, the history, a control reply and a
 * terminal: invalid UTF-8 becomes U+FFFD, C0 and C1 control characters and
 * DEL are written as escapes ("\x1b", "\x0a", "\x9b"), so a message is one
 * line and cannot drive a terminal.  Backslashes are left alone, so that
 * sanitizing twice changes nothing.  Into dst (n bytes, NUL-terminated
 * when n > 0; a character or an escape is never cut); returns the length
 * of the whole result, as snprintf does. */
size_t str_sanitize_buf(char *dst, size_t n, const char *src);
/* The same, malloc'd; NULL without memory. */
char *str_sanitize(const char *src);
struct cJSON;
/* Every string of a JSON tree, names included, through str_sanitize():
 * cJSON neither checks UTF-8 when parsing nor escapes DEL and C1 when
 * printing.  0 or -ENOMEM (the tree is then partly done). */
int json_sanitize(struct cJSON *j);
/* The strings of a JSON array (other members skipped), at most max of
 * them, into out; returns how many.  The pointers are borrowed from arr. */
size_t json_strings(const struct cJSON *arr, const char **out, size_t max);
/* Adds integer v to object o as key: its digits as they are, where
 * cJSON_AddNumberToObject() would print it through "%1.15g" and read that
 * back to check it (some microseconds a number, a third of the time of a
 * status of 1,000 workflows).  NULL when out of memory. */
struct cJSON *json_add_int(struct cJSON *o, const char *key, long long v);

/* A list of strings (a workflow file's includes, service names); each
 * string and the array are owned by whoever filled the list. */
struct strlist {
	char **v;
	size_t n;
};

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

/* 1 when s matches the POSIX extended regular expression re, which is a
 * string literal: it is compiled at its first use and kept for the life of
 * the process (the YAML scalar types, the form of a region name are asked
 * for every value of every file).  0 when s does not match or re does not
 * compile.  For the loop's thread only. */
int re_match_literal(const char *re, const char *s);

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

/* 0 when tz names an installed IANA zone ("Europe/Berlin", "UTC"):
 * -EINVAL for a name that is empty, absolute or climbs with "..", -ENOENT
 * when /usr/share/zoneinfo has no such file. */
int tz_check(const char *tz);

/* The process's zone switched to tz (NULL: left as it is, re-read) for a
 * computation, and put back by tz_switch_leave(). */
struct tz_switch {
	char *saved;
	int had;
};
void tz_switch_enter(struct tz_switch *s, const char *tz);
void tz_switch_leave(struct tz_switch *s);

/* The noun for a count in a message: PLURAL(n, "page", "pages"). */
#define PLURAL(n, one, many) ((n) == 1 ? (one) : (many))

/* A doubly linked list through members prev and next, head its first
 * element (an lvalue): n goes in first, or comes out. */
#define DLIST_PUSH(head, n) do {                                             \
	(n)->prev = NULL;                                                    \
	(n)->next = (head);                                                  \
	if (head)                                                            \
		(head)->prev = (n);                                          \
	(head) = (n);                                                        \
} while (0)
#define DLIST_UNLINK(head, n) do {                                           \
	if ((n)->prev)                                                       \
		(n)->prev->next = (n)->next;                                 \
	else                                                                 \
		(head) = (n)->next;                                          \
	if ((n)->next)                                                       \
		(n)->next->prev = (n)->prev;                                 \
	(n)->prev = (n)->next = NULL;                                        \
} while (0)

/* A join: what is in flight, counted; the one who brings the count to zero
 * continues.  Hold one while submitting a batch so that a callback that
 * runs at once cannot finish the join early. */
struct join {
	unsigned pending;
};

static inline void
join_add(struct join *j, unsigned n)
{
	j->pending += n;
}

/* 1 when this was the last in flight. */
static inline int
join_done(struct join *j)
{
	return j->pending && --j->pending == 0;
}

#endif
