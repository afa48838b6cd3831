/*
 * tokenq webhooks create|list|revoke|deliveries: the endpoints events are
 * POSTed to. The signing secret is shown once, alone on stdout; the same
 * checks as POST /api/webhooks apply (domain/webhook.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/num.h"
#include "hooks/payload.h"
#include "hooks/sign.h"
#include "domain/webhook.h"
#include "util/log.h"

static void time_or(int64_t ms, const char *none, char out[32])
{
	if (ms <= 0)
		snprintf(out, 32, "%s", none);
	else
		format_rfc3339(ms, out);
}

static int create(struct store_conn *c, const struct webhook *w)
{
	char secret[HOOK_SECRET_SIZE], events[64];
	struct tq_error err;
	int64_t id;

	if (webhook_create(c, w, secret, &id, &err) != 0)
		return cli_fail(err.status == TQ_NOT_FOUND ? EXIT_USAGE : EXIT_RUNTIME, "%s.",
		                err.detail);
	printf("%s\n", secret);
	fflush(stdout);
	hook_events_format(w->events, events, sizeof(events));
	fprintf(stderr,
	        "created webhook %" PRId64 " for %s (events %s%s); the secret above is shown only "
	        "once: receivers verify deliveries with it\n",
	        id, w->url, events, w->allow_private ? ", private addresses allowed" : "");
	return EXIT_OK;
}

static int list(struct store_conn *c)
{
	struct tq_error err;
	struct webhook *v;
	size_t n, i;

	if (store_webhook_list(c, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	for (i = 0; i < n; i++) {
		char created[32], events[64];
		time_or(v[i].created_at, "-", created);
		hook_events_format(v[i].events, events, sizeof(events));
		printf("%" PRId64 "\t%s\t%s\t%s\t%s\n", v[i].id, v[i].url, events,
		       v[i].revoked_at      ? "revoked"
		       : v[i].failing_since ? "failing"
		                            : "active",
		       created);
	}
	free(v);
	return EXIT_OK;
}

static int revoke_one(struct store_conn *c, int64_t id)
{
	struct tq_error err;

	if (store_webhook_revoke(c, id, now_ms(), &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s; see `tokenq webhooks list`.", err.detail);
	fprintf(stderr, "revoked webhook %" PRId64 "; it is sent nothing more\n", id);
	return EXIT_OK;
}

static const char *state_name(enum webhook_state s)
{
	return s == WEBHOOK_DELIVERED ? "delivered" : s == WEBHOOK_GIVEN_UP ? "failed" : "pending";
}

static int deliveries(struct store_conn *c, int64_t id)
{
	struct webhook_delivery_row *v;
	struct tq_error err;
	struct webhook w;
	size_t n, i, k;

	if (store_webhook_get(c, id, &w, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s; see `tokenq webhooks list`.", err.detail);
	if (store_webhook_deliveries(c, id, 500, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	for (i = 0; i < n; i++) {
		struct event e = {.kind = v[i].kind, .status = v[i].status};
		const struct webhook_attempt_row *last =
		    v[i].n_attempt ? &v[i].attempt[v[i].n_attempt - 1] : NULL;
		char type[32], status[16];
		snprintf(status, sizeof(status), "%d", last && last->status ? last->status : 0);
		printf("%" PRId64 "\t%" PRId64 "\t%s\t%s\t%d\t%s\t%s\n", v[i].id, v[i].event_id,
		       webhook_type(&e, type), state_name(v[i].state), v[i].attempts,
		       last && last->status ? status : "-",
		       last && last->error[0] ? last->error : "-");
		for (k = 0; k < v[i].n_attempt; k++) {
			const struct webhook_attempt_row *a = &v[i].attempt[k];
			char at[32];
			format_rfc3339(a->started_at, at);
			snprintf(status, sizeof(status), "%d", a->status);
			printf("  #%d\t%s\t%s\t%" PRId64 "ms\t%s\n", a->attempt, at,
			       a->status ? status : "-", a->duration_ms,
			       a->error[0] ? a->error : "ok");
		}
	}
	store_webhook_deliveries_free(v, n);
	return EXIT_OK;
}

int cmd_webhooks(int argc, char **argv)
{
	const char *database = NULL, *events = NULL, *venue = NULL, *pos[2] = {NULL, NULL};
	bool allow_private = false;
	const struct cli_opt opts[] = {{"database", &database, NULL},
	                               {"events", &events, NULL},
	                               {"venue", &venue, NULL},
	                               {"allow-private", NULL, &allow_private},
	                               {NULL, NULL, NULL}};
	struct config cfg;
	struct store *s;
	struct store_conn *c;
	struct tq_error err;
	struct webhook w;
	int64_t id = 0;
	const char *what;
	int n, rc;

	n = cli_parse(cli_command("webhooks"), argc, argv, opts, pos, 2);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	what = n > 0 ? pos[0] : "";
	if (strcmp(what, "create") != 0 && strcmp(what, "list") != 0 &&
	    strcmp(what, "revoke") != 0 && strcmp(what, "deliveries") != 0)
		return cli_fail(EXIT_USAGE,
		                "webhooks needs create, list, revoke or deliveries; see "
		                "`tokenq webhooks --help`.");
	if (strcmp(what, "create") != 0 && (events || venue || allow_private))
		return cli_fail(EXIT_USAGE,
		                "--events, --venue and --allow-private go with webhooks "
		                "create.");
	if (strcmp(what, "list") == 0 && n != 1)
		return cli_fail(EXIT_USAGE, "webhooks list takes no other argument.");
	if (strcmp(what, "create") == 0) {
		if (n != 2)
			return cli_fail(EXIT_USAGE,
			                "webhooks create needs the URL to POST events to, "
			                "such as https://till.example.com/tokenq.");
		if (events != NULL && events[0] == '\0')
			return cli_fail(EXIT_USAGE, "--events needs a list such as token,recall.");
		if (webhook_check(pos[1], events, allow_private, venue, &w, &err) != 0)
			return cli_fail(
			    EXIT_USAGE, "%s%s.", err.detail,
			    strcmp(err.field, "url") == 0 && !allow_private &&
			            strstr(err.detail, "public") != NULL
			        ? " (add --allow-private for a receiver on this network)"
			        : "");
	}
	if (strcmp(what, "revoke") == 0 || strcmp(what, "deliveries") == 0) {
		if (n != 2 || parse_i64(pos[1], &id) != 0 || id < 1)
			return cli_fail(
			    EXIT_USAGE,
			    "webhooks %s needs the numeric id of a webhook (see `tokenq "
			    "webhooks list`).",
			    what);
	}
	if (cli_config(&cfg, database, NULL) != 0)
		return EXIT_USAGE;
	if ((rc = cli_open(&cfg, false, &s, &c)) != EXIT_OK)
		return rc;
	if (strcmp(what, "create") == 0)
		rc = create(c, &w);
	else if (strcmp(what, "list") == 0)
		rc = list(c);
	else if (strcmp(what, "revoke") == 0)
		rc = revoke_one(c, id);
	else
		rc = deliveries(c, id);
	cli_close(s, c);
	return rc;
}
