/* jsonarena — the memory cJSON parses a reply into.  A GetWorkflowRuns reply
 * with the graph (140 KB) parses into some 20,000 small pieces; taken from
 * malloc one by one and given back one by one, they were a third of an
 * unchanged re-run's CPU.  Inside json_arena_parse() cJSON's pieces come
 * from one chunk, in order; json_arena_release() deletes the tree and
 * gives its pieces back at once.  What cJSON allocates outside a parse (a
 * tree built to be sent, a printed text, a copy) comes from malloc as
 * before, and is freed as before.
 *
 * The contract: nothing of a parsed tree is kept past its release (no item
 * detached from it to keep, no pointer into it).  Parses may nest (a reply
 * handled while another is); their releases then come in reverse order.
 * Single-threaded, as cJSON's hooks are.  Under ASan a released piece is
 * poisoned, so a use after the release is still caught. */
#ifndef GLUEMETAD_JSONARENA_H
#define GLUEMETAD_JSONARENA_H

#include <stddef.h>

struct cJSON;

/* cJSON_ParseWithLength(text, len) into the arena; *mark is what to give
 * json_arena_release().  NULL when the text is not JSON (nothing to
 * release then) or out of memory. */
struct cJSON *json_arena_parse(const char *text, size_t len, size_t *mark);
/* cJSON_Delete(tree), and the arena back to mark.  tree may be NULL. */
void json_arena_release(struct cJSON *tree, size_t mark);
/* Gives the arena's memory back to the system when no parse holds it
 * (after a run: an idle daemon keeps nothing of it). */
void json_arena_trim(void);

#endif
