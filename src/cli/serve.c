/*
 * tokenq serve: check the database, start the issuer, the event hub and the
 * HTTP server, and run until SIGTERM or SIGINT, then drain and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "domain/issuer.h"
#include "http/events.h"
#include "http/http.h"
#include "http/metrics.h"
#include "util/log.h"

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
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
	struct store *s;
	struct store_conn *c;
	struct tq_error err;
	sigset_t set;
	int sig, rc, n;

	n = cli_parse(cli_command("serve"), argc, argv, opts, NULL, 0);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	if (cli_config(&cfg, database, listen) != 0)
		return EXIT_USAGE;
	/* Signals are taken by sigwait below, never by a worker thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	raise_fd_limit();
	if ((rc = cli_open(&cfg, migrate, &s, &c)) != EXIT_OK)
		return rc;
	store_disconnect(c);

	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	srv.store = s;
	srv.metrics = metrics_new();
	if (issuer_start(s, &srv.issuer, &err) != 0 || hub_start(&srv, &err) != 0 ||
	    server_start(&srv, &err) != 0) {
		hub_stop(&srv);
		issuer_stop(srv.issuer);
		metrics_free(srv.metrics);
		store_free(s);
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	}
	log_info("msg=\"listening\" address=%s%s%s:%d database=%s version=%s",
	         strchr(cfg.listen_host, ':') ? "[" : "", cfg.listen_host,
	         strchr(cfg.listen_host, ':') ? "]" : "", server_port(&srv), store_backend(s)->name,
	         TOKENQ_VERSION);
	sigwait(&set, &sig);
	log_info("msg=\"stopping\" signal=%s", sig == SIGTERM ? "TERM" : "INT");
	server_stop(&srv);
	hub_stop(&srv);
	issuer_stop(srv.issuer);
	metrics_free(srv.metrics);
	store_free(s);
	log_info("msg=\"stopped\"");
	return EXIT_OK;
}
