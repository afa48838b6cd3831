/*
 * Names of statuses and roles as the tables spell them, and freeing records.
 */
#include <stdlib.h>
#include <string.h>

#include "store/record.h"

static const char *const status_names[ST_COUNT] = {"PENDING", "PREPARING", "READY", "COMPLETED",
                                                   "CANCELLED"};
static const char *const role_names[] = {"pos", "staff", "admin"};

static int name_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

const char *status_name(enum order_status s)
{
	return (unsigned)s < ST_COUNT ? status_names[s] : "UNKNOWN";
}

int status_parse(const char *name, enum order_status *out)
{
	int i = name_index(status_names, ST_COUNT, name);

	if (i < 0)
		return -1;
	*out = (enum order_status)i;
	return 0;
}

const char *role_name(enum role r)
{
	return (unsigned)r <= ROLE_ADMIN ? role_names[r] : "unknown";
}

int role_parse(const char *name, enum role *out)
{
	int i = name_index(role_names, ROLE_ADMIN + 1, name);

	if (i < 0)
		return -1;
	*out = (enum role)i;
	return 0;
}

void order_input_release(struct order_input *in)
{
	if (in == NULL)
		return;
	free(in->items_json);
	free(in->note);
	in->items_json = NULL;
	in->note = NULL;
}

void order_release(struct order *o)
{
	if (o == NULL)
		return;
	free(o->items_json);
	free(o->note);
	o->items_json = NULL;
	o->note = NULL;
}
