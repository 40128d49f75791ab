/* backoff — see include/backoff.h. */
#include <stdint.h>

#include "backoff.h"
#include "util.h"

int
backoff_again(const struct backoff *b, int throttled, unsigned failures, unsigned attempts)
{
	if (attempts >= b->max_attempts)
		return 0;
	return throttled || failures < b->max_failures;
}

long
backoff_delay(const struct backoff *b, unsigned attempts)
{
	unsigned shift = attempts > 1 ? attempts - 1 : 0;
	long cap = b->base_ms;

	/* doubling past the cap changes nothing; stop before it overflows */
	while (shift-- && cap < b->cap_ms)
		cap *= 2;
	if (cap > b->cap_ms)
		cap = b->cap_ms;
	if (cap <= 0)
		return 0;
	return (long)(rand_u64() % (uint64_t)cap);
}
