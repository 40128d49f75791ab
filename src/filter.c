/* filter — see include/filter.h. */
#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "filter.h"
#include "util.h"

struct filter {
	locale_t loc;               /* C.UTF-8, or (locale_t)0 */
	regex_t *inc;
	size_t n_inc;
	regex_t *exc;
	size_t n_exc;
};

/* The widest range past ASCII a bracket expression may hold: it is written
 * out one character at a time. */
#define MAX_RANGE 0x10000

/* C.UTF-8 for LC_CTYPE, so that regcomp and regexec see characters, not
 * bytes, and REG_ICASE folds É, Σ and Д as it folds E; (locale_t)0 when
 * the system has no such locale, and then matching ignores only ASCII
 * case, as it would without it. */
static locale_t
utf8_locale(void)
{
	return newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Appends the character cp (the k bytes at p) in lower case.  glibc folds
 * case by towupper() alone, so that Kelvin sign K, Ohm sign Ω, ẞ or ϴ
 * would match nothing but themselves; Python's re.IGNORECASE matches them
 * with k, ω, ß and θ.  Lowering every character past ASCII, in patterns
 * and in names alike, first makes the two agree. */
static int
put_folded(struct buf *b, const char *p, size_t k, uint32_t cp, locale_t loc)
{
	char enc[4];

	if (!loc || cp < 0x80 || cp == UTF8_INVALID)
		return buf_append(b, p, k);
	return buf_append(b, enc, utf8_encode((uint32_t)towlower_l((wint_t)cp, loc), enc));
}

/* A range of a bracket expression, lo-hi, written out.  glibc refuses a
 * range with a character past ASCII at an end in C.UTF-8 (REG_ECOLLATE:
 * it has no collation sequence for them), so that part becomes the list
 * of its characters, by code point as Python's ranges are.  The ASCII
 * part stays ranges, cut where letters begin and end. */
static int
put_range(struct buf *b, uint32_t lo, uint32_t hi, locale_t loc, char *why, size_t why_len)
{
	/* where ASCII changes between letters and other characters */
	static const uint32_t ends[] = { '@', 'Z', '`', 'z', 0x7f };
	uint32_t c;
	size_t i;
	int e = 0;

	if (lo > hi) {
		if (why)
			snprintf(why, why_len, "bad character range (U+%04X-U+%04X)", (unsigned)lo,
			         (unsigned)hi);
		return -EINVAL;
	}
	if (hi >= 0x80 && hi - (lo < 0x80 ? 0x80 : lo) >= MAX_RANGE) {
		if (why)
			snprintf(why, why_len, "character range U+%04X-U+%04X is wider than %d "
			         "characters", (unsigned)lo, (unsigned)hi, MAX_RANGE);
		return -EINVAL;
	}
	/* The ASCII part as ranges that do not mix letters with other
	 * characters: REG_ICASE raises the ends of a range, and a-DEL would
	 * become A-DEL, with [\]^_` in it. */
	for (i = 0; lo < 0x80 && lo <= hi && i < sizeof(ends) / sizeof(ends[0]); i++) {
		char ascii[3] = { (char)lo, '-', (char)(hi < ends[i] ? hi : ends[i]) };

		if (lo > ends[i])
			continue;
		e |= buf_append(b, ascii, sizeof(ascii));
		lo = ends[i] + 1;
	}
	for (c = lo; c <= hi && !e; c++) {
		char enc[4];

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		e |= put_folded(b, enc, utf8_encode(c, enc), c, loc);
	}
	return e;
}

/* Python regex to an ERE anchored at the start, into *ret (malloc'd).
 * -ENOMEM, or -EINVAL with a reason in why. */
static int
translate(const char *p, locale_t loc, char **ret, char *why, size_t why_len)
{
	struct buf b = {0};
	int in_class = 0, e = 0;

	e |= buf_puts(&b, "^(");
	for (; *p && !e; p++) {
		size_t k;
		uint32_t cp, hi;

		/* an escaped character past ASCII is that character */
		if (*p == '\\' && (unsigned char)p[1] >= 0x80)
			continue;
		if (*p == '\\' && p[1]) {
			const char *cls = NULL, *neg = NULL;

			switch (p[1]) {
			case 'd': cls = "0-9"; break;
			case 'D': neg = "0-9"; break;
			case 'w': cls = "[:alnum:]_"; break;
			case 'W': neg = "[:alnum:]_"; break;
			case 's': cls = "[:space:]"; break;
			case 'S': neg = "[:space:]"; break;
			}
			if (cls && in_class)
				e |= buf_puts(&b, cls);
			else if (cls)
				e |= buf_printf(&b, "[%s]", cls);
			else if (neg && !in_class)
				e |= buf_printf(&b, "[^%s]", neg);
			else
				e |= buf_append(&b, p, 2);
			p++;
			continue;
		}
		if (!in_class && *p == '[') {
			in_class = 1;
			e |= buf_append(&b, p, 1);
			if (p[1] == '^')
				e |= buf_append(&b, ++p, 1);
			if (p[1] == ']')
				e |= buf_append(&b, ++p, 1);
			continue;
		}
		if (in_class && *p == ']')
			in_class = 0;
		/* lazy quantifiers: only the existence of a match matters here */
		if (!in_class && *p == '?' && b.len && strchr("*+?}", b.data[b.len - 1]))
			continue;
		if (!in_class && *p == '(' && p[1] == '?' && p[2] == ':') {
			e |= buf_puts(&b, "(");
			p += 2;
			continue;
		}
		k = utf8_decode(p, strlen(p), &cp);
		if (loc && in_class && p[k] == '-' && p[k + 1] && !strchr("]\\[", p[k + 1])) {
			size_t k_hi = utf8_decode(p + k + 1, strlen(p + k + 1), &hi);

			if (cp != UTF8_INVALID && hi != UTF8_INVALID) {
				e = put_range(&b, cp, hi, loc, why, why_len);
				p += k + k_hi;
				continue;
			}
		}
		e |= put_folded(&b, p, k, cp, loc);
		p += k - 1;
	}
	if (!e)
		e = buf_puts(&b, ")");
	if (e) {
		buf_clear(&b);
		return e == -EINVAL ? e : -ENOMEM;
	}
	*ret = buf_steal(&b);
	return 0;
}

static int
compile(regex_t *rx, const char *pattern, locale_t loc, char *why, size_t why_len)
{
	locale_t old = loc ? uselocale(loc) : (locale_t)0;
	char *ere = NULL;
	int r;

	r = translate(pattern, loc, &ere, why, why_len);
	if (r == 0) {
		r = regcomp(rx, ere, REG_EXTENDED | REG_ICASE | REG_NOSUB);
		free(ere);
		if (r != 0 && why)
			regerror(r, rx, why, why_len);
		r = r != 0 ? -EINVAL : 0;
	}
	if (loc)
		uselocale(old);
	return r;
}

int
filter_check_pattern(const char *pattern, char *why, size_t why_len)
{
	locale_t loc = utf8_locale();
	regex_t rx;
	int r = compile(&rx, pattern, loc, why, why_len);

	if (r == 0)
		regfree(&rx);
	if (loc)
		freelocale(loc);
	return r;
}

static int
compile_list(const struct strlist *l, locale_t loc, regex_t **ret, size_t *n)
{
	size_t i;
	int r;

	*n = 0;
	if (!l || !l->n)
		return 0;
	*ret = calloc(l->n, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		if ((r = compile(&(*ret)[i], l->v[i], loc, NULL, 0)) < 0)
			return r;
		(*n)++;
	}
	return 0;
}

int
filter_new(const struct strlist *includes, const struct strlist *excludes,
           struct filter **ret)
{
	struct filter *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->loc = utf8_locale();
	if ((r = compile_list(includes, f->loc, &f->inc, &f->n_inc)) < 0 ||
	    (r = compile_list(excludes, f->loc, &f->exc, &f->n_exc)) < 0) {
		filter_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

struct filter *
filter_free(struct filter *f)
{
	size_t i;

	if (!f)
		return NULL;
	for (i = 0; i < f->n_inc; i++)
		regfree(&f->inc[i]);
	for (i = 0; i < f->n_exc; i++)
		regfree(&f->exc[i]);
	free(f->inc);
	free(f->exc);
	if (f->loc)
		freelocale(f->loc);
	free(f);
	return NULL;
}

static int
any_match(const regex_t *rx, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (regexec(&rx[i], name, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

int
filter_excludes(const struct filter *f, const char *name)
{
	struct buf folded = {0};
	const char *s, *subject = name;
	locale_t old = (locale_t)0;
	size_t k, len;
	uint32_t cp;
	int e = 0, r;

	if (!f || !(f->n_inc || f->n_exc))
		return 0;
	if (f->loc) {
		/* the name lowered as the patterns were (without memory, as it is) */
		for (s = name, len = strlen(name); len && !e; s += k, len -= k) {
			k = utf8_decode(s, len, &cp);
			e = put_folded(&folded, s, k, cp, f->loc);
		}
		if (!e && folded.data)
			subject = folded.data;
		old = uselocale(f->loc);
	}
	if (f->n_inc)
		r = !any_match(f->inc, f->n_inc, subject);
	else
		r = any_match(f->exc, f->n_exc, subject);
	if (f->loc)
		uselocale(old);
	buf_clear(&folded);
	return r;
}
