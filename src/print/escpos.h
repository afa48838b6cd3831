/*
 * ESC/POS: the command language of thermal receipt printers (Epson and the
 * many printers that copy it). Each escpos_* function appends one command
 * to a byte buffer; escpos_write_ticket() writes a whole order ticket: the
 * venue, the token in double size, the items in columns, the total, the
 * time, the note, a QR code of the customer page drawn by the printer
 * itself, and a cut.
 *
 * Text goes out in one code page (CP437 or CP858). A line with a character
 * the code page lacks goes out as a raster image drawn with a real text
 * shaper and font (raster.h), never as question marks.
 *
 * Every function returns 0, or -1 when the buffer's limit was reached or the
 * arguments are out of range (then the buffer may hold part of the command;
 * a ticket that failed is to be thrown away).
 */
#ifndef TOKENQ_PRINT_ESCPOS_H
#define TOKENQ_PRINT_ESCPOS_H

#include <stddef.h>
#include <stdint.h>

#include "print/codepage.h"
#include "print/raster.h"
#include "util/buf.h"

/* Characters in a line of font A (12x24) on 80 mm paper. */
#define ESCPOS_COLUMNS 48

enum escpos_align { ESCPOS_LEFT = 0, ESCPOS_CENTER = 1, ESCPOS_RIGHT = 2 };
enum escpos_qr_level { ESCPOS_QR_L = 0, ESCPOS_QR_M = 1, ESCPOS_QR_Q = 2, ESCPOS_QR_H = 3 };

/* ESC @, then FS . (leave the two-byte character mode CJK models start in)
 * and ESC M 0 (font A). */
int escpos_init(struct buf *b);
int escpos_codepage(struct buf *b, enum codepage p);  /* ESC t n */
int escpos_align(struct buf *b, enum escpos_align a); /* ESC a n */
int escpos_bold(struct buf *b, int on);               /* ESC E n */
/* GS ! n: width and height multiples, 1..8 each. */
int escpos_size(struct buf *b, int width, int height);
/* The UTF-8 text s (n bytes) in code page p; -1 (nothing written) when a
 * character is not in p or is a control character. No line feed. */
int escpos_text(struct buf *b, enum codepage p, const char *s, size_t n);
int escpos_newline(struct buf *b);         /* LF */
int escpos_feed(struct buf *b, int lines); /* ESC d n, 0..255 */
/* GS ( k: model 2, module size 1..16 dots, error level, store the data
 * (1..7089 bytes), print. */
int escpos_qr(struct buf *b, const char *data, size_t n, int size, enum escpos_qr_level level);
/* GS v 0 in bands of at most 1024 rows (what small printers buffer). */
int escpos_raster(struct buf *b, const struct raster_img *img);
int escpos_cut(struct buf *b, int partial); /* GS V 0 | GS V 1 */

struct escpos_item {
	const char *name; /* UTF-8 */
	long quantity;
	int64_t unit_price; /* minor units */
};

struct escpos_ticket {
	const char *token;      /* "A-042" */
	const char *queue_name; /* may be NULL */
	const char *venue_name; /* may be NULL */
	const struct escpos_item *items;
	size_t nitems;
	int64_t total; /* minor units */
	/* An ISO 4217 code ("EUR", "JPY"): printed with the total, and its minor
	 * units (util/currency.h) place the decimal point of every amount.
	 * NULL or "" is USD. */
	const char *currency;
	const char *created; /* the time as it is to be printed: "2026-12-04 08:15" */
	const char *note;    /* may be NULL */
	const char *qr_url;  /* the customer page; may be NULL (no QR code) */
	enum codepage codepage;
};

/* Appends the ticket to out (the strings are read, never kept). fonts
 * draws the text the code page cannot hold; with fonts NULL such text
 * makes the call fail (-1) rather than print question marks. Also -1: no
 * token, a currency that is not an ISO 4217 code, a quantity outside
 * 1..1000000, an amount wider than its 12 columns, or out's limit reached
 * (a ticket in text is under 1 KiB, each line drawn as an image about 4 KiB
 * more). On -1 throw out away. */
int escpos_write_ticket(const struct escpos_ticket *t, struct raster_fonts *fonts, struct buf *out);

#endif
