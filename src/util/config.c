/*
 * Reading and checking the settings. A table names each environment
 * variable with its default and its parser, so adding a setting is one line
 * (after pgbouncer's config table).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/config.h"
#include "util/currency.h"
#include "util/tz.h"

int config_parse_database(const char *url, char *err, size_t errlen)
{
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
		return 0;
	if (strncmp(url, "sqlite:", 7) == 0 && url[7] != '\0')
		return 0;
	snprintf(err, errlen,
	         "the database URL must start with postgres://, postgresql:// or sqlite:PATH (set "
	         "--database or DATABASE_URL).");
	return -1;
}

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int config_parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err,
                        size_t errlen)
{
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			goto bad;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hostlen || parse_port(colon + 1, port) != 0)
		goto bad;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
bad:
	snprintf(err, errlen,
	         "the listen address must be HOST:PORT with a port from 1 to 65535, such as "
	         "127.0.0.1:8080 or [::1]:8080 (set --listen or TOKENQ_LISTEN).");
	return -1;
}

bool config_prefix_valid(const char *prefix)
{
	size_t n = strlen(prefix), i;

	if (n < 1 || n > 3)
		return false;
	for (i = 0; i < n; i++)
		if (prefix[i] < 'A' || prefix[i] > 'Z')
			return false;
	return true;
}

int config_parse_timezone(const char *name, char *err, size_t errlen)
{
	struct tz *z;

	/* "" would mean the system's zone to tz_open; as a setting it is no name at all. */
	if (name[0] == '\0' || tz_open(name, &z, err, errlen) != 0) {
		snprintf(err, errlen,
		         "TOKENQ_TIMEZONE \"%.200s\" is not a known IANA time zone such as "
		         "Europe/London or Asia/Kolkata.",
		         name);
		return -1;
	}
	tz_free(z);
	return 0;
}

int config_parse_day_start(const char *s, int *minutes, char *err, size_t errlen)
{
	if (strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' &&
	    s[1] <= '9' && s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9') {
		int h = (s[0] - '0') * 10 + (s[1] - '0');
		int m = (s[3] - '0') * 10 + (s[4] - '0');
		if (h <= 23) {
			*minutes = h * 60 + m;
			return 0;
		}
	}
	snprintf(err, errlen, "TOKENQ_DAY_START must be HH:MM from 00:00 to 23:59, such as 04:00.");
	return -1;
}

int config_parse_digits(const char *s, int *digits, char *err, size_t errlen)
{
	if (strlen(s) == 1 && s[0] >= '1' && s[0] <= '9') {
		*digits = s[0] - '0';
		return 0;
	}
	snprintf(err, errlen, "TOKENQ_TOKEN_DIGITS must be a whole number from 1 to 9.");
	return -1;
}

/* Code points in a UTF-8 string, or -1 when it is not valid UTF-8 or has control characters. */
static long name_length(const char *s, size_t n)
{
	long count = 0;
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		int len = c < 0x80         ? 1
		          : (c >> 5) == 6  ? 2
		          : (c >> 4) == 14 ? 3
		          : (c >> 3) == 30 ? 4
		                           : 0;
		int k;
		if (len == 0 || i + (size_t)len > n || c < 0x20 || c == 0x7f)
			return -1;
		for (k = 1; k < len; k++)
			if (((unsigned char)s[i + (size_t)k] >> 6) != 2)
				return -1;
		i += (size_t)len;
		count++;
	}
	return count;
}

int config_parse_queues(const char *spec, struct config *cfg, char *err, size_t errlen)
{
	const char *p = spec;

	cfg->nqueues = 0;
	for (;;) {
		const char *end = strchr(p, ','), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct queue_conf *q;
		long namelen;
		int i;

		eq = memchr(p, '=', len);
		if (eq == NULL || eq == p || (size_t)(eq - p) > 3)
			goto bad;
		if (cfg->nqueues == MAX_QUEUES) {
			snprintf(err, errlen, "TOKENQ_QUEUES names more than %d queues.",
			         MAX_QUEUES);
			return -1;
		}
		q = &cfg->queues[cfg->nqueues];
		memcpy(q->prefix, p, (size_t)(eq - p));
		q->prefix[eq - p] = '\0';
		namelen = name_length(eq + 1, len - (size_t)(eq - p) - 1);
		if (!config_prefix_valid(q->prefix) || namelen < 1 || namelen > 40 ||
		    memchr(eq + 1, '=', len - (size_t)(eq - p) - 1) != NULL)
			goto bad;
		memcpy(q->name, eq + 1, len - (size_t)(eq - p) - 1);
		q->name[len - (size_t)(eq - p) - 1] = '\0';
		for (i = 0; i < cfg->nqueues; i++) {
			if (strcmp(cfg->queues[i].prefix, q->prefix) == 0) {
				snprintf(err, errlen, "TOKENQ_QUEUES names the queue %s twice.",
				         q->prefix);
				return -1;
			}
		}
		cfg->nqueues++;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
bad:
	snprintf(err, errlen,
	         "TOKENQ_QUEUES must be PREFIX=Name pairs separated by commas, with a prefix of 1 "
	         "to 3 upper-case letters and a name of 1 to 40 characters without , or = (such as "
	         "A=Dine-in,B=Takeaway).");
	return -1;
}

int config_parse_currency(const char *s, char *err, size_t errlen)
{
	if (currency_valid(s))
		return 0;
	snprintf(err, errlen,
	         "TOKENQ_CURRENCY must be an ISO 4217 currency code such as USD, EUR "
	         "or INR.");
	return -1;
}

const struct queue_conf *config_queue(const struct config *cfg, const char *prefix)
{
	int i;

	for (i = 0; i < cfg->nqueues; i++)
		if (strcmp(cfg->queues[i].prefix, prefix) == 0)
			return &cfg->queues[i];
	return NULL;
}

static const char *setting(const char *flag, const char *env, const char *def)
{
	const char *v = flag;

	if (v == NULL)
		v = getenv(env);
	return v != NULL ? v : def;
}

static int parse_public_url(const char *s, struct config *cfg, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return 0;
	if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) ||
	    n >= sizeof(cfg->public_url) || strpbrk(s, " \"<>'") != NULL) {
		snprintf(err, errlen,
		         "TOKENQ_PUBLIC_URL must be an http:// or https:// address such as "
		         "https://queue.example.com.");
		return -1;
	}
	memcpy(cfg->public_url, s, n + 1);
	while (n > 0 && cfg->public_url[n - 1] == '/')
		cfg->public_url[--n] = '\0';
	return 0;
}

/* A whole number of milliseconds from lo to hi, for the webhook timings. */
static int parse_ms(const char *env, const char *def, long lo, long hi, long *out, char *err,
                    size_t errlen)
{
	const char *s = setting(NULL, env, def);
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		snprintf(err, errlen, "%s must be a whole number of milliseconds from %ld to %ld.",
		         env, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int config_load(struct config *cfg, const char *database_flag, const char *listen_flag, char *err,
                size_t errlen)
{
	const char *db = setting(database_flag, "DATABASE_URL", "sqlite:tokenq.db");
	const char *listen = setting(listen_flag, "TOKENQ_LISTEN", "127.0.0.1:8080");
	const char *tz = getenv("TOKENQ_TIMEZONE");

	memset(cfg, 0, sizeof(*cfg));
	if (config_parse_database(db, err, errlen) != 0)
		return -1;
	if (strlen(db) >= sizeof(cfg->database)) {
		snprintf(err, errlen, "the database URL is longer than %zu bytes.",
		         sizeof(cfg->database) - 1);
		return -1;
	}
	strncpy(cfg->database, db, sizeof(cfg->database) - 1);
	if (config_parse_listen(listen, cfg->listen_host, sizeof(cfg->listen_host),
	                        &cfg->listen_port, err, errlen) != 0)
		return -1;
	if (tz != NULL) {
		if (config_parse_timezone(tz, err, errlen) != 0)
			return -1;
		snprintf(cfg->timezone, sizeof(cfg->timezone), "%s", tz);
		cfg->set |= CONFIG_SET_TIMEZONE;
	}
	cfg->set |= getenv("TOKENQ_DAY_START") ? CONFIG_SET_DAY_START : 0;
	cfg->set |= getenv("TOKENQ_TOKEN_DIGITS") ? CONFIG_SET_DIGITS : 0;
	cfg->set |= getenv("TOKENQ_QUEUES") ? CONFIG_SET_QUEUES : 0;
	cfg->set |= getenv("TOKENQ_CURRENCY") ? CONFIG_SET_CURRENCY : 0;
	snprintf(cfg->queues_spec, sizeof(cfg->queues_spec), "%s",
	         setting(NULL, "TOKENQ_QUEUES", "A=Orders"));
	snprintf(cfg->currency, sizeof(cfg->currency), "USD");
	if (getenv("TOKENQ_CURRENCY") != NULL) {
		if (config_parse_currency(getenv("TOKENQ_CURRENCY"), err, errlen) != 0)
			return -1;
		snprintf(cfg->currency, sizeof(cfg->currency), "%s", getenv("TOKENQ_CURRENCY"));
	}
	if (config_parse_day_start(setting(NULL, "TOKENQ_DAY_START", "00:00"), &cfg->day_start_min,
	                           err, errlen) != 0 ||
	    config_parse_digits(setting(NULL, "TOKENQ_TOKEN_DIGITS", "3"), &cfg->token_digits, err,
	                        errlen) != 0 ||
	    config_parse_queues(setting(NULL, "TOKENQ_QUEUES", "A=Orders"), cfg, err, errlen) !=
	        0 ||
	    parse_public_url(setting(NULL, "TOKENQ_PUBLIC_URL", ""), cfg, err, errlen) != 0)
		return -1;
	{
		const char *menu = setting(NULL, "TOKENQ_MENU", "");
		if (strlen(menu) >= sizeof(cfg->menu_path)) {
			snprintf(err, errlen, "TOKENQ_MENU is longer than %zu bytes.",
			         sizeof(cfg->menu_path) - 1);
			return -1;
		}
		memcpy(cfg->menu_path, menu, strlen(menu) + 1);
	}
	if (parse_ms("TOKENQ_WEBHOOK_RETRY_BASE_MS", "5000", 10, 3600000,
	             &cfg->webhook_retry_base_ms, err, errlen) != 0 ||
	    parse_ms("TOKENQ_WEBHOOK_POLL_MS", "1000", 10, 60000, &cfg->webhook_poll_ms, err,
	             errlen) != 0 ||
	    parse_ms("TOKENQ_PRINT_RETRY_MS", "2000", 10, 60000, &cfg->print_retry_ms, err,
	             errlen) != 0)
		return -1;
	{
		const char *printer = setting(NULL, "TOKENQ_PRINTER", "");
		if (strlen(printer) >= sizeof(cfg->printer)) {
			snprintf(err, errlen, "TOKENQ_PRINTER is longer than %zu bytes.",
			         sizeof(cfg->printer) - 1);
			return -1;
		}
		memcpy(cfg->printer, printer, strlen(printer) + 1);
	}
	return 0;
}
