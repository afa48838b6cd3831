/*
 * The waiting-time estimate. The rule, in words:
 *
 *   own    = what is left of the usual preparation time (usual − waited);
 *            if the order is already later than usual, the line is slower
 *            than usual by at least the lateness, so own = that lateness;
 *            and never less than a minute (or one step of the line's pace
 *            when that is shorter): an order not READY is not "now";
 *   estimate = own + one step of pace per token ahead.
 *
 * A step of pace is the median time between consecutive READYs, or the
 * usual preparation time when only one order has been ready.
 */
#include "domain/estimate.h"

int64_t estimate_seconds(const struct pace *p, int64_t waited, int64_t ahead)
{
	int64_t step, own;

	if (p->prep_seconds < 0)
		return -1;
	if (waited < 0)
		waited = 0;
	if (ahead < 0)
		ahead = 0;
	step = p->gap_seconds >= 0 ? p->gap_seconds : p->prep_seconds;
	if (waited < p->prep_seconds)
		own = p->prep_seconds - waited;
	else
		own = waited - p->prep_seconds;
	if (own < (step < 60 ? step : 60))
		own = step < 60 ? step : 60;
	return own + ahead * step;
}
