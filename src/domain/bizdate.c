/*
 * Business dates. The start of a day is found by searching for the earliest
 * instant whose local wall-clock time reaches the configured start, which is
 * right across DST gaps and repeated hours alike, and the result is cached
 * because a day starts only once.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "domain/bizdate.h"

void bizdate_init(struct bizdate *b, const struct tz *zone, int day_start_min)
{
	memset(b, 0, sizeof(*b));
	b->zone = zone;
	b->day_start_min = day_start_min;
	pthread_mutex_init(&b->lock, NULL);
}

void bizdate_release(struct bizdate *b)
{
	pthread_mutex_destroy(&b->lock);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* The earliest instant (seconds) whose wall clock is at or past w. */
static int64_t first_instant_at(const struct tz *z, int64_t w)
{
	int64_t s = w - (tz_wall(z, w) - w) - 4 * 3600, lo, hi;

	/* Step back until the wall clock is surely before w, then walk forward by minutes. */
	while (tz_wall(z, s) >= w)
		s -= 12 * 3600;
	while (tz_wall(z, s + 60) < w)
		s += 60;
	/* tz_wall(z, s) < w <= tz_wall(z, s + 60): find the exact second. */
	lo = s, hi = s + 60;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (tz_wall(z, mid) >= w)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* Start, in seconds, of the business day numbered day (days since 1970-01-01). */
static int64_t day_start(struct bizdate *b, int64_t day)
{
	int64_t start;
	int i;

	pthread_mutex_lock(&b->lock);
	for (i = 0; i < BIZDATE_CACHE; i++) {
		if (b->cache[i].used && b->cache[i].day == day) {
			start = b->cache[i].start;
			pthread_mutex_unlock(&b->lock);
			return start;
		}
	}
	start = first_instant_at(b->zone, day * 86400 + (int64_t)b->day_start_min * 60);
	i = (int)(b->cache_next++ % BIZDATE_CACHE);
	b->cache[i].day = day;
	b->cache[i].start = start;
	b->cache[i].used = 1;
	pthread_mutex_unlock(&b->lock);
	return start;
}

static void format_day(int64_t day, char out[BIZDATE_LEN])
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, BIZDATE_LEN, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
	         (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

void bizdate_of(struct bizdate *b, int64_t ms, char out[BIZDATE_LEN])
{
	int64_t t = floor_div(ms, 1000);
	int64_t day = floor_div(tz_wall(b->zone, t), 86400) + 1;

	/* The latest of the neighbouring days that has started by t. */
	while (day_start(b, day) > t)
		day--;
	format_day(day, out);
}

bool bizdate_valid(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

int64_t bizdate_start(struct bizdate *b, const char *date)
{
	struct tm tm;

	if (!bizdate_valid(date))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 +
	             (date[3] - '0') - 1900;
	tm.tm_mon = (date[5] - '0') * 10 + (date[6] - '0') - 1;
	tm.tm_mday = (date[8] - '0') * 10 + (date[9] - '0');
	return day_start(b, floor_div((int64_t)timegm(&tm), 86400)) * 1000;
}
