/* filter — see include/filter.h. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "util.h"
#include "wf.h"

struct filter {
	regex_t *inc;
	size_t n_inc;
	regex_t *exc;
	size_t n_exc;
};

/* Python regex to an ERE anchored at the start. */
static char *
translate(const char *p)
{
	struct buf b = {0};
	int in_class = 0, e = 0;

	e |= buf_puts(&b, "^(");
	for (; *p && !e; p++) {
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
		e |= buf_append(&b, p, 1);
	}
	e |= buf_puts(&b, ")");
	if (e) {
		buf_clear(&b);
		return NULL;
	}
	return buf_steal(&b);
}

static int
compile(regex_t *rx, const char *pattern, char *why, size_t why_len)
{
	char *ere = translate(pattern);
	int r;

	if (!ere)
		return -ENOMEM;
	r = regcomp(rx, ere, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	free(ere);
	if (r != 0) {
		if (why)
			regerror(r, rx, why, why_len);
		return -EINVAL;
	}
	return 0;
}

int
filter_check_pattern(const char *pattern, char *why, size_t why_len)
{
	regex_t rx;
	int r = compile(&rx, pattern, why, why_len);

	if (r == 0)
		regfree(&rx);
	return r;
}

static int
compile_list(const struct wf_strlist *l, regex_t **ret, size_t *n)
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
		if ((r = compile(&(*ret)[i], l->v[i], NULL, 0)) < 0)
			return r;
		(*n)++;
	}
	return 0;
}

int
filter_new(const struct wf_strlist *includes, const struct wf_strlist *excludes,
           struct filter **ret)
{
	struct filter *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	if ((r = compile_list(includes, &f->inc, &f->n_inc)) < 0 ||
	    (r = compile_list(excludes, &f->exc, &f->n_exc)) < 0) {
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
	if (!f)
		return 0;
	if (f->n_inc)
		return !any_match(f->inc, f->n_inc, name);
	return any_match(f->exc, f->n_exc, name);
}
