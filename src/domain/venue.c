/*
 * The venue's settings and calendar (see venue.h).
 */
#include <stdio.h>
#include <string.h>

#include "domain/venue.h"
#include "util/log.h"

int venue_init(struct venue *v, const struct config *cfg, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->slug, sizeof(v->slug), "main");
	v->cfg = cfg;
	if (tz_open(cfg->timezone, &v->zone, err, errlen) != 0)
		return -1;
	bizdate_init(&v->cal, v->zone, cfg->day_start_min);
	return 0;
}

void venue_release(struct venue *v)
{
	if (v->zone == NULL)
		return;
	bizdate_release(&v->cal);
	tz_free(v->zone);
	v->zone = NULL;
}

void venue_date_of(struct venue *v, int64_t ms, char out[BIZDATE_LEN])
{
	bizdate_of(&v->cal, ms, out);
}

void venue_today(struct venue *v, char out[BIZDATE_LEN])
{
	bizdate_of(&v->cal, now_ms(), out);
}

bool venue_slug_valid(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > VENUE_SLUG_MAX || s[0] < 'a' || s[0] > 'z')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

const struct queue_conf *venue_queue(const struct venue *v, const char *prefix)
{
	return config_queue(v->cfg, prefix);
}
