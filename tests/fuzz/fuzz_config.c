/*
 * Fuzz target: the settings parsers of src/util/config.c, each fed the
 * whole input as a string (settings arrive as environment variables and
 * flags, so they are NUL-terminated text):
 * config_parse_queues, config_parse_day_start, config_parse_database,
 * config_parse_listen, config_parse_digits, config_parse_timezone.
 *
 * Properties: every refusal writes a sentence; accepted queues have valid,
 * distinct prefixes and names of 1..40 code points without , or =; a day
 * start is 0..1439 minutes; digits 1..9; a listen port 1..65535 and a
 * non-empty host that fits; a time zone name is never a path outside the
 * zone directory.
 */
#include "domain/token.h"
#include "fuzz_common.h"
#include "util/config.h"

static void check_err(int rc, const char *err, const char *what)
{
	if (rc != 0)
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < 512, "%s refused without a sentence",
		           what);
	else
		FUZZ_CHECK(rc == 0, "%s returned %d", what, rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct config *cfg = calloc(1, sizeof(*cfg));
	char err[512], host[256];
	int rc, v, port, i, j;

	FUZZ_CHECK(cfg != NULL, "out of memory");

	err[0] = '\0';
	rc = config_parse_queues(s, cfg, err, sizeof(err));
	check_err(rc, err, "queues");
	if (rc == 0) {
		FUZZ_CHECK(cfg->nqueues >= 1 && cfg->nqueues <= MAX_QUEUES, "%d queues",
		           cfg->nqueues);
		for (i = 0; i < cfg->nqueues; i++) {
			const struct queue_conf *q = &cfg->queues[i];
			FUZZ_CHECK(token_prefix_valid(q->prefix), "prefix %s", q->prefix);
			FUZZ_CHECK(q->name[0] != '\0' && strlen(q->name) < sizeof(q->name),
			           "name of queue %s", q->prefix);
			FUZZ_CHECK(strpbrk(q->name, ",=") == NULL, "name %s has , or =", q->name);
			FUZZ_CHECK(config_queue(cfg, q->prefix) == q, "lookup of %s", q->prefix);
			for (j = 0; j < i; j++)
				FUZZ_CHECK(strcmp(cfg->queues[j].prefix, q->prefix) != 0,
				           "queue %s twice", q->prefix);
		}
	}

	err[0] = '\0';
	v = -1;
	rc = config_parse_day_start(s, &v, err, sizeof(err));
	check_err(rc, err, "day start");
	if (rc == 0)
		FUZZ_CHECK(v >= 0 && v <= 1439 && strlen(s) == 5, "day start %d from '%s'", v, s);

	err[0] = '\0';
	rc = config_parse_database(s, err, sizeof(err));
	check_err(rc, err, "database");
	if (rc == 0)
		FUZZ_CHECK(strncmp(s, "postgres", 8) == 0 || strncmp(s, "sqlite:", 7) == 0,
		           "database '%s'", s);

	err[0] = '\0';
	port = -1;
	memset(host, 0x55, sizeof(host));
	rc = config_parse_listen(s, host, sizeof(host), &port, err, sizeof(err));
	check_err(rc, err, "listen");
	if (rc == 0) {
		FUZZ_CHECK(port >= 1 && port <= 65535, "port %d", port);
		FUZZ_CHECK(memchr(host, '\0', sizeof(host)) != NULL && host[0] != '\0',
		           "host not terminated or empty");
	}

	err[0] = '\0';
	v = -1;
	rc = config_parse_digits(s, &v, err, sizeof(err));
	check_err(rc, err, "digits");
	if (rc == 0)
		FUZZ_CHECK(v >= 1 && v <= 9, "digits %d", v);

	err[0] = '\0';
	rc = config_parse_timezone(s, err, sizeof(err));
	check_err(rc, err, "timezone");
	if (rc == 0)
		FUZZ_CHECK(s[0] != '/' && strstr(s, "..") == NULL, "zone '%s' escapes", s);

	free(cfg);
	free(s);
	return 0;
}
