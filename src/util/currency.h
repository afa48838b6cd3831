/*
 * Currencies: the active ISO 4217 codes, the number of minor units each is
 * counted in (2 for cents, 0 for the yen, 3 for the dinars of Bahrain,
 * Kuwait and others, 4 for the Chilean and Uruguayan units of account), and
 * amounts in minor units as plain text ("USD 7.00", "JPY 700").
 */
#ifndef TOKENQ_UTIL_CURRENCY_H
#define TOKENQ_UTIL_CURRENCY_H

#include <stdbool.h>
#include <stdint.h>

/* A code of the active ISO 4217 list: three capital letters ("EUR"). */
bool currency_valid(const char *code);

/* The minor units of code (0..4), or -1 when code is not a valid one. */
int currency_minor_digits(const char *code);

/* minor with digits decimals (0..4; anything else is taken as 2), a '-'
 * in front when negative: 1250, 2 -> "12.50"; 700, 0 -> "700". */
void currency_amount(int64_t minor, int digits, char out[48]);

/* minor in code as text for tickets: "USD 7.00", "JPY 700", "KWD 1.250",
 * "USD -7.00". An unknown code (or NULL) gives the amount alone, with two
 * decimals. */
void currency_format(int64_t minor, const char *code, char out[48]);

#endif
