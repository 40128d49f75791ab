/* What arrives from an SQS queue: a message body as an EventBridge event
 * (eventbridge_parse) and the same bytes as a ReceiveMessage reply
 * (sqs_received_decode).  Checks: 0 or -EINVAL with a reason; what is kept
 * for showing is NUL-terminated and free of control characters; a job or
 * crawler event has a non-empty name; a decoded reply's messages each have
 * an id, a receipt handle and a body. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eventbridge.h"
#include "fuzz.h"
#include "sqs.h"

static int
clean(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap), i;

	if (n == cap)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct glue_event ev;
	struct sqs_received rec = {0};
	char why[128] = "";
	char *text;
	cJSON *j;
	size_t i;
	int r;

	if (size > 1 << 16)
		return 0;
	text = fuzz_cstr(data, size);
	r = eventbridge_parse(text, &ev, why, sizeof(why));
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(r == 0 || why[0]);
	if (r == 0) {
		FUZZ_CHECK(clean(ev.id, sizeof(ev.id)) && clean(ev.detail_type, sizeof(ev.detail_type)));
		FUZZ_CHECK(clean(ev.account, sizeof(ev.account)) && clean(ev.region, sizeof(ev.region)));
		FUZZ_CHECK(clean(ev.state, sizeof(ev.state)));
		FUZZ_CHECK(ev.kind == GLUE_EVENT_OTHER || ev.name[0]);
		FUZZ_CHECK(strnlen(ev.name, sizeof(ev.name)) < sizeof(ev.name));
	}
	if ((j = cJSON_Parse(text))) {
		r = sqs_received_decode(j, &rec);
		FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
		for (i = 0; i < rec.n; i++)
			FUZZ_CHECK(r != 0 || (rec.msgs[i].id && rec.msgs[i].receipt &&
			                      rec.msgs[i].body));
		sqs_received_clear(&rec);
		cJSON_Delete(j);
	}
	free(text);
	return 0;
}
