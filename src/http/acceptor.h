/*
 * The server's listening socket and the thread that accepts on it (see
 * acceptor.c for why tokenq accepts connections itself).
 */
#ifndef TOKENQ_HTTP_ACCEPTOR_H
#define TOKENQ_HTTP_ACCEPTOR_H

#include <pthread.h>
#include <sys/socket.h>

struct MHD_Daemon;

struct acceptor {
	int fd;      /* the listening socket, or -1 */
	int wake[2]; /* a pipe: written once to stop the thread */
	pthread_t thread;
	struct MHD_Daemon *daemon; /* set while the thread runs */
};

/* Binds and listens on ss (fd and the wake pipe made); 0, or -1 with errno. */
int acceptor_listen(struct acceptor *a, const struct sockaddr_storage *ss);
/* The thread's body: pthread_create(&a->thread, NULL, acceptor_main, a) once a->daemon is set. */
void *acceptor_main(void *arg);
/* Stops the thread (when it runs) and closes the socket; new connections are refused from here. */
void acceptor_close(struct acceptor *a);

#endif
