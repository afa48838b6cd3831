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

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int day_start_min;

/* A few recently computed day starts, keyed by the day number since the epoch. */
#define CACHE 8
static struct {
	int64_t day;
	int64_t start;
	int used;
} cache[CACHE];
static unsigned cache_next;

void bizdate_configure(int day_start_minutes)
{
	pthread_mutex_lock(&lock);
	tzset();
	day_start_min = day_start_minutes;
	memset(cache, 0, sizeof(cache));
	pthread_mutex_unlock(&lock);
}

/* The local wall-clock time at instant t, as seconds counted as if it were UTC. */
static int64_t wall(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return (int64_t)timegm(&tm);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* The earliest instant (seconds) whose wall clock is at or past w. */
static int64_t first_instant_at(int64_t w)
{
	int64_t s = w - (wall(w) - w) - 4 * 3600, lo, hi;

	/* Step back until the wall clock is surely before w, then walk forward by minutes. */
	while (wall(s) >= w)
		s -= 12 * 3600;
	while (wall(s + 60) < w)
		s += 60;
	/* wall(s) < w <= wall(s + 60): find the exact second. */
	lo = s, hi = s + 60;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (wall(mid) >= w)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* Start, in seconds, of the business day numbered day (days since 1970-01-01). */
static int64_t day_start(int64_t day)
{
	int64_t start;
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < CACHE; i++) {
		if (cache[i].used && cache[i].day == day) {
			start = cache[i].start;
			pthread_mutex_unlock(&lock);
			return start;
		}
	}
	start = first_instant_at(day * 86400 + (int64_t)day_start_min * 60);
	i = (int)(cache_next++ % CACHE);
	cache[i].day = day;
	cache[i].start = start;
	cache[i].used = 1;
	pthread_mutex_unlock(&lock);
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

void bizdate_of(int64_t ms, char out[BIZDATE_LEN])
{
	int64_t t = floor_div(ms, 1000);
	int64_t day = floor_div(wall(t), 86400) + 1;

	/* The latest of the neighbouring days that has started by t. */
	while (day_start(day) > t)
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

int64_t bizdate_start(const char *date)
{
	struct tm tm;

	if (!bizdate_valid(date))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 +
	             (date[3] - '0') - 1900;
	tm.tm_mon = (date[5] - '0') * 10 + (date[6] - '0') - 1;
	tm.tm_mday = (date[8] - '0') * 10 + (date[9] - '0');
	return day_start(floor_div((int64_t)timegm(&tm), 86400)) * 1000;
}
