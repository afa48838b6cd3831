/*
 * Print jobs over TCP or to a device (see transport.h). Sockets are
 * non-blocking and every wait is a poll() against one deadline, so a
 * printer that accepts the connection and then says nothing costs the
 * caller the i/o timeout and no more.
 *
 * Status bytes (Epson's real-time status, DLE EOT n): each answer has bits
 * 1 and 4 set and bit 7 clear; for n = 1 bit 3 means offline; for n = 4
 * bits 5 and 6 mean the paper roll end sensor found no paper.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "print/transport.h"

#define DEFAULT_CONNECT_MS 2000
#define DEFAULT_IO_MS      5000
#define LINGER_MS          250 /* the most a finished job waits for the printer to close */

const char *transport_status_name(enum transport_status s)
{
	switch (s) {
	case TRANSPORT_OK:
		return "ok";
	case TRANSPORT_OFFLINE:
		return "offline";
	case TRANSPORT_PAPER_OUT:
		return "paper_out";
	case TRANSPORT_TIMEOUT:
		return "timeout";
	}
	return "unknown";
}

int transport_addr_parse(const char *s, struct transport_addr *out, char *err, size_t errlen)
{
	const char *host, *colon, *end;
	size_t hlen;
	long port = 0;

	memset(out, 0, sizeof(*out));
	if (s == NULL || s[0] == '\0') {
		snprintf(err, errlen, "the printer address is empty");
		return -1;
	}
	if (s[0] == '/') {
		if (strlen(s) >= sizeof(out->host)) {
			snprintf(err, errlen, "the printer device path is too long");
			return -1;
		}
		out->is_device = 1;
		snprintf(out->host, sizeof(out->host), "%s", s);
		return 0;
	}
	if (strncmp(s, "tcp://", 6) != 0) {
		snprintf(err, errlen,
		         "the printer address must be tcp://HOST:PORT or a device path");
		return -1;
	}
	host = s + 6;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL || end[1] != ':') {
			snprintf(err, errlen, "the printer address has a bad [IPv6] host");
			return -1;
		}
		host++;
		colon = end + 1;
	} else {
		colon = strrchr(host, ':');
		end = colon;
		if (colon == NULL || memchr(host, ':', (size_t)(colon - host)) != NULL) {
			snprintf(err, errlen, "the printer address needs a port: tcp://HOST:PORT");
			return -1;
		}
	}
	hlen = (size_t)(end - host);
	if (hlen == 0 || hlen >= sizeof(out->host) || strcspn(host, "/?# ") < hlen) {
		snprintf(err, errlen, "the printer address has a bad host");
		return -1;
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(err, errlen, "the printer port must be a number from 1 to 65535");
		return -1;
	}
	for (const char *p = colon + 1; *p; p++)
		port = port * 10 + (*p - '0');
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "the printer port must be a number from 1 to 65535");
		return -1;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	snprintf(out->port, sizeof(out->port), "%ld", port);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd p = {fd, events, 0};
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0)
			return 0;
		if (p.revents & (POLLERR | POLLNVAL))
			return -1;
		return 1; /* POLLHUP too: the read or write says what happened */
	}
}

static enum transport_status connect_tcp(const struct transport_addr *a, int connect_ms, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	enum transport_status st = TRANSPORT_OFFLINE;
	long long deadline = now_ms() + connect_ms;

	*fdp = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(a->host, a->port, &hints, &res) != 0)
		return TRANSPORT_OFFLINE;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                ai->ai_protocol);
		int err = 0, w;
		socklen_t len = sizeof(err);

		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			*fdp = fd;
			st = TRANSPORT_OK;
			break;
		}
		if (errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		w = wait_fd(fd, POLLOUT, deadline);
		if (w == 0) {
			close(fd);
			st = TRANSPORT_TIMEOUT;
			break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 && w > 0) {
			*fdp = fd;
			st = TRANSPORT_OK;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return st;
}

/* Writes all n bytes before the deadline; send() on a socket, so that a
 * printer gone away is an error (MSG_NOSIGNAL) and never SIGPIPE. */
static enum transport_status send_all(int fd, int is_socket, const unsigned char *p, size_t n,
                                      long long deadline)
{
	while (n > 0) {
		ssize_t k = is_socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return TRANSPORT_OFFLINE;
		switch (wait_fd(fd, POLLOUT, deadline)) {
		case 0:
			return TRANSPORT_TIMEOUT;
		case -1:
			return TRANSPORT_OFFLINE;
		}
	}
	return TRANSPORT_OK;
}

/* Closes a connection so the job's last bytes are not lost: unread input
 * at close() makes the kernel reset the connection and drop what is still
 * queued, and a printer may send status bytes unasked (a DLE EOT pattern
 * inside an image). So: drain, half-close, and wait briefly for the
 * printer's end. */
static void finish(int fd, long long deadline)
{
	long long linger = now_ms() + LINGER_MS;
	char sink[256];

	if (linger > deadline)
		linger = deadline;
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	if (shutdown(fd, SHUT_WR) == 0) {
		while (wait_fd(fd, POLLIN, linger) == 1 && recv(fd, sink, sizeof(sink), 0) > 0)
			;
	}
	close(fd);
}

/* Sends DLE EOT n and reads the one status byte that answers it. */
static enum transport_status ask(int fd, int n, unsigned char *byte, long long deadline)
{
	unsigned char cmd[] = {0x10, 0x04, (unsigned char)n};
	enum transport_status st = send_all(fd, 1, cmd, sizeof(cmd), deadline);

	if (st != TRANSPORT_OK)
		return st;
	for (;;) {
		ssize_t k = recv(fd, byte, 1, 0);

		if (k == 1) {
			/* Bits 1 and 4 set, 7 clear: a status byte, not a stray answer. */
			if ((*byte & 0x93) == 0x12)
				return TRANSPORT_OK;
			continue;
		}
		if (k == 0)
			return TRANSPORT_OFFLINE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return TRANSPORT_OFFLINE;
		switch (wait_fd(fd, POLLIN, deadline)) {
		case 0:
			return TRANSPORT_TIMEOUT;
		case -1:
			return TRANSPORT_OFFLINE;
		}
	}
}

static enum transport_status status(int fd, long long deadline)
{
	unsigned char b;
	enum transport_status st = ask(fd, 1, &b, deadline);

	if (st != TRANSPORT_OK)
		return st;
	if (b & 0x08) {
		/* Offline: an open cover or no paper. Ask the paper sensor which. */
		if (ask(fd, 4, &b, deadline) == TRANSPORT_OK && (b & 0x60))
			return TRANSPORT_PAPER_OUT;
		return TRANSPORT_OFFLINE;
	}
	st = ask(fd, 4, &b, deadline);
	if (st != TRANSPORT_OK)
		return st;
	return (b & 0x60) ? TRANSPORT_PAPER_OUT : TRANSPORT_OK;
}

static void defaults(const struct transport_timeouts *t, int *c, int *io)
{
	*c = t && t->connect_ms > 0 ? t->connect_ms : DEFAULT_CONNECT_MS;
	*io = t && t->io_ms > 0 ? t->io_ms : DEFAULT_IO_MS;
}

static enum transport_status to_device(const struct transport_addr *a, const void *data, size_t n,
                                       int io_ms)
{
	enum transport_status st;
	int fd = open(a->host, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return TRANSPORT_OFFLINE;
	st = send_all(fd, 0, data, n, now_ms() + io_ms);
	close(fd);
	return st;
}

enum transport_status transport_send(const struct transport_addr *a, const void *data, size_t n,
                                     const struct transport_timeouts *timeouts)
{
	enum transport_status st;
	long long deadline;
	int fd, cms, ioms;

	defaults(timeouts, &cms, &ioms);
	if (a->is_device)
		return to_device(a, data, n, ioms);
	st = connect_tcp(a, cms, &fd);
	if (st != TRANSPORT_OK)
		return st;
	deadline = now_ms() + ioms;
	st = status(fd, deadline);
	if (st == TRANSPORT_OK)
		st = send_all(fd, 1, data, n, deadline);
	if (st == TRANSPORT_OK)
		finish(fd, deadline);
	else
		close(fd);
	return st;
}

enum transport_status transport_query(const struct transport_addr *a,
                                      const struct transport_timeouts *timeouts)
{
	enum transport_status st;
	int fd, cms, ioms;

	defaults(timeouts, &cms, &ioms);
	if (a->is_device) {
		fd = open(a->host, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return TRANSPORT_OFFLINE;
		close(fd);
		return TRANSPORT_OK;
	}
	st = connect_tcp(a, cms, &fd);
	if (st != TRANSPORT_OK)
		return st;
	st = status(fd, now_ms() + ioms);
	close(fd);
	return st;
}
