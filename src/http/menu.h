/*
 * The venue's menu: items with their prices, for the staff console's picker,
 * read from the JSON file TOKENQ_MENU names when the server starts:
 *
 *   {"currency": "INR", "items": [{"name": "Masala tea", "unit_price": 150}]}
 *
 * currency is optional (three capital letters); 1 to 500 items, each a name
 * of 1 to 100 characters and a unit_price in minor units, 0 to 10,000,000.
 */
#ifndef TOKENQ_HTTP_MENU_H
#define TOKENQ_HTTP_MENU_H

#include <jansson.h>
#include <stddef.h>

/* Reads and checks the file; 0 with *out (NULL for path ""), or -1 with err. */
int menu_load(const char *path, json_t **out, char *err, size_t errlen);

#endif
