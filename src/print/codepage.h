/*
 * The single-byte code pages a thermal printer prints its own fonts in, and
 * the mapping of Unicode text (UTF-8) onto them, with a few typographic
 * marks transliterated to ASCII. Text that a code page cannot
 * hold is not printed as question marks: the ticket encoder sends it as a
 * raster image instead (raster.h), so every function here can say, without
 * writing anything, whether a string fits.
 */
#ifndef TOKENQ_PRINT_CODEPAGE_H
#define TOKENQ_PRINT_CODEPAGE_H

#include <stddef.h>
#include <stdint.h>

/* The value is the number ESC t n selects it with on Epson-compatible printers. */
enum codepage {
	CODEPAGE_CP437 = 0,  /* PC437, USA / standard Europe */
	CODEPAGE_CP858 = 19, /* PC858, multilingual Latin-1 with the euro sign */
};

/* Decodes one UTF-8 character of s (at most n bytes) into *cp; returns the
 * bytes used (1..4), or 0 at the end or on a malformed sequence (then *cp is
 * U+FFFD and 1 byte should be skipped). */
size_t codepage_utf8_next(const char *s, size_t n, uint32_t *cp);

/* The byte that prints Unicode character u in code page p, or -1 when p has
 * none. Control characters other than space map to -1 as well. */
int codepage_byte(enum codepage p, uint32_t u);

/* The most bytes codepage_encode() writes for one character. */
#define CODEPAGE_MAX_BYTES 3

/* The bytes that print u in p: its own byte, or for the typographic marks
 * phones and word processors put in for ASCII (curly quotes, dashes, the
 * ellipsis, the bullet, the zero-width and narrow spaces) the ASCII that p
 * does hold. Letters are never stripped of their accents: a letter p lacks
 * has no bytes. Returns the bytes written to out (0..3, 0 for the
 * zero-width characters too; then *known says whether p can print u). */
size_t codepage_encode(enum codepage p, uint32_t u, unsigned char out[CODEPAGE_MAX_BYTES],
                       int *known);

/* 1 when every character of the UTF-8 string s (n bytes) can be printed
 * in p (codepage_encode). */
int codepage_fits(enum codepage p, const char *s, size_t n);

/* The columns the UTF-8 string takes on the printer in p: the bytes it
 * encodes to, or one a character for text that does not fit. */
size_t codepage_columns(enum codepage p, const char *s, size_t n);

#endif
