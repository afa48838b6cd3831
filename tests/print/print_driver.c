/*
 * The printing tests' driver: encodes a ticket given as JSON into ESC/POS
 * on stdout, sends it to a printer, or asks a printer's status, through the
 * same functions the server uses (src/print).
 *
 *   print_driver encode TICKET.json            bytes on stdout
 *   print_driver send ADDRESS TICKET.json [CONNECT_MS IO_MS]
 *   print_driver query ADDRESS [CONNECT_MS IO_MS]
 *   print_driver address ADDRESS               parse only
 *   print_driver map 437|858 TEXT              TEXT in the code page on stdout
 *
 * send and query print the status ("ok", "paper_out", ...) and the time
 * taken in milliseconds, and exit 0 only for "ok".
 *
 * TICKET.json: {"token", "queue", "venue", "items": [{"name", "quantity",
 * "unit_price"}], "total", "currency", "created", "note", "qr_url",
 * "codepage": 437 | 858}; the amounts' decimals are the currency's (USD
 * when it has none).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "print/escpos.h"
#include "print/transport.h"

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int encode(const char *path, struct buf *out)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *items;
	struct escpos_item *it = NULL;
	struct escpos_ticket t;
	struct raster_fonts *fonts = NULL;
	size_t i;
	int rc = -1;

	if (j == NULL) {
		fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
		return -1;
	}
	memset(&t, 0, sizeof(t));
	items = json_object_get(j, "items");
	t.nitems = json_array_size(items);
	it = calloc(t.nitems + 1, sizeof(*it));
	if (it == NULL)
		goto out;
	for (i = 0; i < t.nitems; i++) {
		json_t *e = json_array_get(items, i);

		it[i].name = str(e, "name");
		it[i].quantity = (long)json_integer_value(json_object_get(e, "quantity"));
		it[i].unit_price = json_integer_value(json_object_get(e, "unit_price"));
	}
	t.items = it;
	t.token = str(j, "token");
	t.queue_name = str(j, "queue");
	t.venue_name = str(j, "venue");
	t.total = json_integer_value(json_object_get(j, "total"));
	t.currency = str(j, "currency");
	t.created = str(j, "created");
	t.note = str(j, "note");
	t.qr_url = str(j, "qr_url");
	t.codepage = json_integer_value(json_object_get(j, "codepage")) == 437 ? CODEPAGE_CP437
	                                                                       : CODEPAGE_CP858;
	if (raster_fonts_open(&fonts, NULL) != 0)
		fprintf(stderr, "no fonts: text outside the code page cannot be printed\n");
	rc = escpos_write_ticket(&t, fonts, out);
	if (rc != 0)
		fprintf(stderr, "the ticket could not be encoded\n");
out:
	raster_fonts_free(fonts);
	free(it);
	json_decref(j);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timeouts(int argc, char **argv, int at, struct transport_timeouts *t)
{
	t->connect_ms = 0;
	t->io_ms = 0;
	if (argc > at + 1) {
		t->connect_ms = (int)strtol(argv[at], NULL, 10);
		t->io_ms = (int)strtol(argv[at + 1], NULL, 10);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct transport_addr addr;
	struct transport_timeouts to;
	struct buf b;
	char err[200];
	enum transport_status st;
	long long t0;
	int rc = 2;

	buf_init(&b, 4 << 20);
	if (argc == 3 && strcmp(argv[1], "encode") == 0) {
		if (encode(argv[2], &b) == 0 && fwrite(b.data, 1, b.len, stdout) == b.len)
			rc = 0;
		goto out;
	}
	if (argc == 4 && strcmp(argv[1], "map") == 0) {
		enum codepage p = strcmp(argv[2], "437") == 0 ? CODEPAGE_CP437 : CODEPAGE_CP858;

		if (escpos_text(&b, p, argv[3], strlen(argv[3])) == 0 &&
		    fwrite(b.data, 1, b.len, stdout) == b.len)
			rc = 0;
		goto out;
	}
	if (argc >= 3 && strcmp(argv[1], "address") == 0) {
		if (transport_addr_parse(argv[2], &addr, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		printf("%s %s %s\n", addr.is_device ? "device" : "tcp", addr.host, addr.port);
		rc = 0;
		goto out;
	}
	if ((argc == 4 || argc == 6) && strcmp(argv[1], "send") == 0) {
		if (transport_addr_parse(argv[2], &addr, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		if (encode(argv[3], &b) != 0)
			goto out;
		timeouts(argc, argv, 4, &to);
		t0 = now_ms();
		st = transport_send(&addr, b.data, b.len, &to);
		printf("%s %lld\n", transport_status_name(st), now_ms() - t0);
		rc = st == TRANSPORT_OK ? 0 : 1;
		goto out;
	}
	if ((argc == 3 || argc == 5) && strcmp(argv[1], "query") == 0) {
		if (transport_addr_parse(argv[2], &addr, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		timeouts(argc, argv, 3, &to);
		t0 = now_ms();
		st = transport_query(&addr, &to);
		printf("%s %lld\n", transport_status_name(st), now_ms() - t0);
		rc = st == TRANSPORT_OK ? 0 : 1;
		goto out;
	}
	fprintf(stderr, "usage: print_driver encode TICKET.json | send ADDRESS TICKET.json "
	                "[CONNECT_MS IO_MS] | query ADDRESS [CONNECT_MS IO_MS] | address ADDRESS | "
	                "map 437|858 TEXT\n");
out:
	buf_release(&b);
	return rc;
}
