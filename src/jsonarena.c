/* jsonarena — see include/jsonarena.h.  One chunk, mapped at the first
 * parse; a parse that did not fit takes the rest of its pieces from malloc,
 * and the chunk is mapped twice as large once no parse holds it. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <cjson/cJSON.h>

#include "jsonarena.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_FIRST ((size_t)2 << 20)   /* a 140 KB reply's tree fits */
#define ARENA_MAX ((size_t)32 << 20)

static struct {
	int parsing;                    /* inside cJSON_ParseWithLength() */
	char *base;
	size_t cap, used;
	size_t want;                    /* the size the chunk is mapped at */
	unsigned depth;                 /* parses not yet released */
	int overflowed;                 /* a parse took pieces from malloc */
	int hooked;
} A;

static int
in_arena(const void *p)
{
	return A.base && (const char *)p >= A.base && (const char *)p < A.base + A.cap;
}

static void *
arena_malloc(size_t n)
{
	size_t sz = (n + 15) & ~(size_t)15;
	void *p;

	if (A.parsing && A.base) {
		if (sz >= n && sz <= A.cap - A.used) {
			p = A.base + A.used;
			A.used += sz;
			UNPOISON(p, n);
			return p;
		}
		A.overflowed = 1;
	}
	return malloc(n);
}

static void
arena_free(void *p)
{
	if (!in_arena(p))
		free(p);
}

static void
arena_unmap(void)
{
	UNPOISON(A.base, A.cap);
	munmap(A.base, A.cap);
	A.base = NULL;
	A.cap = A.used = 0;
}

cJSON *
json_arena_parse(const char *text, size_t len, size_t *mark)
{
	cJSON *j;

	if (!A.hooked) {
		cJSON_Hooks hooks = { arena_malloc, arena_free };

		cJSON_InitHooks(&hooks);
		A.hooked = 1;
	}
	if (!A.base && A.depth == 0) {
		size_t cap = A.want ? A.want : ARENA_FIRST;
		void *m = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m != MAP_FAILED) {
			A.base = m;
			A.cap = cap;
			A.used = 0;
			POISON(A.base, A.cap);
		}
	}
	*mark = A.used;
	A.depth++;
	A.parsing = 1;
	j = cJSON_ParseWithLength(text, len);
	A.parsing = 0;
	if (!j)
		json_arena_release(NULL, *mark);
	return j;
}

void
json_arena_release(cJSON *tree, size_t mark)
{
	cJSON_Delete(tree);
	if (A.depth)
		A.depth--;
	if (A.base && mark <= A.used) {
		POISON(A.base + mark, A.used - mark);
		A.used = mark;
	}
	if (A.depth > 0)
		return;
	if (A.overflowed && A.base && A.cap < ARENA_MAX) {
		A.want = A.cap * 2;
		arena_unmap();
	}
	A.overflowed = 0;
}

void
json_arena_trim(void)
{
	if (A.depth == 0 && A.base)
		arena_unmap();
}
