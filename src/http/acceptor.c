/*
 * The listening socket is tokenq's own: an acceptor thread accepts and hands
 * each connection to libmicrohttpd. Stopping closes it, so new connections
 * are refused at once while requests in flight drain. (MHD_quiesce_daemon()
 * would do the same, but on epoll with a thread pool it races the polling
 * threads for the listen socket and can abort the process.)
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/acceptor.h"
#include "util/log.h"

void *acceptor_main(void *arg)
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

int acceptor_listen(struct acceptor *a, const struct sockaddr_storage *ss)
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

void acceptor_close(struct acceptor *a)
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
