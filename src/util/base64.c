/*
 * Base64 after RFC 4648 section 4: strict on decoding (no whitespace, no
 * missing padding, no bits left over) because what it decodes are secrets
 * that tokenq wrote itself.
 */
#include <stdint.h>

#include "util/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long base64_encode(const void *data, size_t n, char *out, size_t outsz)
{
	const unsigned char *p = data;
	size_t i, o = 0;

	if (outsz == 0)
		return -1;
	if (BASE64_LEN(n) + 1 > outsz || n > SIZE_MAX / 2) {
		out[0] = '\0';
		return -1;
	}
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *text, size_t n, unsigned char *out, size_t outsz)
{
	size_t i, o = 0, pad = 0, need;

	if (n % 4 != 0)
		return -1;
	if (n > 0 && text[n - 1] == '=')
		pad = n > 1 && text[n - 2] == '=' ? 2 : 1;
	need = n / 4 * 3 - pad;
	if (need > outsz)
		return -1;
	for (i = 0; i < n; i += 4) {
		int a = value(text[i]), b = value(text[i + 1]), c, d;
		int last = i + 4 == n;
		uint32_t v;

		c = last && pad == 2 ? 0 : value(text[i + 2]);
		d = last && pad >= 1 ? 0 : value(text[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		/* Bits the padding says are absent must be zero (one encoding per value). */
		if (last && ((pad == 2 && (v & 0xffff)) || (pad == 1 && (v & 0xff))))
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (!(last && pad == 2))
			out[o++] = (unsigned char)(v >> 8);
		if (!(last && pad >= 1))
			out[o++] = (unsigned char)v;
	}
	return (long)o;
}
