/*
 * Unit tests for the settings parsers (src/util/config.h): every documented
 * bad setting of docs/tokenq.1 (ENVIRONMENT) is refused with one sentence
 * that names the setting, and the good ones are read as documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/config.h"

#define ERRLEN 512

/* The refusal is one sentence (ends with a period, no line break) naming the setting. */
static void expect_sentence(const char *err, const char *names, const char *input)
{
	size_t n = strlen(err);

	/* (a refusal may quote the bad value itself, line breaks and all) */
	if (n == 0 || strstr(err, names) == NULL ||
	    (strchr(err, '\n') != NULL && strchr(input, '\n') == NULL) || err[n - 1] != '.')
		fail_msg("refusal of \"%s\" is not one sentence naming %s: \"%s\"", input, names,
		         err);
}

static void test_timezone(void **state)
{
	static const char *const good[] = {"Asia/Kolkata",
	                                   "Etc/GMT+5",
	                                   "Etc/GMT-14",
	                                   "UTC",
	                                   "Europe/London",
	                                   "America/New_York",
	                                   "America/Argentina/Buenos_Aires",
	                                   "Etc/UTC"};
	static const char *const bad[] = {
	    "Mars/Olympus",   "../etc/passwd",  "",
	    "/etc/localtime", "Asia",           "Asia/",
	    "asia kolkata",   "Asia/Kolkata\n", "Europe/../UTC",
	    "Asia/Kolkata/",  "UTC;rm -rf",     "/usr/share/zoneinfo/UTC",
	    "zone.tab",       "Etc/GMT+5 ",     "\xc3\xa9"};
	char err[ERRLEN];
	size_t i;

	(void)state;
	unsetenv("TZDIR");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		if (config_parse_timezone(good[i], err, sizeof(err)) != 0)
			fail_msg("time zone \"%s\" refused: %s", good[i], err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (config_parse_timezone(bad[i], err, sizeof(err)) == 0)
			fail_msg("time zone \"%s\" accepted", bad[i]);
		expect_sentence(err, "TOKENQ_TIMEZONE", bad[i]);
	}
}

static void test_day_start(void **state)
{
	static const struct {
		const char *s;
		int min;
	} good[] = {{"00:00", 0},   {"04:00", 240}, {"23:59", 1439},
	            {"12:30", 750}, {"09:05", 545}, {"19:59", 1199}};
	static const char *const bad[] = {
	    "24:00", "7:00",  "ab:cd", "12:60", "",         "0400", "04:0",  "04:00 ",     " 04:00",
	    "-1:00", "04-00", "99:99", "23:60", "04:00:00", "4",    "+4:00", "\xd9\xa4:00"};
	char err[ERRLEN];
	size_t i;
	int m;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m = -1;
		if (config_parse_day_start(good[i].s, &m, err, sizeof(err)) != 0)
			fail_msg("day start \"%s\" refused: %s", good[i].s, err);
		assert_int_equal(m, good[i].min);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (config_parse_day_start(bad[i], &m, err, sizeof(err)) == 0)
			fail_msg("day start \"%s\" accepted", bad[i]);
		expect_sentence(err, "TOKENQ_DAY_START", bad[i]);
	}
}

static void test_digits(void **state)
{
	static const char *const bad[] = {"0", "10", "x", "", "-1", " 3", "3 ", "03", "3.0", "+3"};
	char err[ERRLEN], s[2];
	size_t i;
	int d, want;

	(void)state;
	for (want = 1; want <= 9; want++) {
		s[0] = (char)('0' + want);
		s[1] = '\0';
		d = -1;
		assert_int_equal(config_parse_digits(s, &d, err, sizeof(err)), 0);
		assert_int_equal(d, want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (config_parse_digits(bad[i], &d, err, sizeof(err)) == 0)
			fail_msg("token digits \"%s\" accepted", bad[i]);
		expect_sentence(err, "TOKENQ_TOKEN_DIGITS", bad[i]);
	}
}

static void test_queues_good(void **state)
{
	struct config cfg;
	char err[ERRLEN];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(config_parse_queues("A=Orders", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nqueues, 1);
	assert_string_equal(cfg.queues[0].prefix, "A");
	assert_string_equal(cfg.queues[0].name, "Orders");

	assert_int_equal(config_parse_queues("A=Dine-in,B=Takeaway", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nqueues, 2);
	assert_string_equal(cfg.queues[0].prefix, "A");
	assert_string_equal(cfg.queues[0].name, "Dine-in");
	assert_string_equal(cfg.queues[1].prefix, "B");
	assert_string_equal(cfg.queues[1].name, "Takeaway");
	assert_non_null(config_queue(&cfg, "B"));
	assert_string_equal(config_queue(&cfg, "B")->name, "Takeaway");
	assert_null(config_queue(&cfg, "C"));
	assert_null(config_queue(&cfg, "b"));

	assert_int_equal(config_parse_queues("TX=Tax desk", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nqueues, 1);
	assert_string_equal(cfg.queues[0].prefix, "TX");
	assert_string_equal(cfg.queues[0].name, "Tax desk");
	assert_null(config_queue(&cfg, "A")); /* the previous list is replaced */

	/* 40 characters, also when they are several bytes each */
	assert_int_equal(config_parse_queues("ABC=1234567890123456789012345678901234567890", &cfg,
	                                     err, sizeof(err)),
	                 0);
	assert_int_equal(
	    config_parse_queues("Q=\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	                        &cfg, err, sizeof(err)),
	    0);
	assert_int_equal(
	    config_parse_queues("Q=\xf0\x9f\x8d\xb5\xf0\x9f\x8d\xb5", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.queues[0].name, "\xf0\x9f\x8d\xb5\xf0\x9f\x8d\xb5");
}

static void test_queues_bad(void **state)
{
	static const char *const bad[] = {
	    "a=x",        "ABCD=x",
	    "A=x,A=y",    "A=",
	    "=x",         "A",
	    "Ax",         "",
	    ",",          "A=x,",
	    ",A=x",       "A=x,,B=y",
	    "A1=x",       "A =x",
	    "A=x=y",      "A==x",
	    "A=x,B",      "A=\x01",
	    "A=a\nb",     "A=\xff",
	    "A=\xc3",     "-=x",
	    "\xc3\x89=x", "A=12345678901234567890123456789012345678901", /* 41 characters */
	};
	struct config cfg;
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		err[0] = '\0';
		if (config_parse_queues(bad[i], &cfg, err, sizeof(err)) == 0)
			fail_msg("queues \"%s\" accepted", bad[i]);
		expect_sentence(err, "TOKENQ_QUEUES", bad[i]);
	}
}

static void test_queues_limit(void **state)
{
	struct config cfg;
	char spec[512], err[ERRLEN];
	size_t len = 0;
	int i;

	(void)state;
	/* MAX_QUEUES queues fit, one more does not */
	for (i = 0; i <= MAX_QUEUES; i++) {
		char p[3] = {(char)('A' + i / 26), (char)('A' + i % 26), '\0'};
		len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%s=Q", i ? "," : "", p);
		memset(&cfg, 0, sizeof(cfg));
		err[0] = '\0';
		if (i < MAX_QUEUES) {
			if (config_parse_queues(spec, &cfg, err, sizeof(err)) != 0)
				fail_msg("%d queues refused: %s", i + 1, err);
			assert_int_equal(cfg.nqueues, i + 1);
		} else {
			assert_int_equal(config_parse_queues(spec, &cfg, err, sizeof(err)), -1);
			expect_sentence(err, "TOKENQ_QUEUES", spec);
		}
	}
}

static void test_database(void **state)
{
	static const char *const good[] = {
	    "sqlite:tokenq.db", "sqlite:/var/lib/tokenq/t.db", "postgres://tokenq@localhost/tokenq",
	    "postgresql://u:p@db.example.com:5433/q?sslmode=require"};
	static const char *const bad[] = {
	    "",          "sqlite:", "tokenq.db", "mysql://x/y", "postgres:/x",
	    "file:t.db", "sqlite",  " sqlite:x", "http://x"};
	char err[ERRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (config_parse_database(good[i], err, sizeof(err)) != 0)
			fail_msg("database \"%s\" refused: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (config_parse_database(bad[i], err, sizeof(err)) == 0)
			fail_msg("database \"%s\" accepted", bad[i]);
		expect_sentence(err, "DATABASE_URL", bad[i]);
	}
}

static void test_listen(void **state)
{
	static const struct {
		const char *s, *host;
		int port;
	} good[] = {{"127.0.0.1:8080", "127.0.0.1", 8080},
	            {"[::1]:8080", "::1", 8080},
	            {"0.0.0.0:1", "0.0.0.0", 1},
	            {"localhost:65535", "localhost", 65535},
	            {"[::]:80", "::", 80}};
	static const char *const bad[] = {"127.0.0.1:0",
	                                  "127.0.0.1:65536",
	                                  "127.0.0.1:x",
	                                  "127.0.0.1",
	                                  "127.0.0.1:",
	                                  ":8080",
	                                  "[::1]",
	                                  "[::1]8080",
	                                  "::1:8080",
	                                  "[::1:8080",
	                                  "",
	                                  "127.0.0.1:-1",
	                                  "127.0.0.1:80x",
	                                  "127.0.0.1: 80",
	                                  "127.0.0.1:99999999999999999999",
	                                  "[]:8080"};
	char host[256], err[ERRLEN];
	size_t i;
	int port;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		port = -1;
		if (config_parse_listen(good[i].s, host, sizeof(host), &port, err, sizeof(err)) !=
		    0)
			fail_msg("listen \"%s\" refused: %s", good[i].s, err);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (config_parse_listen(bad[i], host, sizeof(host), &port, err, sizeof(err)) == 0)
			fail_msg("listen \"%s\" accepted as %s port %d", bad[i], host, port);
		expect_sentence(err, "TOKENQ_LISTEN", bad[i]);
	}
	/* a host too long for the caller's buffer is refused, not cut */
	assert_int_equal(config_parse_listen("abcdefgh:80", host, 5, &port, err, sizeof(err)), -1);
}

static void clear_env(void)
{
	static const char *const vars[] = {
	    "DATABASE_URL",  "TOKENQ_LISTEN",       "TOKENQ_TIMEZONE",  "TOKENQ_DAY_START",
	    "TOKENQ_QUEUES", "TOKENQ_TOKEN_DIGITS", "TOKENQ_PUBLIC_URL"};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void test_load(void **state)
{
	static struct config cfg;
	char err[ERRLEN];

	(void)state;
	clear_env();
	/* the defaults */
	assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.database, "sqlite:tokenq.db");
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_int_equal(cfg.day_start_min, 0);
	assert_int_equal(cfg.token_digits, 3);
	assert_int_equal(cfg.nqueues, 1);
	assert_string_equal(cfg.queues[0].prefix, "A");
	assert_string_equal(cfg.queues[0].name, "Orders");
	assert_string_equal(cfg.timezone, "");

	/* the environment, then flags over it */
	setenv("DATABASE_URL", "sqlite:env.db", 1);
	setenv("TOKENQ_LISTEN", "0.0.0.0:9000", 1);
	setenv("TOKENQ_TIMEZONE", "Asia/Kolkata", 1);
	setenv("TOKENQ_DAY_START", "04:00", 1);
	setenv("TOKENQ_QUEUES", "A=Dine-in,B=Takeaway", 1);
	setenv("TOKENQ_TOKEN_DIGITS", "4", 1);
	assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.database, "sqlite:env.db");
	assert_string_equal(cfg.listen_host, "0.0.0.0");
	assert_int_equal(cfg.listen_port, 9000);
	assert_string_equal(cfg.timezone, "Asia/Kolkata");
	assert_int_equal(cfg.day_start_min, 240);
	assert_int_equal(cfg.token_digits, 4);
	assert_int_equal(cfg.nqueues, 2);
	assert_int_equal(config_load(&cfg, "postgres://h/db", "[::1]:81", err, sizeof(err)), 0);
	assert_string_equal(cfg.database, "postgres://h/db");
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 81);

	/* a bad setting stops it with its sentence */
	setenv("TOKENQ_TOKEN_DIGITS", "0", 1);
	err[0] = '\0';
	assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), -1);
	expect_sentence(err, "TOKENQ_TOKEN_DIGITS", "0");
	setenv("TOKENQ_TOKEN_DIGITS", "3", 1);
	setenv("TOKENQ_TIMEZONE", "Mars/Olympus", 1);
	assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), -1);
	expect_sentence(err, "TOKENQ_TIMEZONE", "Mars/Olympus");
	unsetenv("TOKENQ_TIMEZONE");
	setenv("TOKENQ_DAY_START", "24:00", 1);
	assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), -1);
	expect_sentence(err, "TOKENQ_DAY_START", "24:00");
	unsetenv("TOKENQ_DAY_START");
	setenv("TOKENQ_QUEUES", "A=x,A=y", 1);
	assert_int_equal(config_load(&cfg, NULL, NULL, err, sizeof(err)), -1);
	expect_sentence(err, "TOKENQ_QUEUES", "A=x,A=y");
	unsetenv("TOKENQ_QUEUES");
	assert_int_equal(config_load(&cfg, "mysql://x", NULL, err, sizeof(err)), -1);
	expect_sentence(err, "DATABASE_URL", "mysql://x");
	assert_int_equal(config_load(&cfg, NULL, "127.0.0.1:0", err, sizeof(err)), -1);
	expect_sentence(err, "TOKENQ_LISTEN", "127.0.0.1:0");
	clear_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timezone),   cmocka_unit_test(test_day_start),
	    cmocka_unit_test(test_digits),     cmocka_unit_test(test_queues_good),
	    cmocka_unit_test(test_queues_bad), cmocka_unit_test(test_queues_limit),
	    cmocka_unit_test(test_database),   cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
