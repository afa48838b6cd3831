/*
 * When a failed webhook delivery is tried again: exponential backoff with
 * full jitter (each wait drawn uniformly between the floor and an
 * exponentially growing ceiling, so many endpoints failing at once do not
 * retry in step), the ceiling capped, and the attempts given up only once
 * the delivery has been failing for the whole retry period, which is what
 * bounds the schedule, not a count of attempts. Pure functions: the caller
 * supplies the random number and the clock.
 *
 * Defaults: a 5 s floor, the ceiling doubling from 5 s to 1 h, given up
 * after 24 h of failures; about 40 attempts in all.
 */
#ifndef TOKENQ_HOOK_BACKOFF_H
#define TOKENQ_HOOK_BACKOFF_H

#include <stdint.h>

struct hook_backoff {
	int64_t base_ms;   /* the first ceiling and every wait's floor; 0: 5 s */
	int64_t cap_ms;    /* the largest ceiling; 0: 1 h */
	int64_t period_ms; /* how long a delivery is retried; 0: 24 h */
};

#define HOOK_BACKOFF_BASE_MS   5000
#define HOOK_BACKOFF_CAP_MS    3600000
#define HOOK_BACKOFF_PERIOD_MS 86400000

/* The ceiling of the wait after the attempt-th failure (attempt 1 is the first try):
 * base * 2^(attempt-1), at most cap. */
int64_t hook_backoff_ceiling(const struct hook_backoff *b, int attempt);

/* The wait after the attempt-th failure, drawn from [base, ceiling] by rnd (any 64 random
 * bits). */
int64_t hook_backoff_delay(const struct hook_backoff *b, int attempt, uint64_t rnd);

/* After the attempt-th failure at now_ms of a delivery first tried at first_ms: returns 0
 * and the time of the next attempt in *next_ms, or 1 when the retry period is over (the
 * delivery has failed for good and its endpoint is failing; *next_ms is 0). The last
 * attempt falls at or after the end of the period, so a delivery is retried for at
 * least the whole period. */
int hook_backoff_next(const struct hook_backoff *b, int attempt, int64_t first_ms, int64_t now_ms,
                      uint64_t rnd, int64_t *next_ms);

#endif
