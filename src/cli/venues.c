/*
 * tokenq venues create|set|list|delete: the venues of an install, managed
 * as data. The flags make the same settings object as POST and PATCH
 * /api/venues take, so the same checks and words apply (domain/venue.h);
 * a running server sees a change on its next request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "domain/venue.h"
#include "util/base64.h"
#include "util/log.h"

/* The flags that are settings, with the member each one sets. */
static const struct {
	const char *flag, *member;
} settings[] = {
    {"name", "name"},         {"timezone", "timezone"}, {"day-start", "day_start"},
    {"queues", "queues"},     {"digits", "digits"},     {"language", "language"},
    {"currency", "currency"}, {"accent", "accent"},     {"logo", "logo"},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* A logo file as a data: URL, or NULL after saying why. */
static char *logo_url(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {{".png", "image/png"},
	             {".jpg", "image/jpeg"},
	             {".jpeg", "image/jpeg"},
	             {".webp", "image/webp"},
	             {".svg", "image/svg+xml"}};
	const char *dot = strrchr(path, '.'), *type = NULL;
	unsigned char *data = NULL;
	char *url = NULL;
	size_t n = 0, i, cap = 0;
	FILE *f;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			type = types[i].type;
	if (type == NULL) {
		cli_fail(EXIT_USAGE, "--logo must be a .png, .jpg, .webp or .svg file.");
		return NULL;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		cli_fail(EXIT_USAGE, "cannot read the logo %s.", path);
		return NULL;
	}
	for (;;) {
		size_t got;
		if (n == cap) {
			unsigned char *p = realloc(data, cap = cap ? cap * 2 : 65536);
			if (p == NULL || cap > 512 * 1024)
				break;
			data = p;
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	if (n > 0 && n <= 256 * 1024 && (url = malloc(BASE64_LEN(n) + 64)) != NULL) {
		int len = snprintf(url, 64, "data:%s;base64,", type);
		if (base64_encode(data, n, url + len, BASE64_LEN(n) + 1) < 0) {
			free(url);
			url = NULL;
		}
	}
	free(data);
	if (url == NULL)
		cli_fail(EXIT_USAGE, "--logo must be an image file of 1 byte to 256 KiB.");
	return url;
}

/* The settings object the flags make; NULL after saying why. */
static json_t *settings_body(const char *const *values)
{
	json_t *body = json_object();
	size_t i;

	for (i = 0; i < NSETTINGS; i++) {
		const char *v = values[i];
		json_t *j;
		if (v == NULL)
			continue;
		if (strcmp(settings[i].flag, "digits") == 0 && strlen(v) == 1 && v[0] >= '0' &&
		    v[0] <= '9') {
			j = json_integer(v[0] - '0');
		} else if (strcmp(settings[i].flag, "digits") == 0) {
			json_decref(body);
			cli_fail(EXIT_USAGE, "--digits must be a whole number from 1 to 9.");
			return NULL;
		} else if (strcmp(settings[i].flag, "logo") == 0) {
			char *url = v[0] ? logo_url(v) : NULL;
			if (url == NULL && v[0]) {
				json_decref(body);
				return NULL;
			}
			j = url ? json_string(url) : json_null();
			free(url);
		} else if (v[0] == '\0' && (strcmp(settings[i].flag, "language") == 0 ||
		                            strcmp(settings[i].flag, "accent") == 0)) {
			j = json_null(); /* --language "" clears it */
		} else {
			j = json_string(v);
		}
		if (j == NULL) {
			json_decref(body);
			cli_fail(EXIT_USAGE, "--%s must be UTF-8 text.", settings[i].flag);
			return NULL;
		}
		json_object_set_new(body, settings[i].member, j);
	}
	return body;
}

/* A refused setting, said with its flag's name: exit 2 (1 when the database failed). */
static int refused(const struct tq_error *err)
{
	size_t i;

	if (err->status != TQ_INVALID && err->status != TQ_CONFLICT && err->status != TQ_NOT_FOUND)
		return cli_fail(EXIT_RUNTIME, "%s.", err->detail);
	for (i = 0; i < NSETTINGS; i++) {
		size_t n = strlen(settings[i].member);
		if (strcmp(err->field, settings[i].member) == 0 &&
		    strncmp(err->detail, settings[i].member, n) == 0)
			return cli_fail(err->status == TQ_INVALID ? EXIT_USAGE : EXIT_RUNTIME,
			                "--%s%s%s", settings[i].flag, err->detail + n,
			                err->detail[strlen(err->detail) - 1] == '.' ? "" : ".");
	}
	return cli_fail(err->status == TQ_INVALID ? EXIT_USAGE : EXIT_RUNTIME, "%s%s", err->detail,
	                err->detail[strlen(err->detail) - 1] == '.' ? "" : ".");
}

static void print_row(const struct venue_row *v)
{
	printf("%s\t%s\t%s\t%02d:%02d\t%s\t%d\t%s\t%s\n", v->slug, v->name,
	       v->timezone[0] ? v->timezone : "-", v->day_start / 60, v->day_start % 60, v->queues,
	       v->digits, v->language[0] ? v->language : "-", v->currency);
}

static int list(struct store_conn *c)
{
	struct venue_row *v;
	struct tq_error err;
	size_t n, i;

	if (store_venue_list(c, &v, &n, &err) != 0)
		return cli_fail(EXIT_RUNTIME, "%s.", err.detail);
	for (i = 0; i < n; i++)
		print_row(&v[i]);
	free(v);
	return EXIT_OK;
}

int cmd_venues(int argc, char **argv)
{
	const char *database = NULL, *values[NSETTINGS] = {NULL}, *pos[2] = {NULL, NULL};
	struct cli_opt opts[NSETTINGS + 2];
	const struct command *cmd = cli_command("venues");
	struct config cfg;
	struct store *s;
	struct store_conn *c;
	struct venue_row row;
	struct tq_error err;
	json_t *body = NULL;
	bool any = false;
	size_t i;
	int n, rc;

	opts[0] = (struct cli_opt){"database", &database, NULL};
	for (i = 0; i < NSETTINGS; i++)
		opts[i + 1] = (struct cli_opt){settings[i].flag, &values[i], NULL};
	opts[NSETTINGS + 1] = (struct cli_opt){NULL, NULL, NULL};
	n = cli_parse(cmd, argc, argv, opts, pos, 2);
	if (n < 0)
		return n == -1 ? EXIT_OK : EXIT_USAGE;
	for (i = 0; i < NSETTINGS; i++)
		any = any || values[i] != NULL;
	if (n == 0 || (strcmp(pos[0], "create") != 0 && strcmp(pos[0], "set") != 0 &&
	               strcmp(pos[0], "list") != 0 && strcmp(pos[0], "delete") != 0))
		return cli_fail(EXIT_USAGE, "venues needs create, set, list or delete; see `tokenq "
		                            "venues --help`.");
	if (strcmp(pos[0], "list") == 0 ? n != 1 : n != 2)
		return cli_fail(EXIT_USAGE, "%s",
		                strcmp(pos[0], "list") == 0
		                    ? "venues list takes no other argument."
		                    : "venues create, set and delete need the "
		                      "venue's slug.");
	if (n == 2 && !venue_slug_valid(pos[1], strlen(pos[1])))
		return cli_fail(EXIT_USAGE, "a venue's slug is 1 to 32 of a-z, 0-9 and -, starting "
		                            "with a letter (such as mg-road).");
	if ((strcmp(pos[0], "list") == 0 || strcmp(pos[0], "delete") == 0) && any)
		return cli_fail(EXIT_USAGE, "venues %s takes no settings.", pos[0]);
	if (strcmp(pos[0], "create") == 0 && values[0] == NULL)
		return cli_fail(EXIT_USAGE, "venues create needs --name.");
	if (strcmp(pos[0], "set") == 0 && !any)
		return cli_fail(EXIT_USAGE,
		                "venues set needs a setting to change, such as --name or "
		                "--timezone.");
	if (any && (body = settings_body(values)) == NULL)
		return EXIT_USAGE;
	if (cli_config(&cfg, database, NULL) != 0) {
		json_decref(body);
		return EXIT_USAGE;
	}
	if ((rc = cli_open(&cfg, false, &s, &c)) != EXIT_OK) {
		json_decref(body);
		return rc;
	}
	if (strcmp(pos[0], "list") == 0) {
		rc = list(c);
	} else if (strcmp(pos[0], "delete") == 0) {
		rc = store_venue_delete(c, pos[1], &err) != 0 ? refused(&err) : EXIT_OK;
		if (rc == EXIT_OK)
			fprintf(stderr, "deleted the venue %s\n", pos[1]);
	} else if (strcmp(pos[0], "create") == 0) {
		json_object_set_new(body, "slug", json_string(pos[1]));
		rc = venue_create(c, body, &row, &err) != 0 ? refused(&err) : EXIT_OK;
		if (rc == EXIT_OK) {
			print_row(&row);
			fprintf(stderr, "created the venue %s: its pages are under /v/%s/\n",
			        row.slug, row.slug);
		}
	} else {
		rc = venue_update(c, pos[1], body, &row, &err) != 0 ? refused(&err) : EXIT_OK;
		if (rc == EXIT_OK)
			print_row(&row);
	}
	json_decref(body);
	cli_close(s, c);
	return rc;
}
