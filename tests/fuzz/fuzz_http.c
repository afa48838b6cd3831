/*
 * Fuzz target: raw request bytes to the real HTTP server, in-process.
 *
 * LLVMFuzzerInitialize starts the whole server the way `tokenq serve` does
 * (src/cli/serve.c): a fresh SQLite file in a temporary directory (on
 * /dev/shm when there is one), migrated, then the issuer, the event hub and
 * libmicrohttpd on 127.0.0.1 with an ephemeral port. No API key exists, so
 * the loopback client reaches every route (protected mode), and three
 * queues are configured (A, B, TX).
 *
 * Each input is written to a new loopback connection, the write side is
 * shut down, and the answer is read until the server closes or a short
 * deadline passes (an event stream never ends by itself). Then GET /healthz
 * on a fresh connection must answer 200: a request that wedges the server,
 * a worker or the database connection is a failure, as is anything the
 * sanitizers see on any of the server's threads. An answer must start with
 * "HTTP/1." when there is one.
 *
 * The server's own log lines go to stderr; run with -close_fd_mask=2 (run.sh
 * does) to keep the fuzzer's output readable: sanitizer reports still show.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "domain/issuer.h"
#include "fuzz_common.h"
#include "http/events.h"
#include "http/http.h"
#include "http/metrics.h"
#include "store/migrate.h"
#include "util/config.h"

static struct config cfg;
static struct server srv;
static int port;
static char dir[256], dbpath[300];

static long long now_ms_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cleanup(void)
{
	char p[400];

	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	rmdir(dir);
}

/* Removes the directories of earlier runs that died without their atexit
 * (a sanitizer abort): their names carry the pid, which is gone. */
static void prune(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char p[512], q[600];
		long pid;
		if (strncmp(e->d_name, "tokenq-fuzz-http.", 17) != 0)
			continue;
		pid = strtol(e->d_name + 17, NULL, 10);
		if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof(p), "%s/%s", base, e->d_name);
		snprintf(q, sizeof(q), "%s/fuzz.db", p);
		unlink(q);
		snprintf(q, sizeof(q), "%s/fuzz.db-wal", p);
		unlink(q);
		snprintf(q, sizeof(q), "%s/fuzz.db-shm", p);
		unlink(q);
		rmdir(p);
	}
	closedir(d);
}

__attribute__((noreturn)) static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_http: %s: %s\n", what, detail);
	exit(1);
}

static struct tq tq;

/* As serve does: commits wake the event hub. */
static void wake_hub(void *ctx, int venue)
{
	struct server *sv = ctx;

	if (sv->hub != NULL)
		hub_kick(sv->hub, venue);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct store_conn *c;
	struct tq_error err;
	char msg[512], url[400];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	prune(base);
	snprintf(dir, sizeof(dir), "%s/tokenq-fuzz-http.%ld.XXXXXX", base, (long)getpid());
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s/fuzz.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", dbpath);
	atexit(cleanup);
	setenv("TOKENQ_TIMEZONE", "UTC", 1);
	setenv("TOKENQ_QUEUES", "A=Dine-in,B=Takeaway,TX=Tax desk", 1);
	setenv("TOKENQ_TOKEN_DIGITS", "3", 1);
	unsetenv("TOKENQ_DAY_START");
	unsetenv("TOKENQ_PUBLIC_URL");
	unsetenv("TOKENQ_FAULT");
	/* A short stall limit so that event streams this harness leaves behind go soon. */
	setenv("TOKENQ_STREAM_STALL_MS", "1000", 1);
	if (config_load(&cfg, url, "127.0.0.1:1", msg, sizeof(msg)) != 0)
		die("config", msg);
	cfg.listen_port = 0; /* ephemeral; read back below */

	memset(&srv, 0, sizeof(srv));
	srv.cfg = &cfg;
	if (store_open(cfg.database, &srv.store, &err) != 0 ||
	    store_connect(srv.store, &c, &err) != 0)
		die("database", err.detail);
	if (migrate_for_serve(c, true, &err) != 0)
		die("migrate", err.detail);
	if (venues_apply_env(c, &cfg, &err) != 0) /* as serve does: the queues above are main's */
		die("venue", err.detail);
	store_disconnect(c);
	if (tq_init(&tq, &cfg, srv.store, &err) != 0)
		die("venue", err.detail);
	tq.committed = wake_hub;
	tq.committed_ctx = &srv;
	srv.tq = &tq;
	srv.metrics = metrics_new();
	if (issuer_start(srv.store, &tq.issuer, &err) != 0 || hub_start(&srv, &err) != 0 ||
	    server_start(&srv, &err) != 0)
		die("start", err.detail);
	port = server_port(&srv);
	if (port == 0)
		die("start", "no port");
	fprintf(stderr, "fuzz_http: server on 127.0.0.1:%d, database %s\n", port, dbpath);
	return 0;
}

static int dial(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Writes what the server takes; it may close early (413, a bad request line). */
static void send_all(int fd, const uint8_t *p, size_t n, long long deadline)
{
	while (n > 0 && now_ms_mono() < deadline) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = {fd, POLLOUT, 0};
			poll(&pf, 1, 50);
			/* The server may be waiting for us to read its answer first. */
			{
				char sink[4096];
				while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
					;
			}
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else {
			return;
		}
	}
}

/* Reads until EOF or the deadline; returns bytes read, first bytes in head. */
static size_t read_answer(int fd, char *head, size_t headlen, long long deadline)
{
	size_t total = 0;

	for (;;) {
		long long left = deadline - now_ms_mono();
		struct pollfd pf = {fd, POLLIN, 0};
		char b[8192];
		ssize_t n;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		n = recv(fd, b, sizeof(b), 0);
		if (n <= 0)
			break;
		if (total < headlen) {
			size_t k = (size_t)n < headlen - total ? (size_t)n : headlen - total;
			memcpy(head + total, b, k);
		}
		total += (size_t)n;
	}
	return total;
}

static void check_healthy(void)
{
	static const char req[] =
	    "GET /healthz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";
	char head[64];
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		int fd = dial();
		size_t n;
		if (fd < 0) {
			usleep(100000);
			continue;
		}
		send_all(fd, (const uint8_t *)req, sizeof(req) - 1, now_ms_mono() + 5000);
		memset(head, 0, sizeof(head));
		n = read_answer(fd, head, sizeof(head) - 1, now_ms_mono() + 10000);
		close(fd);
		if (n >= 12 && strncmp(head, "HTTP/1.1 200", 12) == 0)
			return;
		fprintf(stderr, "fuzz_http: /healthz answered %zu bytes: %.40s\n", n, head);
	}
	FUZZ_CHECK(0, "the server no longer answers GET /healthz with 200");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char head[16];
	size_t n;
	int fd;

	if (size > 200000)
		return 0;
	fd = dial();
	FUZZ_CHECK(fd >= 0, "cannot connect to the server: %s", strerror(errno));
	send_all(fd, data, size, now_ms_mono() + 2000);
	/* The end of input on its own: libmicrohttpd (0.9.75, epoll) may miss a
	 * FIN that arrives with the last bytes of an incomplete request. */
	usleep(2000);
	shutdown(fd, SHUT_WR);
	memset(head, 0, sizeof(head));
	n = read_answer(fd, head, sizeof(head) - 1, now_ms_mono() + 250);
	close(fd);
	if (n >= 7)
		FUZZ_CHECK(strncmp(head, "HTTP/1.", 7) == 0, "answer starts with '%.15s'", head);
	check_healthy();
	return 0;
}
