/*
 * The menu file and GET /api/menu (roles pos, staff, admin): the items as
 * the file gives them, or 404 when no menu is configured.
 */
#include <stdio.h>
#include <string.h>

#include "domain/order.h"
#include "http/http.h"
#include "http/menu.h"

static int bad(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "the menu in %s is not usable: %s.", path, what);
	return -1;
}

int menu_load(const char *path, json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *m, *items, *cur, *it;
	const char *key;
	size_t i;

	*out = NULL;
	if (path[0] == '\0')
		return 0;
	m = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (m == NULL) {
		if (je.line > 0)
			snprintf(err, errlen,
			         "cannot read the menu (TOKENQ_MENU) %s: %s (line %d).", path,
			         je.text, je.line);
		else
			snprintf(err, errlen, "cannot read the menu (TOKENQ_MENU) %s: %s.", path,
			         je.text);
		return -1;
	}
	if (!json_is_object(m)) {
		json_decref(m);
		return bad(err, errlen, path, "it must be a JSON object with \"items\"");
	}
	json_object_foreach(m, key, cur)
	{
		if (strcmp(key, "items") != 0 && strcmp(key, "currency") != 0) {
			json_decref(m);
			return bad(err, errlen, path, "only \"items\" and \"currency\" are known");
		}
	}
	cur = json_object_get(m, "currency");
	if (cur != NULL) {
		const char *c = json_string_value(cur);
		if (c == NULL || strlen(c) != 3 || strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
			json_decref(m);
			return bad(err, errlen, path,
			           "\"currency\" must be a code of three capital "
			           "letters such as INR");
		}
	}
	items = json_object_get(m, "items");
	if (!json_is_array(items) || json_array_size(items) < 1 || json_array_size(items) > 500) {
		json_decref(m);
		return bad(err, errlen, path, "\"items\" must be a list of 1 to 500 items");
	}
	json_array_foreach(items, i, it)
	{
		json_t *name = json_object_get(it, "name"),
		       *price = json_object_get(it, "unit_price");
		long len = json_is_string(name) ? text_length(json_string_value(name), 0) : -1;
		if (!json_is_object(it) || json_object_size(it) != 2 || len < 1 || len > 100 ||
		    !json_is_integer(price) || json_integer_value(price) < 0 ||
		    json_integer_value(price) > 10000000) {
			char what[160];
			snprintf(
			    what, sizeof(what),
			    "item %zu must be {\"name\": 1 to 100 characters, \"unit_price\": an "
			    "integer 0 to 10000000}",
			    i + 1);
			json_decref(m);
			return bad(err, errlen, path, what);
		}
	}
	*out = m;
	return 0;
}

enum handled h_menu(struct req *r, struct tq_session *s)
{
	struct tq_error err;
	json_t *m = r->srv->menu;

	(void)s;
	if (m == NULL) {
		tq_fail(
		    &err, TQ_NOT_FOUND, "not_found", "",
		    "no menu is configured (TOKENQ_MENU names a JSON file of items and prices)");
		reply_problem(r, &err);
		return HANDLED;
	}
	reply_json(r, 200,
	           json_pack("{s:O, s:O}", "items", json_object_get(m, "items"), "currency",
	                     json_object_get(m, "currency") ? json_object_get(m, "currency")
	                                                    : json_null()));
	return HANDLED;
}
