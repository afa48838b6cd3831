/*
 * Settings: from flags, then the environment, then defaults (the table in docs/tokenq.1,
 * ENVIRONMENT). Every parser here checks its input fully and, on failure, writes one sentence
 * naming the setting into err; callers exit 2 with it.
 */
#ifndef TOKENQ_CONFIG_H
#define TOKENQ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define MAX_QUEUES 32

struct queue_conf {
	char prefix[4]; /* 1-3 upper-case letters */
	char name[164]; /* 1-40 characters (code points) of UTF-8 */
};

/* Which of the venue main's settings the environment gave (config.set). */
enum {
	CONFIG_SET_TIMEZONE = 1u << 0,
	CONFIG_SET_DAY_START = 1u << 1,
	CONFIG_SET_DIGITS = 1u << 2,
	CONFIG_SET_QUEUES = 1u << 3,
	CONFIG_SET_CURRENCY = 1u << 4,
};

struct config {
	char database[1024];
	char listen_host[256];
	int listen_port;
	char timezone[256]; /* IANA name, or "" for the system's */
	int day_start_min;  /* minutes after local midnight */
	int token_digits;
	struct queue_conf queues[MAX_QUEUES];
	int nqueues;
	char public_url[512]; /* TOKENQ_PUBLIC_URL, or "" to use the request's Host */
	char menu_path[1024]; /* TOKENQ_MENU: a JSON file of items and prices, or "" */
	/* Webhook timing, for tests and impatient receivers: the first retry's ceiling
	 * (TOKENQ_WEBHOOK_RETRY_BASE_MS, default 5000) and the outbox poll
	 * (TOKENQ_WEBHOOK_POLL_MS, default 1000). */
	long webhook_retry_base_ms;
	long webhook_poll_ms;
	/* TOKENQ_PRINTER: tcp://HOST:PORT or a device path, or "" for none (its
	 * form is checked by serve, which prints: print/transport.h); and the wait
	 * before trying a job again while the printer is away
	 * (TOKENQ_PRINT_RETRY_MS, default 2000). */
	char printer[512];
	long print_retry_ms;
	/* TOKENQ_CURRENCY: an ISO 4217 code, "USD" by default. */
	char currency[4];
	/* CONFIG_SET_* bits: the venue main's settings given in the environment,
	 * which serve writes to the database; the others keep the stored value. */
	unsigned set;
	/* The spec TOKENQ_QUEUES was given as, when set. */
	char queues_spec[6144];
};

/*
 * Fills cfg from the flags given (NULL when absent), the environment and the
 * defaults. Nothing process-wide is touched: the time zone is a name here,
 * loaded by the venue that uses it (domain/venue.h). Returns 0, or -1 with
 * err set.
 */
int config_load(struct config *cfg, const char *database_flag, const char *listen_flag, char *err,
                size_t errlen);

/* The parsers config_load uses, one per setting. Each returns 0 or -1 with err. */
int config_parse_database(const char *url, char *err, size_t errlen);
int config_parse_listen(const char *s, char *host, size_t hostlen, int *port, char *err,
                        size_t errlen);
int config_parse_timezone(const char *name, char *err, size_t errlen);
int config_parse_day_start(const char *s, int *minutes, char *err, size_t errlen);
int config_parse_digits(const char *s, int *digits, char *err, size_t errlen);
int config_parse_queues(const char *spec, struct config *cfg, char *err, size_t errlen);
/* A currency: three upper-case letters naming an ISO 4217 currency. */
int config_parse_currency(const char *s, char *err, size_t errlen);

/* A queue prefix is 1 to 3 upper-case ASCII letters. */
bool config_prefix_valid(const char *prefix);

/* The queue with this prefix, or NULL. */
const struct queue_conf *config_queue(const struct config *cfg, const char *prefix);

#endif
