/*
 * Address classes for the webhook guard, after the IANA special-purpose
 * address registries (RFC 6890 and its updates). Anything outside IPv6
 * global unicast space (2000::/3) is refused; IPv6 forms that carry an
 * IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that
 * address, so ::ffff:127.0.0.1 is loopback.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "hooks/addr.h"

/* Classes allow_private lets through: unicast, just not public. */
static int privately_usable(const char *cls)
{
	static const char *const ok[] = {"loopback",   "private",  "shared",
	                                 "link-local", "reserved", "documentation"};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(cls, ok[i]) == 0)
			return 1;
	return 0;
}

static const char *v4_class(uint32_t a)
{
	if (a >> 24 == 0)
		return "unspecified";
	if (a >> 24 == 10 || a >> 20 == (172u << 4 | 1) || a >> 16 == (192u << 8 | 168))
		return "private";
	if (a >> 22 == (100u << 2 | 1))
		return "shared";
	if (a >> 24 == 127)
		return "loopback";
	if (a >> 16 == (169u << 8 | 254))
		return "link-local";
	if (a == 0xffffffffu)
		return "broadcast";
	if (a >> 28 == 14)
		return "multicast";
	if (a >> 28 == 15)
		return "reserved";
	if (a >> 8 == 0xc00002 || a >> 8 == 0xc63364 || a >> 8 == 0xcb0071)
		return "documentation";
	if (a >> 8 == 0xc00000 || a >> 17 == (0xc612u >> 1))
		return "reserved";
	return NULL;
}

static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *v6_class(const unsigned char *b)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (memcmp(b, zero, 16) == 0)
		return "unspecified";
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "loopback";
	/* IPv4-mapped, IPv4-compatible (::a.b.c.d) and NAT64 well-known prefix. */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_class(v4_at(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: 2002:a.b.c.d::/48 */
		return v4_class(v4_at(b + 2));
	if (b[0] == 0xff)
		return "multicast";
	if ((b[0] & 0xfe) == 0xfc)
		return "private";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "private"; /* site-local, deprecated but still routed inside sites */
	if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
		return "private"; /* 64:ff9b:1::/48, local-use NAT64 */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return "documentation";
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] < 0x02)
		return "reserved"; /* 2001::/23: Teredo, benchmarking, ORCHID and the like */
	if ((b[0] & 0xe0) != 0x20)
		return "reserved";
	return NULL;
}

const char *hook_addr_class(const struct sockaddr *sa)
{
	if (sa == NULL)
		return "unsupported";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return v4_class(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return v6_class(in6->sin6_addr.s6_addr);
	}
	return "unsupported";
}

static void addr_text(const struct sockaddr *sa, char *out, size_t n)
{
	const void *p = NULL;

	if (sa->sa_family == AF_INET)
		p = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (p == NULL || inet_ntop(sa->sa_family, p, out, (socklen_t)n) == NULL)
		snprintf(out, n, "(address family %d)", sa->sa_family);
}

static int refuse(const char *what, const char *cls, char *why, size_t n)
{
	if (privately_usable(cls))
		snprintf(why, n,
		         "%s is a %s address; webhooks may only reach public addresses unless "
		         "the endpoint allows private ones",
		         what, cls);
	else
		snprintf(why, n, "%s is a%s %s address, which a webhook can never reach", what,
		         cls[0] == 'u' ? "n" : "", cls);
	return -1;
}

int hook_addr_check(const struct sockaddr *sa, int allow_private, char *why, size_t n)
{
	const char *cls = hook_addr_class(sa);
	char text[INET6_ADDRSTRLEN + 16];

	if (cls == NULL || (allow_private && privately_usable(cls)))
		return 0;
	if (sa == NULL) {
		snprintf(why, n, "no address to connect to");
		return -1;
	}
	addr_text(sa, text, sizeof(text));
	return refuse(text, cls, why, n);
}

static int is_localhost(const char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return 1;
	return n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0;
}

/* Checks a host that is an address literal; returns 1 if it was one. */
static int literal(const char *host, int allow_private, int *rc, char *why, size_t n)
{
	struct sockaddr_storage ss;
	char bare[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(host);

	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[' && len > 2 && len - 2 < sizeof(bare)) {
		char *pct;

		memcpy(bare, host + 1, len - 2);
		bare[len - 2] = '\0';
		pct = strchr(bare, '%');
		if (pct != NULL)
			*pct = '\0';
		ss.ss_family = AF_INET6;
		if (inet_pton(AF_INET6, bare, &((struct sockaddr_in6 *)&ss)->sin6_addr) != 1)
			return 0;
	} else {
		ss.ss_family = AF_INET;
		if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) != 1)
			return 0;
	}
	*rc = hook_addr_check((struct sockaddr *)&ss, allow_private, why, n);
	return 1;
}

static int resolved(const char *host, int allow_private, char *why, size_t n)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
		char inner[200];

		if (hook_addr_check(ai->ai_addr, allow_private, inner, sizeof(inner)) != 0) {
			snprintf(why, n, "the host %.100s resolves to %s", host, inner);
			rc = -1;
		}
	}
	freeaddrinfo(res);
	return rc;
}

int hook_url_check(const char *url, unsigned flags, char *why, size_t n)
{
	int allow_private = (flags & HOOK_URL_ALLOW_PRIVATE) != 0;
	char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
	CURLU *u = NULL;
	int rc = -1;

	if (url == NULL || *url == '\0') {
		snprintf(why, n, "the URL is empty");
		return -1;
	}
	if (strlen(url) > HOOK_URL_MAX) {
		snprintf(why, n, "the URL is longer than %d bytes", HOOK_URL_MAX);
		return -1;
	}
	u = curl_url();
	if (u == NULL) {
		snprintf(why, n, "out of memory checking the URL");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(why, n, "the URL is not an absolute http or https URL");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		snprintf(why, n, "the URL's scheme is %.20s; only http and https are allowed",
		         scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(why, n, "the URL has no host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		snprintf(why, n,
		         "the URL carries a user name or password; put no credentials in it");
		goto out;
	}
	if (is_localhost(host)) {
		if (!allow_private) {
			refuse(host, "loopback", why, n);
			goto out;
		}
	} else if (!literal(host, allow_private, &rc, why, n)) {
		rc = (flags & HOOK_URL_RESOLVE) ? resolved(host, allow_private, why, n) : 0;
		goto out;
	} else {
		goto out; /* literal set rc */
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return rc;
}
