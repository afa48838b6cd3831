/*
 * The venue's settings and calendar (see venue.h).
 */
#include <string.h>

#include "domain/venue.h"
#include "util/log.h"

int venue_init(struct venue *v, const struct config *cfg, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
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

const struct queue_conf *venue_queue(const struct venue *v, const char *prefix)
{
	return config_queue(v->cfg, prefix);
}
