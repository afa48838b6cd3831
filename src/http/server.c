/*
 * The HTTP server: libmicrohttpd with its internal polling threads on epoll,
 * and a small pool of worker threads that own the database connections.
 *
 * A request's life: on the first call of the access handler its route is
 * matched and its headers and query copied; its body is accumulated into a
 * bounded buffer (past 64 KiB the rest is read and dropped, and the request
 * ends in 413); when the upload is complete the connection is suspended and
 * the request queued for a worker, which runs the handler and resumes the
 * connection; the next call of the access handler queues the response. So a
 * slow database never stalls the polling threads, and many orders can wait
 * on one group commit at once.
 *
 * The route's rules (roles, body) are applied by the worker from the route
 * table before the handler runs; the listening socket is the acceptor's
 * (acceptor.c); answers are set with reply.c.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/acceptor.h"
#include "http/auth.h"
#include "http/events.h"
#include "http/http.h"
#include "http/metrics.h"
#include "util/log.h"

enum { REQ_READING, REQ_RUNNING };

struct workers {
	pthread_t threads[16];
	int n;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct req *head, *tail;
	int stopping;
	struct server *srv;
};

/* A running server's own state: nothing of it is process-wide. */
struct server_run {
	struct workers workers;
	struct acceptor acceptor;
	pthread_mutex_t inflight_lock;
	pthread_cond_t inflight_cond;
	int inflight; /* requests between on_access and on_completed */
	int stopping; /* set once SIGTERM drains the server; atomic access */
};

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	struct tq_session sess = {w->srv->tq, NULL, NULL};

	for (;;) {
		struct req *r;
		struct tq_error err;
		handler_fn fn;

		pthread_mutex_lock(&w->lock);
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->head == NULL) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		r = w->head;
		w->head = r->next;
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);

		tq_error_clear(&err);
		sess.venue = r->venue;
		if (sess.conn == NULL &&
		    store_connect_as(w->srv->store, "worker", &sess.conn, &err) != 0) {
			metrics_db_error(w->srv->metrics);
			if (r->route->db_optional)
				r->route->fn(r, &sess);
			else
				reply_problem(r, &err);
			req_finish(r);
			continue;
		}
		/* The route's roles and body rules are applied here, from the route
		 * table, before its handler runs, so no handler can forget them. A
		 * requeued request went through them already. */
		if (r->next_fn == NULL && (authorize(r, &sess) != 0 ||
		                           (r->route->body && req_json_body(r, &r->json) != 0))) {
			req_finish(r);
			continue;
		}
		/* A handler that deferred (POST /api/orders) is finished by another thread. */
		fn = r->next_fn ? r->next_fn : r->route->fn;
		r->next_fn = NULL;
		if (fn(r, &sess) == HANDLED)
			req_finish(r);
	}
	store_disconnect(sess.conn);
	return NULL;
}

static void workers_push(struct workers *w, struct req *r)
{
	pthread_mutex_lock(&w->lock);
	r->next = NULL;
	if (w->tail)
		w->tail->next = r;
	else
		w->head = r;
	w->tail = r;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int workers_start(struct workers *w, struct server *srv, int n)
{
	int i;

	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->srv = srv;
	for (i = 0; i < n && i < 16; i++) {
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			return -1;
		w->n++;
	}
	return 0;
}

static void workers_stop(struct workers *w)
{
	int i;

	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
}

void requeue(struct req *r, handler_fn fn)
{
	r->next_fn = fn;
	workers_push(&r->srv->run->workers, r);
}

void req_finish(struct req *r)
{
	MHD_resume_connection(r->conn);
}

/* ---- requests ---- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static enum MHD_Result copy_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	struct req *r = cls;
	int i;

	(void)kind;
	for (i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].name, key) == 0)
			return MHD_YES; /* the first of repeated parameters counts */
	if (r->nquery < MAX_QUERY) {
		r->query[r->nquery].name = strdup(key);
		r->query[r->nquery].value = strdup(value ? value : "");
		r->nquery++;
	}
	return MHD_YES;
}

static bool is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *a = in6->sin6_addr.s6_addr;
		static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
		                                           0, 0, 0, 0, 0xff, 0xff};
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return memcmp(a, v4mapped, 12) == 0 && a[12] == 127;
	}
	return false;
}

struct framing {
	int content_length, transfer_encoding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	(void)value;
	if (strcasecmp(key, "Content-Length") == 0)
		f->content_length++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		f->transfer_encoding++;
	return MHD_YES;
}

/* Two Content-Lengths, or one with Transfer-Encoding, make the body's end
 * ambiguous (request smuggling behind a proxy): such a request is refused. */
static bool ambiguous_framing(struct MHD_Connection *conn)
{
	struct framing f = {0, 0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	return f.content_length > 1 || (f.content_length > 0 && f.transfer_encoding > 0);
}

static struct req *req_new(struct server *srv, struct MHD_Connection *conn, const char *url,
                           const char *method)
{
	struct req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->srv = srv;
	r->conn = conn;
	r->started = mono_ms();
	snprintf(r->method, sizeof(r->method), "%s", method);
	r->path = strdup(url);
	buf_init(&r->body, BODY_MAX);
	/* A request that came through a proxy is not from a client on this
	 * machine, whatever the socket says (protected mode serves loopback only). */
	r->loopback =
	    is_loopback(conn) &&
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Forwarded") == NULL &&
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For") == NULL &&
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Real-IP") == NULL;
	r->authorization =
	    xstrdup(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"));
	r->content_type =
	    xstrdup(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"));
	r->idempotency_key =
	    xstrdup(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key"));
	r->has_idempotency_key = r->idempotency_key != NULL;
	r->last_event_id =
	    xstrdup(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID"));
	r->host = xstrdup(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"));
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, copy_query, r);
	if (ambiguous_framing(conn)) {
		struct tq_error err;
		tq_fail(&err, TQ_MALFORMED, "malformed_request", "",
		        "the request has two Content-Length headers, or one with "
		        "Transfer-Encoding");
		reply_problem(r, &err);
		reply_header(r, "Connection", "close");
	} else {
		router_match(r, url);
	}
	pthread_mutex_lock(&srv->run->inflight_lock);
	srv->run->inflight++;
	pthread_mutex_unlock(&srv->run->inflight_lock);
	return r;
}

static void req_free(struct req *r)
{
	int i;

	free(r->path);
	router_release(r);
	for (i = 0; i < r->nquery; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->authorization);
	free(r->content_type);
	free(r->idempotency_key);
	free(r->last_event_id);
	free(r->host);
	free(r->out);
	buf_release(&r->body);
	tq_new_order_release(&r->new_order);
	json_decref(r->json);
	free(r);
}

static enum MHD_Result queue_response(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int i;

	if (r->stream != NULL)
		return events_queue(r);
	resp = MHD_create_response_from_buffer(r->outlen, r->out, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	r->out = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        r->content_type_out ? r->content_type_out : "text/plain");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->route == NULL || strncmp(r->route->pattern, "/assets/", 8) != 0)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Whether a Content-Length value (digits, maybe with leading zeros) is over max. */
static bool declared_over(const char *length, unsigned long long max)
{
	unsigned long long v = 0;

	while (*length == '0')
		length++;
	for (; *length >= '0' && *length <= '9'; length++) {
		v = v * 10 + (unsigned long long)(*length - '0');
		if (v > max)
			return true;
	}
	return false;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
	struct server *srv = cls;
	struct req *r = *con_cls;
	const char *length;

	(void)version;
	if (r == NULL) {
		/* Draining: a new request on a kept-alive connection is not taken;
		 * closing the connection tells the client it was not processed. */
		if (__atomic_load_n(&srv->run->stopping, __ATOMIC_ACQUIRE))
			return MHD_NO;
		r = req_new(srv, conn, url, method);
		*con_cls = r;
		if (r == NULL)
			return MHD_NO;
		/* A body declared over the limit is never read: the request goes on
		 * at once (401/403 still come first) and ends in 413. */
		length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (length != NULL && r->status == 0 && declared_over(length, BODY_MAX)) {
			r->too_large = true;
			goto dispatch;
		}
		return MHD_YES;
	}
	if (r->status != 0 && r->state != REQ_READING) {
		*upload_size = 0; /* an answer before the body: the rest is not read */
		return queue_response(r);
	}
	if (*upload_size > 0) {
		if (!r->too_large && buf_add(&r->body, upload, *upload_size) != 0) {
			r->too_large = true;
			buf_release(&r->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->status != 0)
		return queue_response(r);
dispatch:
	r->state = REQ_RUNNING;
	if (r->route->no_database) {
		r->route->fn(r, NULL);
		return queue_response(r);
	}
	MHD_suspend_connection(conn);
	workers_push(&srv->run->workers, r);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct server *srv = cls;
	struct req *r = *con_cls;
	int64_t ms;

	(void)conn;
	if (r == NULL)
		return;
	ms = mono_ms() - r->started;
	if (r->stream == NULL) {
		log_info("method=%s route=%s status=%d duration_ms=%lld bytes=%zu%s", r->method,
		         r->route ? r->route->name : "-", r->status, (long long)ms, r->outlen,
		         toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
	}
	metrics_request(srv->metrics, r->route ? r->route->name : "unmatched", r->status, ms);
	events_release(r);
	req_free(r);
	*con_cls = NULL;
	pthread_mutex_lock(&srv->run->inflight_lock);
	srv->run->inflight--;
	pthread_cond_broadcast(&srv->run->inflight_cond);
	pthread_mutex_unlock(&srv->run->inflight_lock);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512], q[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("component=http msg=\"%s\"", log_quote(msg, q, sizeof(q)));
}

static struct server_run *run_new(void)
{
	struct server_run *run = calloc(1, sizeof(*run));

	if (run == NULL)
		return NULL;
	run->acceptor.fd = run->acceptor.wake[0] = run->acceptor.wake[1] = -1;
	pthread_mutex_init(&run->inflight_lock, NULL);
	pthread_cond_init(&run->inflight_cond, NULL);
	return run;
}

static void run_free(struct server *srv)
{
	if (srv->run == NULL)
		return;
	pthread_mutex_destroy(&srv->run->inflight_lock);
	pthread_cond_destroy(&srv->run->inflight_cond);
	free(srv->run);
	srv->run = NULL;
}

int server_start(struct server *srv, struct tq_error *err)
{
	const struct config *cfg = srv->cfg;
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_USE_ITC;
	/* One writer at a time (SQLite) needs fewer threads waiting on it. */
	struct server_run *run;
	int nworkers = store_has(srv->store, STORE_MANY_WRITERS) ? 6 : 3;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->listen_host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)cfg->listen_port);
	} else if (inet_pton(AF_INET6, cfg->listen_host,
	                     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)cfg->listen_port);
	} else if (strcmp(cfg->listen_host, "localhost") == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)cfg->listen_port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		return tq_fail(err, TQ_INVALID, "invalid_listen", "listen",
		               "the listen host must be an IPv4 or IPv6 address (or localhost), "
		               "not %s",
		               cfg->listen_host);
	}
	if (routes_check(err) != 0)
		return -1;
	if ((run = run_new()) == NULL)
		return tq_fail(err, TQ_INTERNAL, "internal", "", "out of memory");
	srv->run = run;
	if (acceptor_listen(&run->acceptor, &ss) != 0) {
		run_free(srv);
		return tq_fail(err, TQ_UNAVAILABLE, "listen_failed", "listen",
		               "cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
		               errno == EADDRINUSE ? "the address is in use" : strerror(errno));
	}
	if (workers_start(&run->workers, srv, nworkers) != 0) {
		acceptor_close(&run->acceptor);
		run_free(srv);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start worker threads");
	}
	srv->daemon = MHD_start_daemon(
	    flags | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    srv, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 8000u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		workers_stop(&run->workers);
		acceptor_close(&run->acceptor);
		run_free(srv);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start the HTTP server");
	}
	run->acceptor.daemon = srv->daemon;
	if (pthread_create(&run->acceptor.thread, NULL, acceptor_main, &run->acceptor) != 0) {
		run->acceptor.daemon = NULL;
		MHD_stop_daemon(srv->daemon);
		srv->daemon = NULL;
		workers_stop(&run->workers);
		acceptor_close(&run->acceptor);
		run_free(srv);
		return tq_fail(err, TQ_INTERNAL, "internal", "",
		               "cannot start the acceptor thread");
	}
	return 0;
}

int server_port(const struct server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (srv->run == NULL || srv->run->acceptor.fd < 0 ||
	    getsockname(srv->run->acceptor.fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void server_stop(struct server *srv)
{
	struct server_run *run = srv->run;
	int64_t deadline = mono_ms() + 8000;

	__atomic_store_n(&run->stopping, 1, __ATOMIC_RELEASE);
	acceptor_close(&run->acceptor); /* new connections are refused from here on */
	events_shutdown(srv);
	pthread_mutex_lock(&run->inflight_lock);
	while (run->inflight > 0 && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&run->inflight_cond, &run->inflight_lock, &ts);
	}
	pthread_mutex_unlock(&run->inflight_lock);
	workers_stop(&run->workers);
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
	run_free(srv);
}
