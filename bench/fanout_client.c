/*
 * Event fan-out: N clients on GET /api/events, then status changes, and how
 * long until the last client has each one.
 *
 *   fanout_client PORT SERVER_PID NCLIENTS ORDER_ID...
 *
 * Opens NCLIENTS event streams (one socket each, all in one epoll loop),
 * waits for every 200, samples the server's VmRSS and Threads, then for each
 * ORDER_ID sends PATCH /api/orders/ID {"status":"PREPARING"} on a separate
 * connection and times, per socket, the arrival of the next "data:" line.
 * Prints per change the time until the last client had it, and one line:
 *   FANOUTJSON {"clients":1000,"changes":10,"last_p50_ms":..,"last_p99_ms":..,
 *               "all_p50_ms":..,"all_p99_ms":..,"missed":0,"rss_kb":..,"threads":..}
 * where last_* are over the changes' last arrivals and all_* over every
 * (socket, change) arrival.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
	int fd;
	int headers_done;
	int status;
	char head[1024];
	size_t headlen;
	char tail[8]; /* last bytes seen, to match "data:" across reads */
	size_t taillen;
	int events;
	double arrived; /* time of the latest event */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dial(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("write");
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Counts "data:" at any position of the stream, across read boundaries. */
static int count_data(struct client *c, const char *buf, size_t n)
{
	char tmp[8 + 65536];
	size_t len = 0, i;
	int k = 0;

	memcpy(tmp, c->tail, c->taillen);
	len = c->taillen;
	memcpy(tmp + len, buf, n);
	len += n;
	for (i = 0; i + 5 <= len; i++)
		if (memcmp(tmp + i, "data:", 5) == 0)
			k++;
	c->taillen = len < 4 ? len : 4;
	memcpy(c->tail, tmp + len - c->taillen, c->taillen);
	return k;
}

static void proc_status(int pid, long *rss, long *threads)
{
	char path[64], line[256];
	FILE *f;

	*rss = *threads = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "Threads:", 8) == 0)
			*threads = strtol(line + 8, NULL, 10);
	}
	fclose(f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

/* Reads from ready sockets until deadline or until every client has `want` events. */
static int pump(int ep, struct client *cl, int n, int want, double deadline)
{
	struct epoll_event evs[256];
	char buf[65536];
	int have = 0, i;

	for (i = 0; i < n; i++)
		if ((want == 0 ? cl[i].headers_done : cl[i].events >= want))
			have++;
	while (have < n && now_ms() < deadline) {
		int m = epoll_wait(ep, evs, 256, 50), j;
		for (j = 0; j < m; j++) {
			struct client *c = evs[j].data.ptr;
			ssize_t r = read(c->fd, buf, sizeof(buf));
			double t = now_ms();
			int before = want == 0 ? c->headers_done : c->events >= want;

			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				continue;
			}
			if (!c->headers_done) {
				size_t take = (size_t)r, room = sizeof(c->head) - 1 - c->headlen;
				char *end;
				if (take > room)
					take = room;
				memcpy(c->head + c->headlen, buf, take);
				c->headlen += take;
				c->head[c->headlen] = 0;
				end = strstr(c->head, "\r\n\r\n");
				if (end == NULL)
					continue;
				c->headers_done = 1;
				c->status = (int)strtol(c->head + 9, NULL, 10);
				/* what followed the headers in this read */
				{
					size_t hl = (size_t)(end + 4 - c->head);
					size_t prev = c->headlen - take;
					if (hl > prev && hl - prev < (size_t)r) {
						int k = count_data(c, buf + (hl - prev),
						                   (size_t)r - (hl - prev));
						if (k) {
							c->events += k;
							c->arrived = t;
						}
					}
				}
			} else {
				int k = count_data(c, buf, (size_t)r);
				if (k) {
					c->events += k;
					c->arrived = t;
				}
			}
			if (!before && (want == 0 ? c->headers_done : c->events >= want))
				have++;
		}
	}
	return have;
}

int main(int argc, char **argv)
{
	int port, pid, n, nchanges, i, k, ep, missed = 0, ok200 = 0;
	struct client *cl;
	double *last, *all;
	size_t nall = 0;
	long rss0, thr0, rss1, thr1, rss2, thr2;
	int patch_fd;

	if (argc < 5) {
		fprintf(stderr, "usage: fanout_client PORT SERVER_PID NCLIENTS ORDER_ID...\n");
		return 2;
	}
	port = (int)strtol(argv[1], NULL, 10);
	pid = (int)strtol(argv[2], NULL, 10);
	n = (int)strtol(argv[3], NULL, 10);
	nchanges = argc - 4;
	cl = calloc((size_t)n, sizeof(*cl));
	last = calloc((size_t)nchanges, sizeof(*last));
	all = calloc((size_t)n * (size_t)nchanges + 1, sizeof(*all));
	ep = epoll_create1(0);
	proc_status(pid, &rss0, &thr0);

	for (i = 0; i < n; i++) {
		static const char req[] = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		                          "Accept: text/event-stream\r\n\r\n";
		struct epoll_event ev = {.events = EPOLLIN};
		cl[i].fd = dial(port);
		send_all(cl[i].fd, req, sizeof(req) - 1);
		fcntl(cl[i].fd, F_SETFL, fcntl(cl[i].fd, F_GETFL) | O_NONBLOCK);
		ev.data.ptr = &cl[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
	}
	k = pump(ep, cl, n, 0, now_ms() + 30000);
	for (i = 0; i < n; i++)
		ok200 += cl[i].status == 200;
	fprintf(stderr, "fanout: %d/%d streams open (%d with 200)\n", k, n, ok200);
	/* let the server settle, then sample it with every client connected */
	pump(ep, cl, n, 1 << 30, now_ms() + 500);
	proc_status(pid, &rss1, &thr1);

	patch_fd = dial(port);
	for (k = 0; k < nchanges; k++) {
		char req[512], body[64], resp[4096];
		int blen, want = 0, have;
		double t0;
		ssize_t r;

		for (i = 0; i < n; i++)
			if (cl[i].events > want)
				want = cl[i].events;
		want++; /* every client's next event; all have seen the same so far */
		for (i = 0; i < n; i++)
			if (cl[i].events < want - 1)
				cl[i].events = want - 1;
		blen = snprintf(body, sizeof(body), "{\"status\":\"PREPARING\"}");
		snprintf(req, sizeof(req),
		         "PATCH /api/orders/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		         argv[4 + k], blen, body);
		t0 = now_ms();
		send_all(patch_fd, req, strlen(req));
		have = pump(ep, cl, n, want, t0 + 10000);
		missed += n - have;
		last[k] = 0;
		for (i = 0; i < n; i++) {
			if (cl[i].events >= want) {
				double d = cl[i].arrived - t0;
				all[nall++] = d;
				if (d > last[k])
					last[k] = d;
			}
		}
		r = read(patch_fd, resp, sizeof(resp) - 1);
		if (r > 0) {
			resp[r] = 0;
			if (strncmp(resp, "HTTP/1.1 200", 12) != 0)
				fprintf(stderr, "fanout: PATCH %s answered: %.80s\n", argv[4 + k],
				        resp);
		}
		fprintf(stderr, "fanout: change %d (order %s): %d/%d clients, last after %.1f ms\n",
		        k + 1, argv[4 + k], have, n, last[k]);
		pump(ep, cl, n, 1 << 30, now_ms() + 100);
	}
	proc_status(pid, &rss2, &thr2);
	{
		double l50 = pct(last, (size_t)nchanges, 0.5),
		       l99 = pct(last, (size_t)nchanges, 0.99);
		double a50 = pct(all, nall, 0.5), a99 = pct(all, nall, 0.99);
		printf(
		    "FANOUTJSON "
		    "{\"clients\":%d,\"streams_ok\":%d,\"changes\":%d,\"last_p50_ms\":%.1f,"
		    "\"last_p99_ms\":%.1f,\"all_p50_ms\":%.1f,\"all_p99_ms\":%.1f,\"missed\":%d,"
		    "\"rss_idle_kb\":%ld,\"rss_kb\":%ld,\"rss_after_kb\":%ld,\"threads_idle\":%ld,"
		    "\"threads\":%ld,\"threads_after\":%ld}\n",
		    n, ok200, nchanges, l50, l99, a50, a99, missed, rss0, rss1, rss2, thr0, thr1,
		    thr2);
	}
	for (i = 0; i < n; i++)
		close(cl[i].fd);
	close(patch_fd);
	return 0;
}
