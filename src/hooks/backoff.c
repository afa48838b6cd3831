/*
 * The retry schedule of webhook deliveries; see backoff.h.
 */
#include <stddef.h>

#include "hooks/backoff.h"

static void defaults(const struct hook_backoff *b, int64_t *base, int64_t *cap, int64_t *period)
{
	*base = b != NULL && b->base_ms > 0 ? b->base_ms : HOOK_BACKOFF_BASE_MS;
	*cap = b != NULL && b->cap_ms > 0 ? b->cap_ms : HOOK_BACKOFF_CAP_MS;
	*period = b != NULL && b->period_ms > 0 ? b->period_ms : HOOK_BACKOFF_PERIOD_MS;
	if (*cap < *base)
		*cap = *base;
}

int64_t hook_backoff_ceiling(const struct hook_backoff *b, int attempt)
{
	int64_t base, cap, period, c;
	int i;

	defaults(b, &base, &cap, &period);
	c = base;
	for (i = 1; i < attempt && c < cap; i++)
		c = c > cap / 2 ? cap : c * 2;
	return c < cap ? c : cap;
}

int64_t hook_backoff_delay(const struct hook_backoff *b, int attempt, uint64_t rnd)
{
	int64_t base, cap, period;
	int64_t ceiling = hook_backoff_ceiling(b, attempt);

	defaults(b, &base, &cap, &period);
	return base + (int64_t)(rnd % (uint64_t)(ceiling - base + 1));
}

int hook_backoff_next(const struct hook_backoff *b, int attempt, int64_t first_ms, int64_t now_ms,
                      uint64_t rnd, int64_t *next_ms)
{
	int64_t base, cap, period, end, next;

	defaults(b, &base, &cap, &period);
	*next_ms = 0;
	end = first_ms + period;
	if (now_ms >= end)
		return 1;
	next = now_ms + hook_backoff_delay(b, attempt, rnd);
	/* One last attempt at the end of the period rather than none past it. */
	*next_ms = next < end ? next : end;
	return 0;
}
