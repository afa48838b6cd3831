/*
 * tokenq serve: check the database, start the issuer, the event hub and the
 * HTTP server, and run until SIGTERM or SIGINT, then drain and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "domain/issuer.h"
#include "domain/printer.h"
#include "http/events.h"
#include "http/http.h"
#include "http/menu.h"
#include "http/metrics.h"
#include "http/webhooks.h"
#include "util/log.h"

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Whether the database holds a key that is not revoked. */
static bool has_active_key(struct store_conn *c)
{
	struct api_key *v;
	struct tq_error err;
	size_t n, i;
	bool any = false;

	if (store_key_list(c, &v, &n, &err) != 0)
		return true; /* unknown: no hint rather than a wrong one */
	for (i = 0; i < n; i++)
		any = any || v[i].revoked_at == 0;
	free(v);
	return any;
}

/* The façade's commit hook: new events are in the database. */
static void wake_hub(void *ctx, int venue)
{
	struct server *srv = ctx;

	if (srv->hub != NULL)
		hub_kick(srv->hub, venue);
}

/* Stops what serve started after the HTTP server, in reverse order; each step
 * is a no-op for what never started. */
static void stop_all(struct server *srv, struct tq *tq)
{
	hub_stop(srv);
	webhooks_stop(srv);
	printer_stop(tq->printer);
	issuer_stop(tq->issuer);
	tq_release(tq);
	metrics_free(srv->metrics);
	json_decref(srv->menu);
	store_free(srv->store);
}

static bool loopback_host(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0;
}

/*
 * What a new user needs next, logged after "listening": where the staff
 * console is and how to make the first key, and whether phones and
 * screens can reach the server and follow a ticket's QR code.
 */
static void first_steps(const struct config *cfg, int port, bool keys)
{
	char host[520];
	const char *h = cfg->listen_host;
	bool any = strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;

	snprintf(host, sizeof(host), "%s%s%s:%d", strchr(h, ':') ? "[" : "", any ? "127.0.0.1" : h,
	         strchr(h, ':') ? "]" : "", port);
	if (!keys)
		log_info("msg=\"no API key yet: open http://%s/staff in a browser on this machine, "
		         "or create a key in another terminal: tokenq keys create --role admin "
		         "--database %s\"",
		         host, cfg->database);
	if (loopback_host(h))
		log_warn(
		    "msg=\"listening on the loopback address only: phones, tablets and the "
		    "board's screen cannot reach it; to serve the local network use "
		    "--listen 0.0.0.0:%d and set TOKENQ_PUBLIC_URL to this machine's address\"",
		    port);
	if (cfg->public_url[0] == '\0')
		log_warn(
		    "msg=\"TOKENQ_PUBLIC_URL is not set: a ticket's QR code carries the address "
		    "its printing browser used, which a phone cannot open if that was 127.0.0.1 or "
		    "localhost; set it, e.g. TOKENQ_PUBLIC_URL=http://192.168.1.20:%d\"",
		    port);
	else {
		char ph[512];
		const char *p = strstr(cfg->public_url, "://");
		size_t n = 0;
		p = p ? p + 3 : cfg->public_url;
		while (p[n] != '\0' && p[n] != '/' && p[n] != ':' && n + 1 < sizeof(ph))
			n++;
		if (p[0] == '[') /* an IPv6 literal: up to its bracket */
			for (n = 0; p[n] != '\0' && p[n] != ']' && n + 2 < sizeof(ph); n++)
				;
		memcpy(ph, p, n);
		ph[n] = '\0';
		if (p[0] == '[' && p[n] == ']')
			ph[n++] = ']', ph[n] = '\0';
		if (loopback_host(ph))
			log_warn(
			    "msg=\"TOKENQ_PUBLIC_URL is %s, a loopback address: the QR codes on "
			    "tickets will not open on a customer's phone\"",
			    cfg->public_url);
	}
}

int cmd_serve(int argc, char **argv)
{
	const char *database = NULL, *listen = NULL;
	bool migrate = false;
	const struct cli_opt opts[] = {{"database", &database, NULL},
	                               {"listen", &listen, NULL},
	                               {"migrate", NULL, &migrate},
	                               {NULL, NULL, NULL}};
	struct config cfg;
	struct server srv;
	struct tq tq;
	struct store *s;
	struct store_conn *c;
	struct tq_error err;
	sigset_t set;
	int sig, rc, n;
	bool keys;
	json_t *menu;

	n = cli_parse(cli_command("serve"), argc, argv, opts, NULL, 0);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	if (cli_config(&cfg, database, listen) != 0)
		return EXIT_USAGE;
	if (cfg.printer[0] != '\0') {
		char perr[600];
		if (printer_check(cfg.printer, perr, sizeof(perr)) != 0)
			return cli_fail(EXIT_USAGE, "%s", perr);
	}
	/* Signals are taken by sigwait below, never by a worker thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	raise_fd_limit();
	{
		char merr[600];
		if (menu_load(cfg.menu_path, &menu, merr, sizeof(merr)) != 0)
			return cli_fail(EXIT_USAGE, "%s", merr);
	}
	if ((rc = cli_open(&cfg, migrate, &s, &c)) != EXIT_OK) {
		json_decref(menu);
		return rc;
	}
	keys = has_active_key(c);
	/* The environment's settings are the venue main's: every server sees the same. */
	if (venues_apply_env(c, &cfg, &err) != 0) {
		store_disconnect(c);
		json_decref(menu);
		store_free(s);
		return cli_fail(EXIT_RUNTIME, "cannot write the settings of the venue main: %s.",
		                err.detail);
	}
	store_disconnect(c);

	memset(&srv, 0, sizeof(srv));
	if (tq_init(&tq, &cfg, s, &err) != 0) {
		json_decref(menu);
		store_free(s);
		return cli_fail(EXIT_USAGE, "%s", err.detail);
	}
	tq.committed = wake_hub;
	tq.committed_ctx = &srv;
	srv.tq = &tq;
	srv.menu = menu;
	srv.cfg = &cfg;
	srv.store = s;
	srv.metrics = metrics_new();
	if (issuer_start(s, &tq.issuer, &err) != 0 || printer_start(&tq, &tq.printer, &err) != 0 ||
	    webhooks_start(&srv, &err) != 0 || hub_start(&srv, &err) != 0 ||
	    server_start(&srv, &err) != 0) {
		stop_all(&srv, &tq);
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	}
	log_info("msg=\"listening\" address=%s%s%s:%d database=%s version=%s",
	         strchr(cfg.listen_host, ':') ? "[" : "", cfg.listen_host,
	         strchr(cfg.listen_host, ':') ? "]" : "", server_port(&srv), store_kind(s),
	         TOKENQ_VERSION);
	first_steps(&cfg, server_port(&srv), keys);
	sigwait(&set, &sig);
	log_info("msg=\"stopping\" signal=%s", sig == SIGTERM ? "TERM" : "INT");
	server_stop(&srv);
	stop_all(&srv, &tq);
	log_info("msg=\"stopped\"");
	return EXIT_OK;
}
