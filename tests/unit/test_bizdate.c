/*
 * Unit tests for the business date (src/domain/bizdate.h): the venue's date
 * in its own zone, with a configurable start of day, right across DST gaps
 * and repeated hours, and never the UTC date. Each zone is loaded as a value
 * (util/tz.h) into a calendar of its own; nothing touches the process's TZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "domain/bizdate.h"
#include "util/tz.h"

/* Milliseconds since the epoch of a UTC wall-clock time. */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000;
}

static struct tz *cur_zone;
static struct bizdate cal;
static char zone_name[64];

static void zone(const char *tz, int day_start_min)
{
	char err[256];

	if (cur_zone != NULL) {
		bizdate_release(&cal);
		tz_free(cur_zone);
	}
	assert_int_equal(tz_open(tz, &cur_zone, err, sizeof(err)), 0);
	bizdate_init(&cal, cur_zone, day_start_min);
	snprintf(zone_name, sizeof(zone_name), "%s", tz);
}

static void expect_date(int64_t ms, const char *want)
{
	char got[BIZDATE_LEN];

	memset(got, 'x', sizeof(got));
	bizdate_of(&cal, ms, got);
	if (strcmp(got, want) != 0)
		fail_msg("instant %lld ms (TZ=%s): business date %s, expected %s", (long long)ms,
		         zone_name, got, want);
}

/* The calendar date before date (both YYYY-MM-DD). */
static void prev_date(const char *date, char out[BIZDATE_LEN])
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12;
	t = timegm(&tm) - 86400;
	gmtime_r(&t, &tm);
	assert_int_equal(strftime(out, BIZDATE_LEN, "%Y-%m-%d", &tm), 10);
}

/* bizdate_start(&cal, date) is the first instant of date: start-1ms is the day before. */
static void expect_start(const char *date, int64_t want_ms)
{
	char prev[BIZDATE_LEN];
	int64_t start = bizdate_start(&cal, date);

	if (want_ms >= 0 && start != want_ms)
		fail_msg("TZ=%s: %s starts at %lld ms, expected %lld", zone_name, date,
		         (long long)start, (long long)want_ms);
	assert_true(start > 0);
	expect_date(start, date);
	expect_date(start + 1, date);
	prev_date(date, prev);
	expect_date(start - 1, prev);
}

/* As time goes forward in steps, the business date never goes back and never skips a day. */
static void expect_monotonic(int64_t from, int64_t to, int64_t step)
{
	char last[BIZDATE_LEN], cur[BIZDATE_LEN], prev[BIZDATE_LEN];
	int64_t t;

	bizdate_of(&cal, from, last);
	for (t = from + step; t <= to; t += step) {
		bizdate_of(&cal, t, cur);
		if (strcmp(cur, last) == 0)
			continue;
		prev_date(cur, prev);
		if (strcmp(prev, last) != 0)
			fail_msg("TZ=%s: at %lld ms the business date went from %s to %s",
			         zone_name, (long long)t, last, cur);
		memcpy(last, cur, sizeof(last));
	}
}

static void test_kolkata_is_not_utc(void **state)
{
	(void)state;
	zone("Asia/Kolkata", 0);
	/* 00:10Z is 05:40 local on the 27th */
	expect_date(utc(2026, 11, 27, 0, 10, 0), "2026-11-27");
	/* local midnight is 18:30Z the day before */
	expect_date(utc(2026, 11, 26, 18, 29, 59), "2026-11-26");
	expect_date(utc(2026, 11, 26, 18, 29, 59) + 999, "2026-11-26");
	expect_date(utc(2026, 11, 26, 18, 30, 0), "2026-11-27");
	/* no restart at 05:30 local (00:00 UTC): 05:29 and 05:30 local are the same day */
	expect_date(utc(2026, 11, 26, 23, 59, 0), "2026-11-27");
	expect_date(utc(2026, 11, 27, 0, 0, 0), "2026-11-27");
	/* the UTC date says the 27th, the venue is already on the 28th */
	expect_date(utc(2026, 11, 27, 20, 0, 0), "2026-11-28");
	expect_date(utc(2026, 11, 27, 23, 59, 0), "2026-11-28");
	expect_start("2026-11-27", utc(2026, 11, 26, 18, 30, 0));
	expect_start("2026-11-28", utc(2026, 11, 27, 18, 30, 0));
}

static void test_day_start_bar(void **state)
{
	(void)state;
	zone("UTC", 4 * 60);
	expect_date(utc(2026, 11, 27, 3, 59, 59), "2026-11-26");
	expect_date(utc(2026, 11, 27, 3, 59, 59) + 999, "2026-11-26");
	expect_date(utc(2026, 11, 27, 4, 0, 0), "2026-11-27");
	expect_date(utc(2026, 11, 27, 23, 59, 59), "2026-11-27");
	expect_date(utc(2026, 11, 28, 0, 30, 0), "2026-11-27");
	expect_start("2026-11-27", utc(2026, 11, 27, 4, 0, 0));

	/* the same bar in Kolkata: local 03:59 is 22:29Z, local 04:00 is 22:30Z */
	zone("Asia/Kolkata", 4 * 60);
	expect_date(utc(2026, 11, 26, 22, 29, 0), "2026-11-26");
	expect_date(utc(2026, 11, 26, 22, 30, 0), "2026-11-27");
	expect_start("2026-11-27", utc(2026, 11, 26, 22, 30, 0));

	/* the last possible start, 23:59 */
	zone("UTC", 23 * 60 + 59);
	expect_date(utc(2026, 11, 27, 23, 58, 59), "2026-11-26");
	expect_date(utc(2026, 11, 27, 23, 59, 0), "2026-11-27");
	expect_start("2026-11-27", utc(2026, 11, 27, 23, 59, 0));
}

static void test_new_york_spring_forward(void **state)
{
	(void)state;
	/* 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z; a start at 02:30 does not exist */
	zone("America/New_York", 2 * 60 + 30);
	expect_date(utc(2026, 3, 8, 6, 59, 0), "2026-03-07"); /* 01:59 EST */
	expect_date(utc(2026, 3, 8, 6, 59, 59) + 999, "2026-03-07");
	expect_date(utc(2026, 3, 8, 7, 0, 0), "2026-03-08"); /* 03:00 EDT */
	expect_start("2026-03-08", utc(2026, 3, 8, 7, 0, 0));
	expect_start("2026-03-07", utc(2026, 3, 7, 7, 30, 0)); /* 02:30 EST */
	expect_start("2026-03-09", utc(2026, 3, 9, 6, 30, 0)); /* 02:30 EDT */
	expect_date(utc(2026, 3, 9, 6, 29, 59), "2026-03-08");
	expect_date(utc(2026, 3, 9, 6, 30, 0), "2026-03-09");
	expect_monotonic(utc(2026, 3, 6, 0, 0, 0), utc(2026, 3, 10, 0, 0, 0), 60 * 1000);

	/* a start exactly at the gap's first minute */
	zone("America/New_York", 2 * 60);
	expect_date(utc(2026, 3, 8, 6, 59, 59), "2026-03-07");
	expect_start("2026-03-08", utc(2026, 3, 8, 7, 0, 0));

	/* midnight is unaffected */
	zone("America/New_York", 0);
	expect_start("2026-03-08", utc(2026, 3, 8, 5, 0, 0));
	expect_start("2026-03-09", utc(2026, 3, 9, 4, 0, 0));
}

static void test_new_york_fall_back(void **state)
{
	int64_t t;

	(void)state;
	/* 2026-11-01 02:00 EDT -> 01:00 EST at 06:00Z: 01:30 happens twice */
	zone("America/New_York", 60 + 30);
	expect_date(utc(2026, 11, 1, 5, 29, 59), "2026-10-31"); /* 01:29:59 EDT */
	expect_date(utc(2026, 11, 1, 5, 30, 0), "2026-11-01");  /* first 01:30, EDT */
	expect_date(utc(2026, 11, 1, 6, 0, 0), "2026-11-01");   /* 01:00 EST again */
	expect_date(utc(2026, 11, 1, 6, 15, 0), "2026-11-01");  /* 01:15 EST */
	expect_date(utc(2026, 11, 1, 6, 30, 0), "2026-11-01");  /* second 01:30, EST */
	expect_date(utc(2026, 11, 1, 6, 45, 0), "2026-11-01");
	expect_start("2026-11-01", utc(2026, 11, 1, 5, 30, 0));
	expect_start("2026-11-02", utc(2026, 11, 2, 6, 30, 0)); /* 01:30 EST */
	/* every minute of the long day, the second pass included, is the same day */
	for (t = utc(2026, 11, 1, 5, 30, 0); t < utc(2026, 11, 2, 6, 30, 0); t += 60 * 1000)
		expect_date(t, "2026-11-01");
	expect_date(utc(2026, 11, 2, 6, 30, 0), "2026-11-02");
	expect_monotonic(utc(2026, 10, 30, 0, 0, 0), utc(2026, 11, 3, 0, 0, 0), 60 * 1000);
}

static void test_london_dst(void **state)
{
	int64_t t;

	(void)state;
	/* spring: 2026-03-29 01:00 GMT -> 02:00 BST at 01:00Z */
	zone("Europe/London", 60 + 30);
	expect_date(utc(2026, 3, 29, 0, 59, 59), "2026-03-28");
	expect_date(utc(2026, 3, 29, 1, 0, 0), "2026-03-29");
	expect_start("2026-03-29", utc(2026, 3, 29, 1, 0, 0));
	expect_start("2026-03-28", utc(2026, 3, 28, 1, 30, 0));
	expect_start("2026-03-30", utc(2026, 3, 30, 0, 30, 0));
	expect_monotonic(utc(2026, 3, 27, 0, 0, 0), utc(2026, 3, 31, 0, 0, 0), 60 * 1000);

	/* autumn: 2026-10-25 02:00 BST -> 01:00 GMT at 01:00Z */
	expect_date(utc(2026, 10, 25, 0, 29, 59), "2026-10-24"); /* 01:29:59 BST */
	expect_date(utc(2026, 10, 25, 0, 30, 0), "2026-10-25");  /* first 01:30 */
	expect_date(utc(2026, 10, 25, 1, 0, 0), "2026-10-25");   /* 01:00 GMT again */
	expect_date(utc(2026, 10, 25, 1, 30, 0), "2026-10-25");  /* second 01:30 */
	expect_start("2026-10-25", utc(2026, 10, 25, 0, 30, 0));
	expect_start("2026-10-26", utc(2026, 10, 26, 1, 30, 0));
	for (t = utc(2026, 10, 25, 0, 30, 0); t < utc(2026, 10, 26, 1, 30, 0); t += 60 * 1000)
		expect_date(t, "2026-10-25");
	expect_monotonic(utc(2026, 10, 23, 0, 0, 0), utc(2026, 10, 27, 0, 0, 0), 60 * 1000);

	/* midnight on both days */
	zone("Europe/London", 0);
	expect_date(utc(2026, 3, 28, 23, 59, 59), "2026-03-28");
	expect_date(utc(2026, 3, 29, 0, 0, 0), "2026-03-29");
	expect_date(utc(2026, 3, 29, 22, 59, 59), "2026-03-29");
	expect_date(utc(2026, 3, 29, 23, 0, 0), "2026-03-30"); /* 00:00 BST */
	expect_date(utc(2026, 10, 24, 22, 59, 59), "2026-10-24");
	expect_date(utc(2026, 10, 24, 23, 0, 0), "2026-10-25"); /* 00:00 BST */
	expect_date(utc(2026, 10, 25, 23, 59, 59), "2026-10-25");
	expect_date(utc(2026, 10, 26, 0, 0, 0), "2026-10-26"); /* 00:00 GMT */
	expect_start("2026-10-25", utc(2026, 10, 24, 23, 0, 0));
	expect_start("2026-10-26", utc(2026, 10, 26, 0, 0, 0));
}

static void test_etc_gmt_plus_5(void **state)
{
	(void)state;
	/* POSIX sign: Etc/GMT+5 is five hours behind UTC */
	zone("Etc/GMT+5", 0);
	expect_date(utc(2026, 11, 27, 4, 59, 59), "2026-11-26");
	expect_date(utc(2026, 11, 27, 5, 0, 0), "2026-11-27");
	expect_start("2026-11-27", utc(2026, 11, 27, 5, 0, 0));
	zone("Etc/GMT+5", 4 * 60);
	expect_date(utc(2026, 11, 27, 8, 59, 59), "2026-11-26");
	expect_date(utc(2026, 11, 27, 9, 0, 0), "2026-11-27");
	expect_start("2026-11-27", utc(2026, 11, 27, 9, 0, 0));
}

/* bizdate_start and bizdate_of agree at every boundary, in several zones and starts. */
static void test_start_agrees_with_of(void **state)
{
	static const char *const zones[] = {
	    "UTC",       "Asia/Kolkata", "America/New_York",   "Europe/London", "Australia/Sydney",
	    "Etc/GMT+5", "Etc/GMT-14",   "Australia/Lord_Howe"};
	static const int starts[] = {0, 30, 90, 150, 240, 23 * 60 + 59};
	static const char *const dates[] = {"2026-01-01", "2026-03-08", "2026-03-29", "2026-04-05",
	                                    "2026-10-04", "2026-10-25", "2026-11-01", "2026-11-27",
	                                    "2028-02-29", "2026-12-31"};
	size_t z, s, d;

	(void)state;
	for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
		for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
			zone(zones[z], starts[s]);
			for (d = 0; d < sizeof(dates) / sizeof(dates[0]); d++)
				expect_start(dates[d], -1);
		}
	zone("UTC", 0);
	assert_int_equal(bizdate_start(&cal, "2026-02-29"), -1);
	assert_int_equal(bizdate_start(&cal, "nonsense"), -1);
}

/* Changing the zone forgets the previous zone's days. */
static void test_reconfigure(void **state)
{
	int64_t t = utc(2026, 11, 26, 20, 0, 0);

	(void)state;
	zone("Asia/Kolkata", 0);
	expect_date(t, "2026-11-27");
	zone("America/New_York", 0);
	expect_date(t, "2026-11-26");
	zone("Asia/Kolkata", 0);
	expect_date(t, "2026-11-27");
	zone("Asia/Kolkata", 6 * 60); /* local 01:30 is before a 06:00 start */
	expect_date(t, "2026-11-26");
	/* many different days in a row, past the cache */
	zone("Asia/Kolkata", 0);
	expect_monotonic(utc(2026, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0), 3600 * 1000);
	expect_date(utc(2026, 1, 1, 0, 0, 0), "2026-01-01");
	expect_date(utc(2026, 12, 31, 18, 30, 0), "2027-01-01");
}

/* A zone that skipped a whole calendar day: Samoa jumped from 2011-12-29 to 2011-12-31. */
static void test_skipped_day(void **state)
{
	(void)state;
	zone("Pacific/Apia", 0);
	expect_date(utc(2011, 12, 30, 9, 59, 59), "2011-12-29");
	expect_date(utc(2011, 12, 30, 10, 0, 0), "2011-12-31");
	assert_int_equal(bizdate_start(&cal, "2011-12-31"), utc(2011, 12, 30, 10, 0, 0));
	expect_date(utc(2011, 12, 30, 10, 0, 0) - 1, "2011-12-29");
	expect_start("2011-12-29", utc(2011, 12, 29, 10, 0, 0));
	expect_start("2012-01-01", utc(2011, 12, 31, 10, 0, 0));
}

static void test_valid(void **state)
{
	static const char *const good[] = {"2026-01-01", "2026-02-28", "2028-02-29",
	                                   "2000-02-29", "2026-12-31", "2026-04-30",
	                                   "2026-11-27", "1970-01-01", "2099-07-15"};
	static const char *const bad[] = {"",
	                                  "2026-02-29",
	                                  "2100-02-29",
	                                  "1900-02-29",
	                                  "2026-04-31",
	                                  "2026-06-31",
	                                  "2026-13-01",
	                                  "2026-00-10",
	                                  "2026-01-00",
	                                  "2026-01-32",
	                                  "2026-1-01",
	                                  "2026-01-1",
	                                  "2026/01/01",
	                                  "20260101",
	                                  "2026-01-011",
	                                  " 2026-01-01",
	                                  "2026-01-01 ",
	                                  "2026-0a-01",
	                                  "2026-01-0a",
	                                  "a026-01-01",
	                                  "2026--01-01",
	                                  "26-01-01",
	                                  "2026-01-01T00:00:00Z",
	                                  "+026-01-01",
	                                  "2026-02-30",
	                                  "2026-09-31",
	                                  "2026-11-31",
	                                  "----------",
	                                  "2026-01-\xc3\xa9"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!bizdate_valid(good[i]))
			fail_msg("\"%s\" should be a valid date", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bizdate_valid(bad[i]))
			fail_msg("\"%s\" should not be a valid date", bad[i]);
}

static int free_zone(void **state)
{
	(void)state;
	if (cur_zone != NULL) {
		bizdate_release(&cal);
		tz_free(cur_zone);
		cur_zone = NULL;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kolkata_is_not_utc),
	    cmocka_unit_test(test_day_start_bar),
	    cmocka_unit_test(test_new_york_spring_forward),
	    cmocka_unit_test(test_new_york_fall_back),
	    cmocka_unit_test(test_london_dst),
	    cmocka_unit_test(test_etc_gmt_plus_5),
	    cmocka_unit_test(test_start_agrees_with_of),
	    cmocka_unit_test(test_reconfigure),
	    cmocka_unit_test(test_skipped_day),
	    cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests_name("bizdate", tests, NULL, free_zone);
}
