/*
 * Shaped text into 1-bit images (see raster.h). A line goes through four
 * steps: FriBidi gives each character its embedding level; characters are
 * grouped into runs of one level and one font; the runs are put into visual
 * order (rule L2 of the bidirectional algorithm: from the highest level
 * down, reverse every sequence at that level or above); each run is shaped
 * by HarfBuzz with the whole line as context (so Arabic letters join across
 * a change of font) and drawn with FreeType into an 8-bit coverage canvas,
 * which is cut to 1 bit at half coverage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include <fribidi.h>
#include <hb-ft.h>
#include <hb.h>

#include "print/codepage.h"
#include "print/raster.h"

#define MAX_FONTS 12

struct raster_fonts {
	FT_Library lib;
	int n;
	FT_Face face[MAX_FONTS];
	hb_font_t *hb[MAX_FONTS];
	int px; /* the size the faces are set to, 0 before the first use */
};

static const char *const default_fonts[] = {
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    NULL,
};

/* One run: characters [start, end) of the line at one level in one font. */
struct run {
	int start, end;
	int level;
	int font;
};

/* A laid-out line: its runs in visual order and their shaped glyphs. */
struct line {
	struct run *runs;
	int nruns;
	hb_buffer_t **bufs;
	int width; /* pixels */
	int ascent, descent;
	int rtl; /* base direction */
};

int raster_fonts_open(struct raster_fonts **out, const char *const *paths)
{
	struct raster_fonts *f;
	int i;

	*out = NULL;
	if (paths == NULL)
		paths = default_fonts;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	if (FT_Init_FreeType(&f->lib) != 0) {
		free(f);
		return -1;
	}
	for (i = 0; paths[i] != NULL && f->n < MAX_FONTS; i++) {
		FT_Face face;

		if (FT_New_Face(f->lib, paths[i], 0, &face) != 0)
			continue;
		f->face[f->n] = face;
		f->hb[f->n] = hb_ft_font_create_referenced(face);
		f->n++;
	}
	if (f->n == 0) {
		raster_fonts_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void raster_fonts_free(struct raster_fonts *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		hb_font_destroy(f->hb[i]);
		FT_Done_Face(f->face[i]);
	}
	FT_Done_FreeType(f->lib);
	free(f);
}

int raster_fonts_count(const struct raster_fonts *f)
{
	return f ? f->n : 0;
}

static int set_size(struct raster_fonts *f, int px)
{
	int i;

	if (f->px == px)
		return 0;
	for (i = 0; i < f->n; i++) {
		if (FT_Set_Pixel_Sizes(f->face[i], 0, (FT_UInt)px) != 0)
			return -1;
		hb_ft_font_changed(f->hb[i]);
	}
	f->px = px;
	return 0;
}

static int font_for(const struct raster_fonts *f, uint32_t c, int prev)
{
	hb_script_t sc = hb_unicode_script(hb_unicode_funcs_get_default(), c);
	int i;

	/* Spaces, digits and punctuation stay in the font of their neighbours. */
	if (prev >= 0 && (sc == HB_SCRIPT_COMMON || sc == HB_SCRIPT_INHERITED) &&
	    FT_Get_Char_Index(f->face[prev], c) != 0)
		return prev;
	for (i = 0; i < f->n; i++)
		if (FT_Get_Char_Index(f->face[i], c) != 0)
			return i;
	return prev >= 0 ? prev : 0; /* nobody has it: the first font's box */
}

static void line_free(struct line *l)
{
	int i;

	for (i = 0; i < l->nruns; i++)
		hb_buffer_destroy(l->bufs[i]);
	free(l->bufs);
	free(l->runs);
	memset(l, 0, sizeof(*l));
}

/* Lays out characters [start, end) of the paragraph text (len characters). */
static int line_layout(struct raster_fonts *f, const uint32_t *text, int len, int start, int end,
                       struct line *l)
{
	FriBidiCharType *types = NULL;
	FriBidiBracketType *brackets = NULL;
	FriBidiLevel *levels = NULL;
	FriBidiParType base = FRIBIDI_PAR_ON;
	int n = end - start, i, r, max_level = 0, min_odd = 127, rc = -1;

	memset(l, 0, sizeof(*l));
	if (n <= 0)
		return 0;
	types = malloc(sizeof(*types) * (size_t)n);
	brackets = malloc(sizeof(*brackets) * (size_t)n);
	levels = malloc(sizeof(*levels) * (size_t)n);
	l->runs = malloc(sizeof(*l->runs) * (size_t)n);
	if (!types || !brackets || !levels || !l->runs)
		goto out;
	fribidi_get_bidi_types(text + start, n, types);
	fribidi_get_bracket_types(text + start, n, types, brackets);
	if (fribidi_get_par_embedding_levels_ex(types, brackets, n, &base, levels) == 0)
		goto out;
	l->rtl = FRIBIDI_IS_RTL(base);

	/* Runs of one level and one font, in logical order. */
	for (i = 0; i < n; i++) {
		int font = font_for(f, text[start + i], l->nruns ? l->runs[l->nruns - 1].font : -1);

		if (l->nruns && l->runs[l->nruns - 1].level == levels[i] &&
		    l->runs[l->nruns - 1].font == font) {
			l->runs[l->nruns - 1].end = start + i + 1;
			continue;
		}
		l->runs[l->nruns++] = (struct run){start + i, start + i + 1, levels[i], font};
		if (levels[i] > max_level)
			max_level = levels[i];
		if ((levels[i] & 1) && levels[i] < min_odd)
			min_odd = levels[i];
	}
	/* Visual order (L2). */
	for (int lv = max_level; lv >= min_odd && lv > 0; lv--) {
		for (r = 0; r < l->nruns;) {
			int s = r;

			while (r < l->nruns && l->runs[r].level >= lv)
				r++;
			for (int a = s, b = r - 1; a < b; a++, b--) {
				struct run t = l->runs[a];

				l->runs[a] = l->runs[b];
				l->runs[b] = t;
			}
			if (r == s)
				r++;
		}
	}
	l->bufs = calloc((size_t)l->nruns, sizeof(*l->bufs));
	if (l->bufs == NULL)
		goto out;
	for (r = 0; r < l->nruns; r++) {
		struct run *ru = &l->runs[r];
		hb_buffer_t *hb = hb_buffer_create();
		FT_Size_Metrics *m = &f->face[ru->font]->size->metrics;
		unsigned int ng, g;
		hb_glyph_position_t *pos;

		l->bufs[r] = hb;
		/* The paragraph is the context, so joining sees the neighbours. */
		hb_buffer_add_utf32(hb, text, len, (unsigned)ru->start, ru->end - ru->start);
		hb_buffer_set_direction(hb, (ru->level & 1) ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
		hb_buffer_guess_segment_properties(hb);
		hb_shape(f->hb[ru->font], hb, NULL, 0);
		pos = hb_buffer_get_glyph_positions(hb, &ng);
		for (g = 0; g < ng; g++)
			l->width += pos[g].x_advance;
		if ((int)(m->ascender >> 6) > l->ascent)
			l->ascent = (int)(m->ascender >> 6);
		if ((int)(-m->descender >> 6) > l->descent)
			l->descent = (int)(-m->descender >> 6);
	}
	l->width = (l->width + 63) / 64;
	rc = 0;
out:
	free(types);
	free(brackets);
	free(levels);
	if (rc != 0)
		line_free(l);
	return rc;
}

static int line_width(struct raster_fonts *f, const uint32_t *text, int len, int start, int end)
{
	struct line l;
	int w;

	if (line_layout(f, text, len, start, end, &l) != 0)
		return -1;
	w = l.width;
	line_free(&l);
	return w;
}

static int is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0x3000;
}

/* The end of the line that starts at start and fits into width pixels. */
static int line_break(struct raster_fonts *f, const uint32_t *text, int len, int start, int width)
{
	int end = start, next, w;

	while (end < len) {
		next = end;
		while (next < len && is_space(text[next]))
			next++;
		while (next < len && !is_space(text[next]))
			next++;
		w = line_width(f, text, len, start, next);
		if (w < 0)
			return -1;
		if (w > width) {
			if (end > start)
				return end;
			/* One word wider than the line: cut it where it stops fitting. */
			for (next = start + 1; next < len; next++) {
				w = line_width(f, text, len, start, next + 1);
				if (w < 0)
					return -1;
				if (w > width)
					break;
			}
			return next;
		}
		end = next;
	}
	return end;
}

static void draw_line(struct raster_fonts *f, const struct line *l, unsigned char *canvas,
                      int width, int height, int x0, int baseline)
{
	int pen = x0 * 64, r;

	for (r = 0; r < l->nruns; r++) {
		FT_Face face = f->face[l->runs[r].font];
		unsigned int ng, g;
		hb_glyph_info_t *info = hb_buffer_get_glyph_infos(l->bufs[r], &ng);
		hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(l->bufs[r], &ng);

		for (g = 0; g < ng; g++) {
			FT_Bitmap *bm;
			int gx, gy, x, y;

			if (FT_Load_Glyph(face, info[g].codepoint, FT_LOAD_DEFAULT) == 0 &&
			    FT_Render_Glyph(face->glyph, FT_RENDER_MODE_NORMAL) == 0) {
				bm = &face->glyph->bitmap;
				gx = (pen + pos[g].x_offset) / 64 + face->glyph->bitmap_left;
				gy = baseline - pos[g].y_offset / 64 - face->glyph->bitmap_top;
				for (y = 0; y < (int)bm->rows; y++) {
					if (gy + y < 0 || gy + y >= height)
						continue;
					for (x = 0; x < (int)bm->width; x++) {
						unsigned char v = bm->buffer[y * bm->pitch + x];
						unsigned char *p;

						if (gx + x < 0 || gx + x >= width)
							continue;
						p = &canvas[(gy + y) * width + gx + x];
						if (v > *p)
							*p = v;
					}
				}
			}
			pen += pos[g].x_advance;
		}
	}
}

/* The lines of one image, in order. */
struct laid {
	struct line *lines;
	int n, cap;
};

static int decode(const char *s, size_t n, uint32_t **out, int *len)
{
	uint32_t *t = malloc(sizeof(*t) * (n + 1));
	size_t off = 0, k;
	int m = 0;

	*out = NULL;
	if (t == NULL)
		return -1;
	while (off < n) {
		k = codepage_utf8_next(s + off, n - off, &t[m]);
		if (k == 0) {
			free(t);
			return -1;
		}
		if (t[m] == '\r' || t[m] == '\t')
			t[m] = ' ';
		off += k;
		m++;
	}
	*out = t;
	*len = m;
	return 0;
}

/* A free slot at the end of laid->lines, or NULL without memory. */
static struct line *laid_push(struct laid *laid)
{
	if (laid->n == laid->cap) {
		int cap = laid->cap ? laid->cap * 2 : 8;
		struct line *nl = realloc(laid->lines, sizeof(*nl) * (size_t)cap);

		if (nl == NULL)
			return NULL;
		laid->lines = nl;
		laid->cap = cap;
	}
	return &laid->lines[laid->n];
}

/* Breaks the text into lines that fit width and lays each out: paragraphs
 * at '\n', each with its own base direction. Adds the lines' heights to
 * *height. */
static int lay_out(struct raster_fonts *f, const uint32_t *text, int len, int px, int width,
                   struct laid *laid, int *height)
{
	int para, pend, start, end, trimmed;
	struct line *l;

	for (para = 0; para <= len; para = pend + 1) {
		for (pend = para; pend < len && text[pend] != '\n'; pend++)
			;
		start = para;
		do {
			end = start < pend ? line_break(f, text, pend, start, width) : pend;
			if (end < 0 || (l = laid_push(laid)) == NULL)
				return -1;
			for (trimmed = end; trimmed > start && is_space(text[trimmed - 1]);
			     trimmed--)
				;
			if (line_layout(f, text, pend, start, trimmed, l) != 0)
				return -1;
			laid->n++;
			if (l->ascent == 0) { /* an empty line */
				l->ascent = px;
				l->descent = px / 4;
			}
			*height += l->ascent + l->descent;
			for (start = end; start < pend && is_space(text[start]); start++)
				;
		} while (start < pend);
	}
	return 0;
}

/* Where a line of the given width starts in the image. */
static int line_x(const struct line *l, enum raster_align align, int width)
{
	int x = 0;

	if (align == RASTER_START)
		align = l->rtl ? RASTER_RIGHT : RASTER_LEFT;
	if (align == RASTER_RIGHT)
		x = width - l->width;
	else if (align == RASTER_CENTER)
		x = (width - l->width) / 2;
	return x < 0 ? 0 : x;
}

/* The coverage canvas cut to 1 bit at half coverage. */
static int to_bits(const unsigned char *canvas, int width, int height, struct raster_img *out)
{
	out->width = width;
	out->height = height;
	out->stride = width / 8;
	out->bits = calloc((size_t)out->stride, (size_t)height);
	if (out->bits == NULL)
		return -1;
	for (int y = 0; y < height; y++)
		for (int x = 0; x < width; x++)
			if (canvas[y * width + x] >= 128)
				out->bits[y * out->stride + x / 8] |=
				    (unsigned char)(0x80 >> (x % 8));
	return 0;
}

int raster_text(struct raster_fonts *f, const char *s, size_t n, int px, int width,
                enum raster_align align, struct raster_img *out)
{
	struct laid laid = {NULL, 0, 0};
	uint32_t *text = NULL;
	unsigned char *canvas = NULL;
	int len = 0, i, y, rc = -1, height = 0;

	memset(out, 0, sizeof(*out));
	if (f == NULL || px < 6 || px > 200 || width <= 0 || width % 8 || width > 4096)
		return -1;
	if (set_size(f, px) != 0 || decode(s, n, &text, &len) != 0)
		return -1;
	if (lay_out(f, text, len, px, width, &laid, &height) != 0)
		goto out;
	height = (height + 7) / 8 * 8;
	if (height > RASTER_MAX_HEIGHT)
		goto out;
	canvas = calloc((size_t)width, (size_t)height);
	if (canvas == NULL)
		goto out;
	for (i = 0, y = 0; i < laid.n; i++) {
		struct line *l = &laid.lines[i];

		draw_line(f, l, canvas, width, height, line_x(l, align, width), y + l->ascent);
		y += l->ascent + l->descent;
	}
	rc = to_bits(canvas, width, height, out);
out:
	for (i = 0; i < laid.n; i++)
		line_free(&laid.lines[i]);
	free(laid.lines);
	free(canvas);
	free(text);
	if (rc != 0)
		raster_img_release(out);
	return rc;
}

void raster_img_release(struct raster_img *img)
{
	if (img == NULL)
		return;
	free(img->bits);
	memset(img, 0, sizeof(*img));
}

int raster_img_get(const struct raster_img *img, int x, int y)
{
	if (x < 0 || y < 0 || x >= img->width || y >= img->height)
		return 0;
	return (img->bits[y * img->stride + x / 8] >> (7 - x % 8)) & 1;
}
