/* filter — OpenMetadata's filterPattern semantics for pipeline names:
 * with includes, keep only names matching one of them (excludes are then
 * ignored); else drop names matching an exclude.  Matching is Python's
 * re.match(pattern, name, re.IGNORECASE): anchored at the start only and
 * case-insensitive for every script Python folds (É, Σ, Д, Kelvin sign K),
 * character by character, not byte by byte (regcomp and regexec run in
 * C.UTF-8).  Patterns are Python regular expressions; the common escapes
 * (\d \w \s and their negations) and lazy quantifiers are translated to
 * POSIX extended expressions, ranges past ASCII to lists of characters. */
#ifndef GLUEMETAD_FILTER_H
#define GLUEMETAD_FILTER_H

#include <stddef.h>

struct filter;
struct strlist;

/* Returns 0 if the pattern compiles, else -EINVAL with a reason in why. */
int filter_check_pattern(const char *pattern, char *why, size_t why_len);
/* Lists are borrowed for the call only.  -EINVAL on a bad pattern. */
int filter_new(const struct strlist *includes, const struct strlist *excludes,
               struct filter **ret);
struct filter *filter_free(struct filter *f);
/* 1 when the name is filtered out, 0 when kept. */
int filter_excludes(const struct filter *f, const char *name);

#endif
