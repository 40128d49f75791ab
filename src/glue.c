/* glue — see include/glue.h. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "aws.h"
#include "glue.h"
#include "util.h"

/* ==== operations of the run: workflows, their graphs, their runs ==== */



/* ==== operations of enrichment: jobs, tags, connections ==== */



