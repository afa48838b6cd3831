/*
 * The ESC/POS commands tokenq sends, and the order ticket built from them
 * (see escpos.h). The ticket is laid out in the 48 columns of font A on 80
 * mm paper: fixed-width columns for the items, the amounts right-aligned in
 * the last 12 columns.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "print/escpos.h"
#include "util/currency.h"

#define ESC 0x1b
#define GS  0x1d
#define FS  0x1c

#define AMOUNT_COLUMNS 12
#define RASTER_PX      26 /* about the height of font A's 24-dot characters */

static int put(struct buf *b, const unsigned char *bytes, size_t n)
{
	return buf_add(b, bytes, n);
}

int escpos_init(struct buf *b)
{
	static const unsigned char cmd[] = {ESC, '@', FS, '.', ESC, 'M', 0};

	return put(b, cmd, sizeof(cmd));
}

int escpos_codepage(struct buf *b, enum codepage p)
{
	unsigned char cmd[] = {ESC, 't', (unsigned char)p};

	return put(b, cmd, sizeof(cmd));
}

int escpos_align(struct buf *b, enum escpos_align a)
{
	unsigned char cmd[] = {ESC, 'a', (unsigned char)a};

	if (a < ESCPOS_LEFT || a > ESCPOS_RIGHT)
		return -1;
	return put(b, cmd, sizeof(cmd));
}

int escpos_bold(struct buf *b, int on)
{
	unsigned char cmd[] = {ESC, 'E', on ? 1 : 0};

	return put(b, cmd, sizeof(cmd));
}

int escpos_size(struct buf *b, int width, int height)
{
	unsigned char cmd[] = {GS, '!', 0};

	if (width < 1 || width > 8 || height < 1 || height > 8)
		return -1;
	cmd[2] = (unsigned char)(((width - 1) << 4) | (height - 1));
	return put(b, cmd, sizeof(cmd));
}

int escpos_text(struct buf *b, enum codepage p, const char *s, size_t n)
{
	unsigned char bytes[CODEPAGE_MAX_BYTES];
	size_t off = 0, k, len, start = b->len;
	uint32_t c;
	int known;

	if (!codepage_fits(p, s, n))
		return -1;
	while (off < n) {
		k = codepage_utf8_next(s + off, n - off, &c);
		len = codepage_encode(p, c, bytes, &known);
		if (len > 0 && put(b, bytes, len) != 0) {
			b->len = start; /* all or nothing */
			if (b->data)
				b->data[start] = '\0';
			return -1;
		}
		off += k;
	}
	return 0;
}

int escpos_newline(struct buf *b)
{
	return buf_add(b, "\n", 1);
}

int escpos_feed(struct buf *b, int lines)
{
	unsigned char cmd[] = {ESC, 'd', (unsigned char)lines};

	if (lines < 0 || lines > 255)
		return -1;
	return put(b, cmd, sizeof(cmd));
}

int escpos_qr(struct buf *b, const char *data, size_t n, int size, enum escpos_qr_level level)
{
	const unsigned char model[] = {GS, '(', 'k', 4, 0, '1', 'A', '2', 0};
	unsigned char msize[] = {GS, '(', 'k', 3, 0, '1', 'C', (unsigned char)size};
	unsigned char ec[] = {GS, '(', 'k', 3, 0, '1', 'E', (unsigned char)('0' + level)};
	unsigned char store[] = {GS, '(', 'k', 0, 0, '1', 'P', '0'};
	const unsigned char print[] = {GS, '(', 'k', 3, 0, '1', 'Q', '0'};

	if (n == 0 || n > 7089 || size < 1 || size > 16 || level < ESCPOS_QR_L ||
	    level > ESCPOS_QR_H)
		return -1;
	store[3] = (unsigned char)((n + 3) & 0xff);
	store[4] = (unsigned char)((n + 3) >> 8);
	if (put(b, model, sizeof(model)) || put(b, msize, sizeof(msize)) ||
	    put(b, ec, sizeof(ec)) || put(b, store, sizeof(store)) || buf_add(b, data, n) ||
	    put(b, print, sizeof(print)))
		return -1;
	return 0;
}

int escpos_raster(struct buf *b, const struct raster_img *img)
{
	int y0, rows;

	if (img->width <= 0 || img->width % 8 || img->stride != img->width / 8 ||
	    img->stride > 0xffff)
		return -1;
	for (y0 = 0; y0 < img->height; y0 += rows) {
		unsigned char cmd[8] = {GS, 'v', '0', 0};

		rows = img->height - y0 > 1024 ? 1024 : img->height - y0;
		cmd[4] = (unsigned char)(img->stride & 0xff);
		cmd[5] = (unsigned char)(img->stride >> 8);
		cmd[6] = (unsigned char)(rows & 0xff);
		cmd[7] = (unsigned char)(rows >> 8);
		if (put(b, cmd, sizeof(cmd)) || put(b, img->bits + (size_t)y0 * (size_t)img->stride,
		                                    (size_t)rows * (size_t)img->stride))
			return -1;
	}
	return 0;
}

int escpos_cut(struct buf *b, int partial)
{
	unsigned char cmd[] = {GS, 'V', partial ? 1 : 0};

	return put(b, cmd, sizeof(cmd));
}

static int spaces(struct buf *b, size_t n)
{
	while (n-- > 0)
		if (buf_add(b, " ", 1) != 0)
			return -1;
	return 0;
}

/* The byte offset in s (n bytes, text that fits p) after the characters
 * that fill at most cols columns; at least one character. */
static size_t column_offset(enum codepage p, const char *s, size_t n, size_t cols)
{
	unsigned char bytes[CODEPAGE_MAX_BYTES];
	size_t off = 0, k, w, used = 0;
	uint32_t c;
	int known;

	while (off < n) {
		k = codepage_utf8_next(s + off, n - off, &c);
		w = codepage_encode(p, c, bytes, &known);
		if (off > 0 && used + w > cols)
			break;
		used += w;
		off += k ? k : 1;
	}
	return off;
}

/* The length of the first line of s (n bytes) wrapped at width columns,
 * at the last space that fits, or mid-word if none does; *skip is where
 * the next line starts (always past at least one byte). */
static size_t wrap(enum codepage p, const char *s, size_t n, size_t width, size_t *skip)
{
	size_t end = column_offset(p, s, n, width), cut;

	if (end >= n) {
		*skip = n;
		return n;
	}
	for (cut = end; cut > 0 && s[cut] != ' '; cut--)
		;
	if (cut == 0)
		cut = end;
	*skip = cut;
	while (*skip < n && s[*skip] == ' ')
		(*skip)++;
	while (cut > 0 && s[cut - 1] == ' ')
		cut--;
	return cut;
}

/* One line of text (no '\n'), wrapped at the 48 columns; or the raster
 * image of it when the code page cannot hold it. */
static int text_line(struct buf *b, const struct escpos_ticket *t, struct raster_fonts *fonts,
                     const char *s, size_t n, enum raster_align ralign)
{
	size_t len, skip;

	if (!codepage_fits(t->codepage, s, n)) {
		struct raster_img img;
		int rc;

		if (fonts == NULL ||
		    raster_text(fonts, s, n, RASTER_PX, RASTER_WIDTH, ralign, &img) != 0)
			return -1;
		rc = escpos_raster(b, &img);
		raster_img_release(&img);
		return rc;
	}
	do {
		len = wrap(t->codepage, s, n, ESCPOS_COLUMNS, &skip);
		if (escpos_text(b, t->codepage, s, len) || escpos_newline(b))
			return -1;
		s += skip;
		n -= skip;
	} while (n > 0);
	return 0;
}

/* The text s line by line: a note may hold line breaks, and only the lines
 * the code page cannot hold become images. */
static int paragraph(struct buf *b, const struct escpos_ticket *t, struct raster_fonts *fonts,
                     const char *s, enum raster_align ralign)
{
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		size_t len = n > 0 && s[n - 1] == '\r' ? n - 1 : n;

		if (len > 0 ? text_line(b, t, fonts, s, len, ralign) != 0
		            : nl != NULL && escpos_newline(b) != 0)
			return -1;
		if (nl == NULL)
			return 0;
		s = nl + 1;
	}
}

/* left padded to the line, then right flush with the last column. */
static int columns(struct buf *b, enum codepage p, const char *left, size_t nleft,
                   const char *right)
{
	size_t lc = codepage_columns(p, left, nleft),
	       rc = codepage_columns(p, right, strlen(right));
	size_t lw = ESCPOS_COLUMNS - AMOUNT_COLUMNS;

	if (lc > lw || rc > AMOUNT_COLUMNS)
		return -1;
	if (escpos_text(b, p, left, nleft) || spaces(b, lw - lc) ||
	    spaces(b, AMOUNT_COLUMNS - rc) || escpos_text(b, p, right, strlen(right)) ||
	    escpos_newline(b))
		return -1;
	return 0;
}

static int rule(struct buf *b)
{
	char line[ESCPOS_COLUMNS + 1];

	memset(line, '-', ESCPOS_COLUMNS);
	line[ESCPOS_COLUMNS] = '\n';
	return buf_add(b, line, sizeof(line));
}

static int item(struct buf *b, const struct escpos_ticket *t, struct raster_fonts *fonts,
                const struct escpos_item *it, int digits)
{
	char qty[32], amount[48], line[ESCPOS_COLUMNS * 4 + 1];
	const char *name = it->name ? it->name : "";
	size_t n = strlen(name), len, skip, lw = ESCPOS_COLUMNS - AMOUNT_COLUMNS - 1;
	size_t qlen;

	if (it->quantity < 1 || it->quantity > 1000000)
		return -1;
	snprintf(qty, sizeof(qty), "%ld x ", it->quantity);
	qlen = strlen(qty);
	currency_amount((int64_t)it->quantity * it->unit_price, digits, amount);
	if (!codepage_fits(t->codepage, name, n)) {
		/* The name as an image, then the quantity and the amount as text. */
		if (paragraph(b, t, fonts, name, RASTER_START) != 0)
			return -1;
		return columns(b, t->codepage, qty, qlen - 1, amount);
	}
	/* "2 x Name" with the name wrapped under itself, the amount on line 1. */
	len = wrap(t->codepage, name, n, lw - qlen, &skip);
	snprintf(line, sizeof(line), "%s%.*s", qty, (int)len, name);
	if (columns(b, t->codepage, line, strlen(line), amount) != 0)
		return -1;
	for (name += skip, n -= skip; n > 0; name += skip, n -= skip) {
		len = wrap(t->codepage, name, n, lw - qlen, &skip);
		if (spaces(b, qlen) || escpos_text(b, t->codepage, name, len) || escpos_newline(b))
			return -1;
	}
	return 0;
}

int escpos_write_ticket(const struct escpos_ticket *t, struct raster_fonts *fonts, struct buf *out)
{
	const char *code = t->currency && t->currency[0] ? t->currency : "USD";
	int digits = currency_minor_digits(code);
	char total[48];
	size_t i;
	int k;

	if (t->token == NULL || t->token[0] == '\0' || digits < 0)
		return -1;
	if (escpos_init(out) || escpos_codepage(out, t->codepage) ||
	    escpos_align(out, ESCPOS_CENTER))
		return -1;
	if (t->venue_name && t->venue_name[0] &&
	    (escpos_bold(out, 1) || paragraph(out, t, fonts, t->venue_name, RASTER_CENTER) ||
	     escpos_bold(out, 0)))
		return -1;
	if (t->queue_name && t->queue_name[0] &&
	    paragraph(out, t, fonts, t->queue_name, RASTER_CENTER))
		return -1;

	/* The token in double width and height (GS ! 0x11), as on the issue's
	 * tickets; one too long for that goes out in normal size. */
	k = codepage_columns(t->codepage, t->token, strlen(t->token)) * 2 <= ESCPOS_COLUMNS ? 2 : 1;
	if (escpos_size(out, k, k) || escpos_bold(out, 1) ||
	    escpos_text(out, t->codepage, t->token, strlen(t->token)) || escpos_newline(out) ||
	    escpos_bold(out, 0) || escpos_size(out, 1, 1))
		return -1;

	if (escpos_align(out, ESCPOS_LEFT) || rule(out))
		return -1;
	for (i = 0; i < t->nitems; i++)
		if (item(out, t, fonts, &t->items[i], digits) != 0)
			return -1;
	if (rule(out))
		return -1;
	currency_format(t->total, code, total); /* "EUR 18.00" */
	if (escpos_bold(out, 1) || columns(out, t->codepage, "TOTAL", 5, total) ||
	    escpos_bold(out, 0))
		return -1;
	if (t->created && t->created[0] && paragraph(out, t, fonts, t->created, RASTER_START))
		return -1;
	if (t->note && t->note[0] && paragraph(out, t, fonts, t->note, RASTER_START))
		return -1;
	if (t->qr_url && t->qr_url[0]) {
		/* A blank line above and below: the code needs its quiet zone. */
		if (escpos_newline(out) || escpos_align(out, ESCPOS_CENTER) ||
		    escpos_qr(out, t->qr_url, strlen(t->qr_url), 6, ESCPOS_QR_M) ||
		    escpos_newline(out) || escpos_align(out, ESCPOS_LEFT))
			return -1;
	}
	if (escpos_feed(out, 4) || escpos_cut(out, 1))
		return -1;
	return 0;
}
