/* run_list — the Glue side of a run's listing: ListWorkflows pages (read
 * ahead while the service is prepared, then processed), the filter, and
 * BatchGetWorkflows per 25 kept names.  See include/run_int.h for how the
 * run's files share the work. */
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "glue.h"
#include "log.h"
#include "run_int.h"
#include "util.h"

#define GLUE_BATCH 25           /* BatchGetWorkflows Names */

static void
on_batch_workflow(const struct glue_workflow *w, void *arg)
{
	struct run *r = arg;
	struct item *it = w->item;

	if (w->st.state == GLUE_KNOWN && w->workflow) {
		run__item_workflow(it, w->workflow);
	} else if (w->st.state == GLUE_KNOWN) {
		r->st.source.warnings++;
		log_warning(&r->lg, "'%s': the workflow disappeared while it was read, skipping", it->name);
	} else if (w->st.fail != GLUE_FAIL_CANCELLED) {
		r->st.source.errors++;
		run__item_fail(it);
		log_err(&r->lg, "'%s': GetWorkflow failed: %s", it->name, w->st.why);
	}
}

static int
on_batch_fallback(size_t n, const struct glue_status *st, void *arg)
{
	struct run *r = arg;

	if (st && st->fail != GLUE_FAIL_CANCELLED && !run__stopping(r))
		log_warning(&r->lg, "BatchGetWorkflows for %zu workflows failed (%s), reading them one "
		            "by one", n, st->why);
	return !run__stopping(r);
}

static void
on_batch_done(void *arg)
{
	run__settle(arg);
}

static const struct glue_batch_ops batch_ops = {
	.workflow = on_batch_workflow,
	.fallback = on_batch_fallback,
	.done = on_batch_done,
};

static void
submit_batches(struct run *r, int flush)
{
	while (!run__stopping(r) && (r->n_items - r->batched >= GLUE_BATCH ||
	                             (flush && r->n_items > r->batched))) {
		const char *names[GLUE_BATCH];
		void *items[GLUE_BATCH];
		size_t n = r->n_items - r->batched, i;

		if (n > GLUE_BATCH)
			n = GLUE_BATCH;
		for (i = 0; i < n; i++) {
			items[i] = r->items[r->batched + i];
			names[i] = r->items[r->batched + i]->name;
		}
		r->batched += n;
		join_add(&r->join, 1);
		glue_get_workflows(r->glue, names, items, n, &batch_ops, r);
	}
}

static void
listing_failed(struct run *r)
{
	r->listing = LISTING_FAILED;
	r->st.source.errors++;
}

/* One ListWorkflows page: filter, queue for reading, follow the token
 * (unless it was followed already: followed). */
static void
process_page(struct run *r, const struct glue_names *page, int followed)
{
	unsigned pages;
	size_t i;

	if (page->st.state == GLUE_UNKNOWN) {
		listing_failed(r);
		log_err(&r->lg, "ListWorkflows returned a malformed page; the listing is incomplete");
		submit_batches(r, 1);
		return;
	}
	for (i = 0; i < page->n; i++) {
		r->st.workflows_listed++;
		if (filter_excludes(r->filter, page->names[i])) {
			r->st.source.filtered++;
			log_debug(&r->lg, "'%s': filtered out by pipelineFilterPattern", page->names[i]);
			continue;
		}
		if (run__item_add(r, page->names[i]) < 0) {
			run__fatal(r, "out of memory");
			return;
		}
	}
	if (followed) {
		submit_batches(r, 0);
		return;
	}
	switch (page->end) {
	case GLUE_PAGE_MORE:
		run__list_next(r);      /* the listing paces the run: its next page first */
		submit_batches(r, 0);
		return;
	case GLUE_PAGE_REPEATED:
		listing_failed(r);
		log_err(&r->lg, "ListWorkflows returned the same NextToken twice; the listing "
		        "is incomplete");
		break;
	case GLUE_PAGE_CAPPED:
		listing_failed(r);
		log_err(&r->lg, "ListWorkflows has more than %u pages; the listing is incomplete",
		        r->o.max_list_pages);
		break;
	case GLUE_PAGE_LAST:
		r->listing = LISTING_DONE;
		break;
	}
	pages = glue_lister_pages(r->lister);
	if (!r->o.n_only && (pages % 10 == 0 || r->listing == LISTING_DONE))
		log_info(&r->lg, "listed %lu %s in %u %s (%lu filtered out)",
		         r->st.workflows_listed, PLURAL(r->st.workflows_listed, "workflow", "workflows"),
		         pages, PLURAL(pages, "page", "pages"), r->st.source.filtered);
	submit_batches(r, 1);
}

/* Keeps a page read before the main phase; 0 or -ENOMEM. */
static int
keep_early(struct run *r, struct glue_names *page)
{
	struct glue_names **v = realloc(r->early, (r->n_early + 1) * sizeof(*v));

	if (!v)
		return -1;
	r->early = v;
	r->early[r->n_early++] = page;
	return 0;
}

static void
on_names(struct glue_names *page, void *arg)
{
	struct run *r = arg;
	unsigned n = glue_lister_pages(r->lister);

	if (!page || (page->st.state == GLUE_UNKNOWN && page->st.fail != GLUE_FAIL_MALFORMED)) {
		const char *why = page ? page->st.why : "out of memory";

		if (page && page->st.fail == GLUE_FAIL_CANCELLED) {
			r->listing = LISTING_FAILED;
		} else if (n == 1) {
			run__fatal(r, "cannot list Glue workflows (the connection test): %s", why);
		} else {
			listing_failed(r);
			log_err(&r->lg, "ListWorkflows page %u failed: %s; the listing is incomplete", n,
			        why);
			if (r->phase >= PHASE_MAIN)
				submit_batches(r, 1);
		}
		glue_names_free(page);
	} else if (r->phase < PHASE_MAIN) {
		r->early_follow = EARLY_HELD;
		if (keep_early(r, page) < 0) {
			glue_names_free(page);
			run__fatal(r, "out of memory");
		} else if (r->phase == PHASE_SERVICE) {
			run__list_follow_early(r);
		}
	} else {
		process_page(r, page, 0);
		glue_names_free(page);
	}
	run__settle(r);
}

/* A targeted refresh: the names asked for make the whole listing, one
 * page, without asking Glue for its list. */
void
run__list_only(struct run *r)
{
	struct glue_names *page = calloc(1, sizeof(*page));
	size_t i;

	if (page && (page->names = calloc(r->o.n_only, sizeof(char *)))) {
		page->st.state = GLUE_KNOWN;
		page->end = GLUE_PAGE_LAST;
		page->page = 1;
		for (i = 0; i < r->o.n_only; i++)
			if (r->o.only[i] && *r->o.only[i] &&
			    !(page->names[page->n++] = strdup(r->o.only[i]))) {
				glue_names_free(page);
				page = NULL;
				break;
			}
	} else {
		free(page);
		page = NULL;
	}
	join_add(&r->join, 1);
	on_names(page, r);
}

void
run__list_next(struct run *r)
{
	join_add(&r->join, 1);
	glue_lister_next(r->lister, on_names, r);
}

void
run__list_follow_early(struct run *r)
{
	const struct glue_names *last = r->n_early ? r->early[r->n_early - 1] : NULL;

	if (!last || last->st.state != GLUE_KNOWN || last->end != GLUE_PAGE_MORE ||
	    run__stopping(r) || glue_lister_busy(r->lister))
		return;
	r->early_follow = EARLY_FOLLOWED;
	run__list_next(r);
}

void
run__list_main(struct run *r)
{
	struct glue_names **early = r->early;
	size_t n = r->n_early, i;

	r->early = NULL;
	r->n_early = 0;
	for (i = 0; i < n; i++) {
		if (!run__stopping(r))
			process_page(r, early[i], i + 1 < n || r->early_follow == EARLY_FOLLOWED);
		glue_names_free(early[i]);
	}
	free(early);
	/* the page followed last failed while OpenMetadata was being read */
	if (r->early_follow == EARLY_FOLLOWED && !glue_lister_busy(r->lister))
		submit_batches(r, 1);
}

void
run__list_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n_early; i++)
		glue_names_free(r->early[i]);
	free(r->early);
	r->early = NULL;
	r->n_early = 0;
	r->lister = glue_lister_free(r->lister);
}
