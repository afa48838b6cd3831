/*
 * The guard against webhooks being pointed inside the network tokenq runs
 * in (server-side request forgery): only http and https URLs, and no
 * connection to an address on loopback, a private or shared network
 * (RFC 1918, 100.64.0.0/10, fc00::/7), link-local, unspecified, multicast,
 * broadcast or reserved space, IPv4-mapped and -compatible IPv6 forms
 * included, unless the endpoint was created to allow private addresses.
 *
 * The dispatcher checks the address each connection actually goes to
 * (after DNS), so a name that resolves to 127.0.0.1 is refused as surely as
 * the literal; hook_url_check is the earlier, friendlier check for the API
 * and the command line.
 */
#ifndef TOKENQ_HOOK_ADDR_H
#define TOKENQ_HOOK_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest URL an endpoint may have. */
#define HOOK_URL_MAX 2048

/* What kind of address sa is: NULL for a public unicast address, otherwise a word for the
 * sentence "… is a <word> address" ("loopback", "private", "link-local", ...). Address
 * families other than IPv4 and IPv6 are "unsupported". */
const char *hook_addr_class(const struct sockaddr *sa);

/* Checks sa before connecting: returns 0 if it may be used, or -1 with a sentence naming
 * the address and why it is refused in why (of size n). allow_private lets every
 * unicast address through. */
int hook_addr_check(const struct sockaddr *sa, int allow_private, char *why, size_t n);

enum {
	/* Also resolve a host name and refuse it if any of its addresses is refused. A name
	 * that does not resolve is not refused (the receiver may not be up yet). */
	HOOK_URL_RESOLVE = 1 << 0,
	HOOK_URL_ALLOW_PRIVATE = 1 << 1,
};

/* Checks an endpoint URL for the API and the command line: an absolute http or https URL
 * with a host, at most HOOK_URL_MAX bytes, no user name or password, and a host that is
 * not an address refused as above ("localhost" and names under .localhost count as
 * loopback). Returns 0, or -1 with a sentence naming the problem in why (of size n). */
int hook_url_check(const char *url, unsigned flags, char *why, size_t n);

#endif
