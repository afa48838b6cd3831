/*
 * Unit tests for the webhook address guard (src/hooks/addr.h): every
 * refused IPv4 and IPv6 range at and just beside its edges, IPv6 forms
 * that carry an IPv4 address, allow_private, and the URL check's
 * sentences for bad schemes, hosts, credentials and literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "hooks/addr.h"

/* The class of an address given as text (v4 or v6), "-" for public. */
static const char *cls(const char *text)
{
	struct sockaddr_storage ss;
	const char *c;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		ss.ss_family = AF_INET6;
		assert_int_equal(
		    inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
	} else {
		ss.ss_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr),
		                 1);
	}
	c = hook_addr_class((struct sockaddr *)&ss);
	return c != NULL ? c : "-";
}

static void test_v4(void **state)
{
	static const char *const cases[][2] = {
	    {"0.0.0.0", "unspecified"},
	    {"0.255.1.2", "unspecified"},
	    {"1.1.1.1", "-"},
	    {"8.8.8.8", "-"},
	    {"9.255.255.255", "-"},
	    {"10.0.0.1", "private"},
	    {"10.255.255.255", "private"},
	    {"11.0.0.0", "-"},
	    {"100.63.255.255", "-"},
	    {"100.64.0.0", "shared"},
	    {"100.127.255.255", "shared"},
	    {"100.128.0.0", "-"},
	    {"126.255.255.255", "-"},
	    {"127.0.0.1", "loopback"},
	    {"127.255.255.254", "loopback"},
	    {"128.0.0.0", "-"},
	    {"169.253.255.255", "-"},
	    {"169.254.169.254", "link-local"},
	    {"169.255.0.0", "-"},
	    {"172.15.255.255", "-"},
	    {"172.16.0.0", "private"},
	    {"172.31.255.255", "private"},
	    {"172.32.0.0", "-"},
	    {"192.0.0.8", "reserved"},
	    {"192.0.2.1", "documentation"},
	    {"192.0.3.1", "-"},
	    {"192.167.255.255", "-"},
	    {"192.168.1.1", "private"},
	    {"192.169.0.0", "-"},
	    {"198.17.255.255", "-"},
	    {"198.18.0.1", "reserved"},
	    {"198.19.255.255", "reserved"},
	    {"198.20.0.0", "-"},
	    {"198.51.100.7", "documentation"},
	    {"203.0.113.9", "documentation"},
	    {"223.255.255.255", "-"},
	    {"224.0.0.1", "multicast"},
	    {"239.255.255.255", "multicast"},
	    {"240.0.0.1", "reserved"},
	    {"255.255.255.255", "broadcast"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = cls(cases[i][0]);

		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("%s: %s, want %s", cases[i][0], got, cases[i][1]);
	}
}

static void test_v6(void **state)
{
	static const char *const cases[][2] = {
	    {"::", "unspecified"},
	    {"::1", "loopback"},
	    {"::2", "unspecified"}, /* IPv4-compatible 0.0.0.2 */
	    {"::ffff:127.0.0.1", "loopback"},
	    {"::ffff:10.1.2.3", "private"},
	    {"::ffff:8.8.8.8", "-"},
	    {"::127.0.0.1", "loopback"},
	    {"::ffff:0:127.0.0.1", "reserved"}, /* SIIT: outside 2000::/3 */
	    {"64:ff9b::192.168.0.1", "private"},
	    {"64:ff9b::8.8.8.8", "-"},
	    {"64:ff9b:1::1", "private"},
	    {"2002:7f00:1::", "loopback"}, /* 6to4 of 127.0.0.1 */
	    {"2002:0808:0808::1", "-"},
	    {"fc00::1", "private"},
	    {"fdff:ffff::1", "private"},
	    {"fe80::1", "link-local"},
	    {"febf::1", "link-local"},
	    {"fec0::1", "private"},
	    {"ff02::1", "multicast"},
	    {"2001:db8::1", "documentation"},
	    {"2001::1", "reserved"},
	    {"100::1", "reserved"},
	    {"2606:4700:4700::1111", "-"},
	    {"2a00:1450:4001:80b::200e", "-"},
	    {"3fff:ffff::1", "-"},
	    {"4000::1", "reserved"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = cls(cases[i][0]);

		if (strcmp(got, cases[i][1]) != 0)
			fail_msg("%s: %s, want %s", cases[i][0], got, cases[i][1]);
	}
}

static void test_check(void **state)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr un = {.sa_family = AF_UNIX};
	char why[256];

	(void)state;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	assert_int_equal(hook_addr_check((struct sockaddr *)&in, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "127.0.0.1 is a loopback address"));
	assert_int_equal(hook_addr_check((struct sockaddr *)&in, 1, why, sizeof(why)), 0);

	inet_pton(AF_INET, "224.0.0.1", &in.sin_addr);
	assert_int_equal(hook_addr_check((struct sockaddr *)&in, 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "multicast"));

	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.168.0.10", &in6.sin6_addr);
	assert_int_equal(hook_addr_check((struct sockaddr *)&in6, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "private"));
	inet_pton(AF_INET6, "::", &in6.sin6_addr);
	assert_int_equal(hook_addr_check((struct sockaddr *)&in6, 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "an unspecified"));

	assert_int_equal(hook_addr_check(&un, 1, why, sizeof(why)), -1);
}

static void expect_url(const char *url, unsigned flags, const char *fragment)
{
	char why[512];
	int rc;

	why[0] = '\0';
	rc = hook_url_check(url, flags, why, sizeof(why));
	if (fragment == NULL) {
		if (rc != 0)
			fail_msg("%s refused: %s", url, why);
	} else if (rc != -1 || strstr(why, fragment) == NULL) {
		fail_msg("%s: rc %d, \"%s\", want \"%s\"", url, rc, why, fragment);
	}
}

static void test_url(void **state)
{
	char longurl[HOOK_URL_MAX + 32];

	(void)state;
	expect_url("https://hooks.example.com/tokenq", 0, NULL);
	expect_url("http://203.0.114.5:8080/x?y=1", 0, NULL);
	expect_url("http://[2606:4700:4700::1111]/", 0, NULL);
	expect_url("", 0, "empty");
	expect_url("hooks.example.com/x", 0, "absolute");
	expect_url("ftp://hooks.example.com/", 0, "scheme is ftp");
	expect_url("file:///etc/passwd", 0, "scheme is file");
	expect_url("gopher://x/", 0, "scheme");
	expect_url("https://", 0, "");
	expect_url("https://user:pw@hooks.example.com/", 0, "user name or password");
	expect_url("http://127.0.0.1:9/", 0, "127.0.0.1 is a loopback address");
	expect_url("http://127.0.0.1:9/", HOOK_URL_ALLOW_PRIVATE, NULL);
	expect_url("http://2130706433/", 0, "loopback"); /* 127.0.0.1 as one number */
	expect_url("http://0x7f.1/", 0, "loopback");
	expect_url("http://[::1]/", 0, "loopback");
	expect_url("http://[::ffff:127.0.0.1]/", 0, "loopback");
	expect_url("http://[fe80::1%25eth0]/", 0, "link-local");
	expect_url("http://10.0.0.5/", 0, "private");
	expect_url("http://169.254.169.254/latest/meta-data", 0, "link-local");
	expect_url("http://0.0.0.0:80/", HOOK_URL_ALLOW_PRIVATE, "never reach");
	expect_url("http://localhost:8080/", 0, "localhost is a loopback");
	expect_url("http://LOCALHOST./", 0, "loopback");
	expect_url("http://till.localhost/", 0, "loopback");
	expect_url("http://localhost:8080/", HOOK_URL_ALLOW_PRIVATE, NULL);
	/* A name is resolved only when asked, and one that does not resolve is let through. */
	expect_url("http://hooks.example/", 0, NULL);
	expect_url("http://no-such-host.invalid/", HOOK_URL_RESOLVE, NULL);
	memset(longurl, 'a', sizeof(longurl) - 1);
	memcpy(longurl, "https://", 8);
	longurl[sizeof(longurl) - 1] = '\0';
	expect_url(longurl, 0, "longer than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v4),
	    cmocka_unit_test(test_v6),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_url),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
