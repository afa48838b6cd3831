/*
 * Text the printer's own fonts cannot print (Arabic, Hebrew, Devanagari,
 * CJK, symbols), drawn into a 1-bit image for GS v 0. Each line is split
 * into bidirectional runs (FriBidi, base direction from the first strong
 * character), each run is given the first font that has its characters and
 * is shaped by HarfBuzz, so joined and right-to-left scripts come out as
 * they are written; FreeType draws the glyphs.
 *
 * A struct raster_fonts is used by one thread at a time (FreeType faces are
 * not shared between threads): the print worker owns one.
 */
#ifndef TOKENQ_PRINT_RASTER_H
#define TOKENQ_PRINT_RASTER_H

#include <stddef.h>

/* The width of an 80 mm printer's printable line at 203 dpi. */
#define RASTER_WIDTH 576
/* The tallest image drawn: about 2 m of paper, some 400 lines of text. */
#define RASTER_MAX_HEIGHT 16384

/* A 1-bit image: row-major, stride bytes a row, the most significant bit
 * is the leftmost pixel, 1 is black (GS v 0's own layout). */
struct raster_img {
	int width;
	int height; /* a multiple of 8 */
	int stride; /* width / 8 */
	unsigned char *bits;
};

enum raster_align {
	RASTER_START, /* left for a left-to-right line, right for a right-to-left one */
	RASTER_LEFT,
	RASTER_CENTER,
	RASTER_RIGHT,
};

struct raster_fonts;

/* Opens the fonts tried in order for each character: paths is a NULL-ended
 * list of font files, or NULL for the Debian Noto fonts (Latin, Arabic,
 * Hebrew, Devanagari, CJK) and DejaVu Sans for symbols. Files that are
 * missing are skipped. Returns 0 and *out, or -1 (*out NULL) when no font
 * could be opened. Free with raster_fonts_free(). */
int raster_fonts_open(struct raster_fonts **out, const char *const *paths);
void raster_fonts_free(struct raster_fonts *f);

/* The number of fonts opened. */
int raster_fonts_count(const struct raster_fonts *f);

/* Draws the UTF-8 text s (n bytes) at px pixels a em into an image width
 * pixels wide (a multiple of 8), wrapping at spaces (or anywhere in a word
 * wider than a line) and at '\n'. On success returns 0 and fills *out
 * (release with raster_img_release()); -1 on bad UTF-8, a bad size, an
 * image taller than RASTER_MAX_HEIGHT or no memory, with *out empty.
 * Breaking lines shapes each candidate line again: keep s to what a
 * ticket holds (a note of a few hundred characters). */
int raster_text(struct raster_fonts *f, const char *s, size_t n, int px, int width,
                enum raster_align align, struct raster_img *out);

void raster_img_release(struct raster_img *img);

/* 1 when the pixel at x, y is black. */
int raster_img_get(const struct raster_img *img, int x, int y);

#endif
