/*
 * Sending a print job to a printer: a network ESC/POS printer (tcp://HOST:
 * PORT, port 9100 by convention) or a device path (/dev/usb/lp0). Before a
 * job goes to a network printer its status is asked (DLE EOT 1: online?
 * DLE EOT 4: paper?), so a printer that is offline or out of paper is
 * reported and the job kept, not lost in the printer's buffer.
 *
 * Every call is bounded in time: at most the connect timeout to connect
 * and then at most the i/o timeout for the whole exchange (status queries
 * and job), whatever the printer does. Name resolution is not bounded by
 * these (getaddrinfo): give printers as addresses, or call from a thread
 * that may wait (the print worker, never a request handler).
 */
#ifndef TOKENQ_PRINT_TRANSPORT_H
#define TOKENQ_PRINT_TRANSPORT_H

#include <stddef.h>

enum transport_status {
	TRANSPORT_OK = 0,    /* the status was good and every byte was sent */
	TRANSPORT_OFFLINE,   /* refused, unreachable, reset, or the printer says offline */
	TRANSPORT_PAPER_OUT, /* the printer says its paper has run out */
	TRANSPORT_TIMEOUT,   /* no connection or no answer in time */
};

/* "ok", "offline", "paper_out", "timeout". */
const char *transport_status_name(enum transport_status s);

struct transport_addr {
	int is_device;
	char host[256]; /* or the device path */
	char port[6];
};

/* Parses "tcp://HOST:PORT" (HOST a name, an IPv4 address or [IPv6]) or an
 * absolute device path. Returns 0, or -1 with one sentence in err. */
int transport_addr_parse(const char *s, struct transport_addr *out, char *err, size_t errlen);

struct transport_timeouts {
	int connect_ms; /* default 2000 */
	int io_ms;      /* default 5000 */
};

/* Asks the status, then sends the n bytes of data when it is good. timeouts
 * may be NULL for the defaults. A device path gets no status query (not
 * every device driver answers): the job is written within the i/o
 * timeout. */
enum transport_status transport_send(const struct transport_addr *a, const void *data, size_t n,
                                     const struct transport_timeouts *timeouts);

/* Only the status query (network printers; a device is TRANSPORT_OK when it
 * opens). */
enum transport_status transport_query(const struct transport_addr *a,
                                      const struct transport_timeouts *timeouts);

#endif
