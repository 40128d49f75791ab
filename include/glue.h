/* glue — AWS Glue operations as typed calls with typed results, over
 * aws.c's client: requests are built and replies decoded here and nowhere
 * else.  A result says whether what was read is KNOWN (complete, possibly
 * empty) or UNKNOWN (the read failed): callers never take anything away
 * from OpenMetadata on an UNKNOWN. */
#ifndef GLUEMETAD_GLUE_H
#define GLUEMETAD_GLUE_H

/* ==== operations of the run: workflows, their graphs, their runs ==== */



/* ==== operations of enrichment: jobs, tags, connections ==== */



#endif
