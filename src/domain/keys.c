/*
 * API keys and who a request is from. A key is found by the sha256 of the
 * secret sent, through the database's unique index: the secret itself is
 * never compared, so the time a check takes depends only on a hash that
 * reveals nothing about any stored secret (the constant-time property a
 * byte-wise compare of secrets would need). last_used_at is written at most
 * once a minute per key, so that reads stay reads.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "domain/keys.h"
#include "domain/tq.h"
#include "util/log.h"
#include "util/sha256.h"

/* The credentials of a Bearer header (scheme case-insensitive), or NULL. */
static const char *bearer(const char *h)
{
	const char *p;

	if (h == NULL || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
		return NULL;
	for (p = h + 6; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || strlen(p) > 200 || strpbrk(p, " \t") != NULL)
		return NULL;
	return p;
}

int tq_authorize(struct tq_session *s, const char *authorization, bool loopback, enum role *role,
                 bool *all_venues, struct tq_error *err)
{
	const char *secret;
	struct api_key key;
	char hash[65];
	int found;

	*all_venues = false;
	if (authorization == NULL) {
		bool any = true;
		if (store_key_any(s->conn, &any, err) != 0)
			return -1;
		if (!any && loopback) {
			*role = ROLE_ADMIN; /* protected mode: loopback only */
			*all_venues = true;
			return 0;
		}
		if (!any)
			return tq_fail(
			    err, TQ_UNAUTHORIZED, "unauthorized", "",
			    "no API key exists yet, so only clients on this machine are "
			    "served; create one on the server with `tokenq keys create --role "
			    "admin` and send it as Authorization: Bearer KEY");
		return tq_fail(err, TQ_UNAUTHORIZED, "unauthorized", "",
		               "this route needs an API key: send Authorization: Bearer KEY");
	}
	secret = bearer(authorization);
	if (secret == NULL)
		return tq_fail(err, TQ_UNAUTHORIZED, "unauthorized", "",
		               "the Authorization header must be `Bearer KEY`");
	sha256_hex(secret, strlen(secret), hash);
	found = store_key_find(s->conn, hash, &key, err);
	if (found < 0)
		return -1;
	if (found == 0)
		return tq_fail(err, TQ_UNAUTHORIZED, "unauthorized", "",
		               "the API key is unknown or revoked");
	if (now_ms() - key.last_used_at > 60000)
		store_key_touch(s->conn, key.id, now_ms(), NULL);
	if (key.venue_id != 0 && (s->venue == NULL || key.venue_id != s->venue->id))
		return tq_fail(err, TQ_FORBIDDEN, "forbidden", "",
		               "this API key belongs to another venue");
	*role = key.role;
	*all_venues = key.venue_id == 0;
	return 0;
}

int tq_authenticate(struct tq_session *s, const char *authorization, bool loopback, enum role *role,
                    struct tq_error *err)
{
	bool all;

	return tq_authorize(s, authorization, loopback, role, &all, err);
}

int keys_generate(char secret[64], char hash[65])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[33];
	size_t got = 0;
	int i, j = 3;

	while (got < 32) {
		ssize_t n = getrandom(raw + got, 32 - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	raw[32] = 0;
	memcpy(secret, "tq_", 3);
	for (i = 0; i < 33; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
		secret[j++] = b64[(v >> 18) & 63];
		secret[j++] = b64[(v >> 12) & 63];
		secret[j++] = b64[(v >> 6) & 63];
		secret[j++] = b64[v & 63];
	}
	secret[3 + 43] = '\0';
	sha256_hex(secret, strlen(secret), hash);
	return 0;
}
