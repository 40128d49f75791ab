/* util — see include/util.h. */
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util.h"

static size_t
buf_limit(const struct buf *b)
{
	return b->max ? b->max : BUF_DEFAULT_MAX;
}

static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > buf_limit(b) || b->len > buf_limit(b) - extra)
		return -EFBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	p = realloc(b->data, ncap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int r = buf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_clear(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_clear(b);
}

void
gm_err_setv(struct gm_err *e, const char *fmt, va_list ap)
{
	if (!e)
		return;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void
gm_err_set(struct gm_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gm_err_setv(e, fmt, ap);
	va_end(ap);
}

int
num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret, const char **errstr)
{
	char *end;
	long long v;

	if (!s || !*s) {
		*errstr = "empty";
		return -EINVAL;
	}
	if (!(*s == '-' || (*s >= '0' && *s <= '9'))) {
		*errstr = "not a number";
		return -EINVAL;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || end == s) {
		*errstr = "not a number";
		return -EINVAL;
	}
	if (errno == ERANGE || v < min || v > max) {
		*errstr = (errno == ERANGE ? *s == '-' : v < min) ? "too small" : "too large";
		return -ERANGE;
	}
	*ret = v;
	return 0;
}

char *
str_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b = {0};

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			if (buf_append(&b, s, 1) < 0)
				goto fail;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 15];
		if (buf_append(&b, enc, 3) < 0)
			goto fail;
	}
	return buf_steal(&b);
fail:
	buf_clear(&b);
	return NULL;
}

char *
str_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int
str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

void
str_wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int64_t
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
rand_u64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint64_t)time_mono_ms() * 6364136223846793005ULL + 1442695040888963407ULL;
	return v;
}

void
str_uuid4(char out[37])
{
	uint64_t a = rand_u64(), b = rand_u64();

	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	         (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	         (unsigned)((b >> 48) & 0x3fff) | 0x8000,
	         (unsigned long long)(b & 0xffffffffffffULL));
}

int64_t
time_parse_iso8601(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	int64_t t;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    y < 1970 || h < 0 || mi < 0 || sec < 0)
		return -1;
	s += n;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if ((*s == 'Z' || *s == 'z') && !s[1]) {
		;
	} else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	           n == 5 && !s[6] && oh < 24 && om < 60) {
		if (*s == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	return t - oh * 3600 - om * 60;
}

/* The text of the first <tag>...</tag>, XML entities decoded. */
char *
str_xml_leaf(const char *body, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;
	struct buf out = {0};

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!(a = strstr(body, open)) || !(b = strstr(a, close)))
		return NULL;
	for (a += strlen(open); a < b; a++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
			{ "&apos;", '\'' },
		};
		size_t i;
		char c = *a;

		if (*a == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(*ents); i++)
				if (strncmp(a, ents[i].ent, strlen(ents[i].ent)) == 0) {
					c = ents[i].c;
					a += strlen(ents[i].ent) - 1;
					break;
				}
			if (i == sizeof(ents) / sizeof(*ents) && a[1] == '#') {
				char *end;
				long v = strtol(a + 2 + (a[2] == 'x'), &end, a[2] == 'x' ? 16 : 10);

				if (*end == ';' && v > 0 && v < 128) {
					c = (char)v;
					a = end;
				}
			}
		}
		if (buf_append(&out, &c, 1) < 0) {
			buf_wipe(&out);
			return NULL;
		}
	}
	return buf_steal(&out);
}

/* Strmap: open addressing, FNV-1a, at most half full. */

static size_t
strmap_hash(const char *s)
{
	size_t h = (size_t)1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

struct strmap_entry *
strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = strmap_hash(key) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->v[i].key, key) == 0)
			return &m->v[i];
	return NULL;
}

int
strmap_put(struct strmap *m, const char *key, const char *value)
{
	struct strmap_entry *e = strmap_get(m, key);
	char *v = NULL;
	size_t i;

	if (value && !(v = strdup(value)))
		return -ENOMEM;
	if (e) {
		free(e->value);
		e->value = v;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap) {
		struct strmap bigger = { .cap = m->cap ? m->cap * 2 : 64 };

		if (!(bigger.v = calloc(bigger.cap, sizeof(*bigger.v)))) {
			free(v);
			return -ENOMEM;
		}
		for (i = 0; i < m->cap; i++) {
			size_t j;

			if (!m->v[i].key)
				continue;
			for (j = strmap_hash(m->v[i].key) & (bigger.cap - 1); bigger.v[j].key;
			     j = (j + 1) & (bigger.cap - 1))
				;
			bigger.v[j] = m->v[i];
		}
		bigger.n = m->n;
		free(m->v);
		*m = bigger;
	}
	for (i = strmap_hash(key) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
		;
	if (!(m->v[i].key = strdup(key))) {
		free(v);
		return -ENOMEM;
	}
	m->v[i].value = v;
	m->n++;
	return 0;
}

void
strmap_clear(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		free(m->v[i].key);
		free(m->v[i].value);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

char *
str_urlencode_printf(const char *fmt, const char *raw)
{
	char *enc = str_urlencode(raw);
	struct buf b = {0};

	if (!enc || buf_printf(&b, fmt, enc) < 0) {
		free(enc);
		buf_clear(&b);
		return NULL;
	}
	free(enc);
	return buf_steal(&b);
}

size_t
utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t v;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	/* the well-formed sequences of Unicode's table 3-7 */
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		need = 1;
		v = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		need = 2;
		v = u[0] & 0x0f;
		if (u[0] == 0xe0)
			lo = 0xa0;              /* overlong */
		else if (u[0] == 0xed)
			hi = 0x9f;              /* surrogates */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		need = 3;
		v = u[0] & 0x07;
		if (u[0] == 0xf0)
			lo = 0x90;              /* overlong */
		else if (u[0] == 0xf4)
			hi = 0x8f;              /* past U+10FFFF */
	} else {
		*cp = UTF8_INVALID;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || u[i] < lo || u[i] > hi) {
			*cp = UTF8_INVALID;
			return i;
		}
		v = v << 6 | (u[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

size_t
utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* C0 and C1 controls and DEL: what str_sanitize() writes as \xHH. */
static int
cp_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

size_t
str_sanitize_buf(char *dst, size_t n, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(src), i = 0, total = 0, written = 0, k, pl;
	int full = n == 0;
	char esc[4];
	const char *piece;
	uint32_t cp;

	while (i < len) {
		k = utf8_decode(src + i, len - i, &cp);
		piece = src + i;
		pl = k;
		if (cp == UTF8_INVALID) {
			piece = "\xef\xbf\xbd";         /* U+FFFD */
			pl = 3;
		} else if (cp_is_control(cp)) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[cp >> 4];
			esc[3] = hex[cp & 15];
			piece = esc;
			pl = 4;
		}
		/* once a piece does not fit, nothing after it is written */
		if (!full && written + pl < n) {
			memcpy(dst + written, piece, pl);
			written += pl;
		} else {
			full = 1;
		}
		total += pl;
		i += k;
	}
	if (n)
		dst[written] = '\0';
	return total;
}

char *
str_sanitize(const char *src)
{
	size_t len = str_sanitize_buf(NULL, 0, src);
	char *s = malloc(len + 1);

	if (s)
		str_sanitize_buf(s, len + 1, src);
	return s;
}

/* What str_sanitize() would give back unchanged: valid UTF-8 without
 * control characters.  Most text is printable ASCII, which one scan
 * settles without decoding or copying. */
static int
str_is_clean(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i, k;
	uint32_t cp;

	while (*u >= 0x20 && *u < 0x7f)
		u++;
	if (!*u)
		return 1;
	len = strlen((const char *)u);
	for (i = 0; i < len; i += k) {
		k = utf8_decode((const char *)u + i, len - i, &cp);
		if (cp == UTF8_INVALID || cp_is_control(cp))
			return 0;
	}
	return 1;
}

/* Replaces *p (allocated by cJSON) with its sanitized form when it differs. */
static int
json_sanitize_str(char **p)
{
	char *s, *c;
	size_t len;

	if (!*p || str_is_clean(*p))
		return 0;
	if (!(s = str_sanitize(*p)))
		return -ENOMEM;
	if (strcmp(s, *p) == 0) {
		free(s);
		return 0;
	}
	len = strlen(s);
	c = cJSON_malloc(len + 1);
	if (c)
		memcpy(c, s, len + 1);
	free(s);
	if (!c)
		return -ENOMEM;
	cJSON_free(*p);
	*p = c;
	return 0;
}

int
json_sanitize(cJSON *j)
{
	cJSON *c;

	/* a reference shares its strings with another tree: left to that one */
	if (!j || (j->type & cJSON_IsReference))
		return 0;
	if (cJSON_IsString(j) && json_sanitize_str(&j->valuestring) < 0)
		return -ENOMEM;
	for (c = j->child; c; c = c->next) {
		if (!(c->type & cJSON_StringIsConst) && json_sanitize_str(&c->string) < 0)
			return -ENOMEM;
		if (json_sanitize(c) < 0)
			return -ENOMEM;
	}
	return 0;
}

struct cJSON *
json_add_int(cJSON *o, const char *key, long long v)
{
	char digits[24];

	snprintf(digits, sizeof(digits), "%lld", v);
	return cJSON_AddRawToObject(o, key, digits);
}

size_t
json_strings(const cJSON *arr, const char **out, size_t max)
{
	const cJSON *v;
	size_t n = 0;

	cJSON_ArrayForEach(v, arr)
		if (n < max && cJSON_IsString(v))
			out[n++] = v->valuestring;
	return n;
}

/* The literals re_match_literal() has compiled, by address. */
#define RE_CACHE 8
static struct {
	const char *re;
	regex_t rx;
	int ok;
} re_cache[RE_CACHE];

int
re_match_literal(const char *re, const char *s)
{
	regex_t once;
	size_t i;
	int r;

	for (i = 0; i < RE_CACHE && re_cache[i].re; i++)
		if (re_cache[i].re == re)
			return re_cache[i].ok && regexec(&re_cache[i].rx, s, 0, NULL, 0) == 0;
	if (i < RE_CACHE) {
		re_cache[i].re = re;
		re_cache[i].ok = regcomp(&re_cache[i].rx, re, REG_EXTENDED | REG_NOSUB) == 0;
		return re_cache[i].ok && regexec(&re_cache[i].rx, s, 0, NULL, 0) == 0;
	}
	if (regcomp(&once, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	r = regexec(&once, s, 0, NULL, 0) == 0;
	regfree(&once);
	return r;
}

int
tz_check(const char *tz)
{
	char path[512];
	struct stat st;

	if (!tz || !*tz || tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 200)
		return -EINVAL;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	return 0;
}

void
tz_switch_enter(struct tz_switch *s, const char *tz)
{
	const char *cur = getenv("TZ");

	s->had = cur != NULL;
	s->saved = cur ? strdup(cur) : NULL;
	if (tz)
		setenv("TZ", tz, 1);
	tzset();
}

void
tz_switch_leave(struct tz_switch *s)
{
	if (s->had && s->saved)
		setenv("TZ", s->saved, 1);
	else
		unsetenv("TZ");
	free(s->saved);
	tzset();
}
