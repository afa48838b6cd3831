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
 * The listening socket is tokenq's own: an acceptor thread accepts and hands
 * each connection to libmicrohttpd. Stopping closes it, so new connections
 * are refused at once while requests in flight drain. (MHD_quiesce_daemon()
 * would do the same, but on epoll with a thread pool it races the polling
 * threads for the listen socket and can abort the process.)
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

static struct workers workers;
static pthread_mutex_t inflight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_cond = PTHREAD_COND_INITIALIZER;
static int inflight;
static int stopping; /* set once SIGTERM drains the server; atomic access */

struct acceptor {
	int fd;      /* the listening socket */
	int wake[2]; /* a pipe: written once to stop the thread */
	pthread_t thread;
	struct MHD_Daemon *daemon;
};

static struct acceptor acceptor = {.fd = -1, .wake = {-1, -1}};

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct workers *w = arg;
	struct store_conn *conn = NULL;

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
		if (conn == NULL && store_connect_as(w->srv->store, "worker", &conn, &err) != 0) {
			metrics_db_error(w->srv->metrics);
			if (r->route->db_optional)
				r->route->fn(r, NULL);
			else
				reply_problem(r, &err);
			req_finish(r);
			continue;
		}
		/* The route's roles are checked here, before its handler runs, so no
		 * handler can forget them. A requeued request was checked already. */
		if (r->next_fn == NULL && authorize(r, conn) != 0) {
			req_finish(r);
			continue;
		}
		/* A handler that deferred (POST /api/orders) is finished by another thread. */
		fn = r->next_fn ? r->next_fn : r->route->fn;
		r->next_fn = NULL;
		if (fn(r, conn) == HANDLED)
			req_finish(r);
	}
	store_disconnect(conn);
	return NULL;
}

static void workers_push(struct req *r)
{
	pthread_mutex_lock(&workers.lock);
	r->next = NULL;
	if (workers.tail)
		workers.tail->next = r;
	else
		workers.head = r;
	workers.tail = r;
	pthread_cond_signal(&workers.cond);
	pthread_mutex_unlock(&workers.lock);
}

static int workers_start(struct server *srv, int n)
{
	int i;

	memset(&workers, 0, sizeof(workers));
	pthread_mutex_init(&workers.lock, NULL);
	pthread_cond_init(&workers.cond, NULL);
	workers.srv = srv;
	for (i = 0; i < n && i < 16; i++) {
		if (pthread_create(&workers.threads[i], NULL, worker_main, &workers) != 0)
			return -1;
		workers.n++;
	}
	return 0;
}

static void workers_stop(void)
{
	int i;

	pthread_mutex_lock(&workers.lock);
	workers.stopping = 1;
	pthread_cond_broadcast(&workers.cond);
	pthread_mutex_unlock(&workers.lock);
	for (i = 0; i < workers.n; i++)
		pthread_join(workers.threads[i], NULL);
	pthread_mutex_destroy(&workers.lock);
	pthread_cond_destroy(&workers.cond);
}

void requeue(struct req *r, handler_fn fn)
{
	r->next_fn = fn;
	workers_push(r);
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

const char *req_query(const struct req *r, const char *name)
{
	int i;

	for (i = 0; i < r->nquery; i++)
		if (r->query[i].name && strcmp(r->query[i].name, name) == 0)
			return r->query[i].value;
	return NULL;
}

int64_t req_path_id(const struct req *r)
{
	int64_t id = 0;

	if (r->nparams > 0)
		parse_i64(r->params[0], &id);
	return id;
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

/* Matches path against a pattern; fills the {..} captures. */
static bool match(const char *pattern, const char *path, struct req *r)
{
	const char *p = pattern, *s = path;
	int n = 0;

	while (*p && *s) {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t len = strcspn(s, "/");
			bool digits = strncmp(p, "{id}", 4) == 0;
			size_t i;
			if (len == 0 || len > 200 || n == 3)
				return false;
			for (i = 0; digits && i < len; i++)
				if (s[i] < '0' || s[i] > '9')
					return false;
			if (digits && len > 18)
				return false;
			if (r != NULL)
				r->params[n] = strndup(s, len);
			n++;
			p = pend + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			return false;
		p++, s++;
	}
	if (r != NULL)
		r->nparams = n;
	return *p == '\0' && *s == '\0';
}

static void free_params(struct req *r)
{
	int i;

	for (i = 0; i < 3; i++) {
		free(r->params[i]);
		r->params[i] = NULL;
	}
	r->nparams = 0;
}

/* Routes the request: sets r->route, or answers 404/405 right away. */
static void route(struct req *r, const char *path)
{
	char allow[128] = "";
	const struct route *rt;
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	struct tq_error err;

	for (rt = routes; rt->method != NULL; rt++) {
		if (!match(rt->pattern, path, NULL))
			continue;
		if (strcmp(rt->method, method) == 0) {
			match(rt->pattern, path, r);
			r->route = rt;
			return;
		}
		if (strstr(allow, rt->method) == NULL) {
			size_t len = strlen(allow);
			snprintf(allow + len, sizeof(allow) - len, "%s%s", len ? ", " : "",
			         rt->method);
			if (strcmp(rt->method, "GET") == 0) {
				len = strlen(allow);
				snprintf(allow + len, sizeof(allow) - len, ", HEAD");
			}
		}
	}
	if (allow[0] != '\0') {
		tq_fail(&err, TQ_METHOD, "method_not_allowed", "", "%s is not allowed here; use %s",
		        r->method, allow);
		reply_problem(r, &err);
		reply_header(r, "Allow", allow);
	} else {
		tq_fail(&err, TQ_NOT_FOUND, "not_found", "", "there is nothing at this address");
		reply_problem(r, &err);
	}
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
		route(r, url);
	}
	pthread_mutex_lock(&inflight_lock);
	inflight++;
	pthread_mutex_unlock(&inflight_lock);
	return r;
}

static void req_free(struct req *r)
{
	int i;

	free(r->path);
	free_params(r);
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
	order_input_release(&r->order);
	free(r);
}

/* ---- responses ---- */

void reply(struct req *r, int status, const char *content_type, char *body, size_t len)
{
	free(r->out);
	r->status = status;
	r->content_type_out = content_type;
	r->out = body;
	r->outlen = len;
}

void reply_json(struct req *r, int status, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(body);
	if (s == NULL) {
		struct tq_error err;
		tq_fail(&err, TQ_INTERNAL, "internal", "", "out of memory");
		reply_problem(r, &err);
		return;
	}
	reply(r, status, "application/json; charset=utf-8", s, strlen(s));
}

void reply_header(struct req *r, const char *name, const char *value)
{
	if (r->nheaders == MAX_HEADERS)
		return;
	r->headers[r->nheaders].name = strdup(name);
	r->headers[r->nheaders].value = strdup(value);
	r->nheaders++;
}

static const char *title_for(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 503:
		return "Service Unavailable";
	case 507:
		return "Insufficient Storage";
	default:
		return "Internal Server Error";
	}
}

int http_status_for(enum tq_status s)
{
	switch (s) {
	case TQ_OK:
		return 200;
	case TQ_MALFORMED:
		return 400;
	case TQ_UNAUTHORIZED:
		return 401;
	case TQ_FORBIDDEN:
		return 403;
	case TQ_NOT_FOUND:
		return 404;
	case TQ_METHOD:
		return 405;
	case TQ_CONFLICT:
		return 409;
	case TQ_TOO_LARGE:
		return 413;
	case TQ_MEDIA_TYPE:
		return 415;
	case TQ_INVALID:
		return 422;
	case TQ_UNAVAILABLE:
		return 503;
	case TQ_STORAGE_FULL:
		return 507;
	case TQ_INTERNAL:
		break;
	}
	return 500;
}

void reply_problem(struct req *r, const struct tq_error *err)
{
	int status = http_status_for(err->status);
	const char *code = err->code, *detail = err->detail;
	json_t *p;
	char *s;

	/* Database trouble is told by its kind; its internals go to the log only. */
	if (err->status == TQ_UNAVAILABLE) {
		code = "database_unavailable";
		detail = "the database cannot be reached now; try again shortly";
	} else if (err->status == TQ_STORAGE_FULL) {
		code = "storage_full";
		detail = "the database has no room to store this now; try again later";
	} else if (err->status == TQ_INTERNAL) {
		code = "internal_error";
		detail = "the server failed to handle this request";
	}
	if (detail != err->detail) {
		char q[300];
		log_error("msg=\"request failed\" route=%s error=\"%s\"",
		          r->route ? r->route->name : "-", log_quote(err->detail, q, sizeof(q)));
	}
	p = json_pack("{s:i, s:s, s:s, s:s}", "status", status, "title", title_for(status), "code",
	              code ? code : "error", "detail", detail);
	if (p != NULL && err->field[0] != '\0')
		json_object_set_new(p, "field", json_string(err->field));
	s = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(p);
	if (s == NULL)
		s = strdup(
		    "{\"status\":500,\"title\":\"Internal Server Error\",\"code\":\"internal_"
		    "error\",\"detail\":\"out of memory\"}");
	reply(r, status, "application/problem+json", s, s ? strlen(s) : 0);
	if (status == 503 || status == 507) {
		reply_header(r, "Retry-After", "2");
		metrics_db_error(r->srv->metrics);
	}
	if (status == 401)
		reply_header(r, "WWW-Authenticate", "Bearer realm=\"tokenq\"");
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
		if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
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
	workers_push(r);
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
	pthread_mutex_lock(&inflight_lock);
	inflight--;
	pthread_cond_broadcast(&inflight_cond);
	pthread_mutex_unlock(&inflight_lock);
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

/* ---- the listening socket ---- */

static void *acceptor_main(void *arg)
{
	struct acceptor *a = arg;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = a->fd, .events = POLLIN},
		                        {.fd = a->wake[0], .events = POLLIN}};
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("component=http msg=\"poll on the listening socket failed\" "
			          "error=\"%s\"",
			          strerror(errno));
			return NULL;
		}
		if (pfd[1].revents != 0)
			return NULL;
		fd = accept4(a->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: let connections close before trying again. */
				log_warn("component=http msg=\"cannot accept a connection\" "
				         "error=\"%s\"",
				         strerror(errno));
				poll(&pfd[1], 1, 100);
			}
			continue; /* EAGAIN, ECONNABORTED, EINTR and the like */
		}
		/* On failure MHD closes the socket itself. */
		(void)MHD_add_connection(a->daemon, fd, (struct sockaddr *)&peer, len);
	}
}

static int acceptor_listen(struct acceptor *a, const struct sockaddr_storage *ss)
{
	socklen_t len =
	    ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int on = 1;

	a->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return -1;
	(void)setsockopt(a->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss->ss_family == AF_INET6)
		(void)setsockopt(a->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(a->fd, (const struct sockaddr *)ss, len) != 0 || listen(a->fd, 1024) != 0 ||
	    pipe2(a->wake, O_CLOEXEC) != 0) {
		int e = errno;
		close(a->fd);
		a->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

static void acceptor_close(struct acceptor *a)
{
	if (a->wake[1] >= 0) {
		if (a->daemon != NULL) {
			ssize_t n;
			do
				n = write(a->wake[1], "x", 1);
			while (n < 0 && errno == EINTR);
			pthread_join(a->thread, NULL);
			a->daemon = NULL;
		}
		close(a->wake[0]);
		close(a->wake[1]);
		a->wake[0] = a->wake[1] = -1;
	}
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
}

int server_start(struct server *srv, struct tq_error *err)
{
	const struct config *cfg = srv->cfg;
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_USE_ITC;
	int nworkers = strcmp(store_backend(srv->store)->name, "sqlite") == 0 ? 3 : 6;

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
	if (acceptor_listen(&acceptor, &ss) != 0)
		return tq_fail(err, TQ_UNAVAILABLE, "listen_failed", "listen",
		               "cannot listen on %s:%d: %s", cfg->listen_host, cfg->listen_port,
		               errno == EADDRINUSE ? "the address is in use" : strerror(errno));
	if (workers_start(srv, nworkers) != 0) {
		acceptor_close(&acceptor);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start worker threads");
	}
	srv->daemon = MHD_start_daemon(
	    flags | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    srv, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 8000u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		workers_stop();
		acceptor_close(&acceptor);
		return tq_fail(err, TQ_INTERNAL, "internal", "", "cannot start the HTTP server");
	}
	acceptor.daemon = srv->daemon;
	if (pthread_create(&acceptor.thread, NULL, acceptor_main, &acceptor) != 0) {
		acceptor.daemon = NULL;
		MHD_stop_daemon(srv->daemon);
		srv->daemon = NULL;
		workers_stop();
		acceptor_close(&acceptor);
		return tq_fail(err, TQ_INTERNAL, "internal", "",
		               "cannot start the acceptor thread");
	}
	return 0;
}

int server_port(const struct server *srv)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	(void)srv;
	if (acceptor.fd < 0 || getsockname(acceptor.fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void server_stop(struct server *srv)
{
	int64_t deadline = mono_ms() + 8000;

	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	acceptor_close(&acceptor); /* new connections are refused from here on */
	events_shutdown(srv);
	pthread_mutex_lock(&inflight_lock);
	while (inflight > 0 && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&inflight_cond, &inflight_lock, &ts);
	}
	pthread_mutex_unlock(&inflight_lock);
	workers_stop();
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
}
