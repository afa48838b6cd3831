/*
 * Time zones read from TZif files (RFC 8536) and POSIX TZ rules.
 *
 * A TZif file lists the instants at which a zone's offset changes and, at
 * its end, a POSIX rule for every instant after the last listed one. Only
 * the offsets matter here (not abbreviations or leap seconds): a zone is an
 * array of transitions, each with the offset that starts there, and the
 * rule. Version 1 files (32-bit times only) are read too.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/tz.h"

#define TZ_FILE_MAX (1 << 20)

/* When a POSIX rule's change happens: a day of the year, and seconds into it (local). */
struct when {
	char kind; /* 'J': Jn, 1..365 without Feb 29; 'D': n, 0..365; 'M': Mm.w.d */
	int n, m, w, d;
	int32_t secs;
};

struct rule {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct when start, end;
};

struct tz {
	int64_t *trans; /* ascending */
	int32_t *off;   /* off[i] applies from trans[i] on */
	size_t n;
	int32_t before; /* before the first transition */
	bool has_rule;
	struct rule rule;
	char name[256]; /* the IANA name, as far as it is known */
};

static struct tz utc_zone;

struct tz *tz_utc(void)
{
	return &utc_zone;
}

void tz_free(struct tz *z)
{
	if (z == NULL || z == &utc_zone)
		return;
	free(z->trans);
	free(z->off);
	free(z);
}

/* ---- POSIX rules ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* The local instant (seconds, counted as if UTC) at which w happens in year y. */
static int64_t when_in(const struct when *w, int64_t y)
{
	int64_t day;

	if (w->kind == 'J')
		day = days_from_civil(y, 1, 1) + w->n - 1 + (leap(y) && w->n >= 60);
	else if (w->kind == 'D')
		day = days_from_civil(y, 1, 1) + w->n;
	else {
		int64_t first = days_from_civil(y, w->m, 1);
		int wday = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
		int dom = 1 + (w->d - wday + 7) % 7 + (w->w - 1) * 7;
		while (dom > month_days(y, w->m))
			dom -= 7;
		day = first + dom - 1;
	}
	return day * 86400 + w->secs;
}

static int64_t year_of(int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t y = 1970 + days / 366;

	while (days_from_civil(y + 1, 1, 1) <= days)
		y++;
	while (days_from_civil(y, 1, 1) > days)
		y--;
	return y;
}

static int32_t rule_offset(const struct rule *r, int64_t t)
{
	int64_t y, start, end;

	if (!r->has_dst)
		return r->std_off;
	y = year_of(t + r->std_off);
	start = when_in(&r->start, y) - r->std_off; /* the start is given in standard time */
	end = when_in(&r->end, y) - r->dst_off;     /* the end in daylight time */
	if (start < end)
		return t >= start && t < end ? r->dst_off : r->std_off;
	return t >= end && t < start ? r->std_off : r->dst_off; /* southern hemisphere */
}

static const char *parse_name(const char *s)
{
	const char *p = s;

	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

static int parse_num(const char **s, int lo, int hi)
{
	int v = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits == 0 || v < lo || v > hi ? -1 : v;
}

/* [+-]hh[:mm[:ss]] with hh up to hmax; seconds, or false. */
static bool parse_hms(const char **s, int hmax, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;

	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if ((h = parse_num(s, 0, hmax)) < 0)
		return false;
	if (**s == ':') {
		(*s)++;
		if ((m = parse_num(s, 0, 59)) < 0)
			return false;
		if (**s == ':') {
			(*s)++;
			if ((sec = parse_num(s, 0, 59)) < 0)
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool parse_when(const char **s, struct when *w)
{
	memset(w, 0, sizeof(*w));
	w->secs = 2 * 3600;
	if (**s == 'M') {
		(*s)++;
		w->kind = 'M';
		if ((w->m = parse_num(s, 1, 12)) < 0 || *(*s)++ != '.' ||
		    (w->w = parse_num(s, 1, 5)) < 0 || *(*s)++ != '.' ||
		    (w->d = parse_num(s, 0, 6)) < 0)
			return false;
	} else if (**s == 'J') {
		(*s)++;
		w->kind = 'J';
		if ((w->n = parse_num(s, 1, 365)) < 0)
			return false;
	} else {
		w->kind = 'D';
		if ((w->n = parse_num(s, 0, 365)) < 0)
			return false;
	}
	if (**s == '/') {
		(*s)++;
		return parse_hms(s, 167, &w->secs);
	}
	return true;
}

/* A POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3"; false when it is not one. */
static bool parse_rule(const char *s, struct rule *r)
{
	int32_t off;

	memset(r, 0, sizeof(*r));
	if ((s = parse_name(s)) == NULL || !parse_hms(&s, 24, &off))
		return false;
	r->std_off = r->dst_off = -off; /* POSIX counts west of UTC */
	if (*s == '\0')
		return true;
	if ((s = parse_name(s)) == NULL)
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (!parse_hms(&s, 24, &off))
			return false;
		r->dst_off = -off;
	}
	if (*s == '\0') { /* no rule given: the C library's default, the US rule */
		r->start = (struct when){'M', 0, 3, 2, 0, 7200};
		r->end = (struct when){'M', 0, 11, 1, 0, 7200};
		return true;
	}
	if (*s++ != ',' || !parse_when(&s, &r->start) || *s++ != ',' || !parse_when(&s, &r->end))
		return false;
	return *s == '\0';
}

/* ---- TZif files ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads one data block (times of tsize bytes) at p; the block's length, or 0 when malformed. */
static size_t parse_block(const unsigned char *p, size_t len, int tsize, struct tz *z)
{
	uint32_t isut, isstd, leapcnt, timecnt, typecnt, charcnt, i;
	const unsigned char *times, *idx, *types;
	size_t need;

	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return 0;
	isut = be32(p + 20);
	isstd = be32(p + 24);
	leapcnt = be32(p + 28);
	timecnt = be32(p + 32);
	typecnt = be32(p + 36);
	charcnt = be32(p + 40);
	if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leapcnt > 10000 ||
	    charcnt > 100000 || isut > typecnt || isstd > typecnt)
		return 0;
	need = 44 + (size_t)timecnt * ((size_t)tsize + 1) + (size_t)typecnt * 6 + charcnt +
	       (size_t)leapcnt * ((size_t)tsize + 4) + isstd + isut;
	if (need > len)
		return 0;
	times = p + 44;
	idx = times + (size_t)timecnt * (size_t)tsize;
	types = idx + timecnt;
	free(z->trans);
	free(z->off);
	z->trans = calloc(timecnt ? timecnt : 1, sizeof(*z->trans));
	z->off = calloc(timecnt ? timecnt : 1, sizeof(*z->off));
	if (z->trans == NULL || z->off == NULL)
		return 0;
	z->n = timecnt;
	for (i = 0; i < timecnt; i++) {
		if (idx[i] >= typecnt)
			return 0;
		z->trans[i] = tsize == 8 ? be64(times + (size_t)i * 8)
		                         : (int64_t)(int32_t)be32(times + (size_t)i * 4);
		z->off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return 0;
	}
	z->before = (int32_t)be32(types); /* time type 0 */
	return need;
}

static int parse_tzif(const unsigned char *p, size_t len, struct tz *z)
{
	size_t n = parse_block(p, len, 4, z);

	if (n == 0)
		return -1;
	if (p[4] >= '2') {
		size_t m = parse_block(p + n, len - n, 8, z);
		const char *foot, *end;
		char rule[256];

		if (m == 0)
			return -1;
		n += m;
		foot = (const char *)p + n;
		if (n < len && *foot == '\n' &&
		    (end = memchr(foot + 1, '\n', len - n - 1)) != NULL && end > foot + 1 &&
		    (size_t)(end - foot - 1) < sizeof(rule)) {
			memcpy(rule, foot + 1, (size_t)(end - foot - 1));
			rule[end - foot - 1] = '\0';
			z->has_rule = parse_rule(rule, &z->rule);
		}
	}
	return 0;
}

static int load_file(const char *path, struct tz *z)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	size_t len;
	int rc;

	if (f == NULL)
		return -1;
	data = malloc(TZ_FILE_MAX);
	if (data == NULL) {
		fclose(f);
		return -1;
	}
	len = fread(data, 1, TZ_FILE_MAX, f);
	fclose(f);
	rc = len < TZ_FILE_MAX ? parse_tzif(data, len, z) : -1;
	free(data);
	return rc;
}

/* A zone name as the tz database spells them: no "..", no leading slash. */
static bool plain_name(const char *name)
{
	const char *p;

	if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL || strlen(name) > 200)
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return false;
	return true;
}

static int load_named(const char *name, struct tz *z)
{
	const char *dir = getenv("TZDIR");
	char path[1024];

	if (!plain_name(name))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	return load_file(path, z);
}

static void reset(struct tz *z)
{
	free(z->trans);
	free(z->off);
	memset(z, 0, sizeof(*z));
}

/* The IANA name /etc/localtime links to, or "UTC". */
static void system_name(char *out, size_t n)
{
	char link[512];
	ssize_t len = readlink("/etc/localtime", link, sizeof(link) - 1);
	const char *at;

	snprintf(out, n, "UTC");
	if (len <= 0)
		return;
	link[len] = '\0';
	if ((at = strstr(link, "zoneinfo/")) != NULL)
		snprintf(out, n, "%s", at + 9);
}

/* The system's zone, as the C library finds it: TZ, then /etc/localtime, else UTC. */
static void load_system(struct tz *z)
{
	const char *env = getenv("TZ");

	if (env == NULL) {
		if (load_file("/etc/localtime", z) != 0)
			reset(z);
		system_name(z->name, sizeof(z->name));
		return;
	}
	if (*env == ':')
		env++;
	snprintf(z->name, sizeof(z->name), "%s", *env ? env : "UTC");
	if (*env == '\0')
		return;
	if ((*env == '/' ? load_file(env, z) : load_named(env, z)) == 0)
		return;
	reset(z);
	/* A POSIX rule such as "UTC0" or "EST5EDT"; anything else means UTC, as in the C library.
	 */
	if (!parse_rule(env, &z->rule))
		memset(&z->rule, 0, sizeof(z->rule));
	z->has_rule = true;
}

int tz_open(const char *name, struct tz **out, char *err, size_t errlen)
{
	struct tz *z = calloc(1, sizeof(*z));

	*out = NULL;
	if (z == NULL) {
		snprintf(err, errlen, "out of memory loading the time zone.");
		return -1;
	}
	if (name[0] == '\0') {
		load_system(z);
	} else if (snprintf(z->name, sizeof(z->name), "%s", name) < 0) {
		tz_free(z);
		return -1;
	} else if (load_named(name, z) != 0) {
		tz_free(z);
		snprintf(err, errlen,
		         "TOKENQ_TIMEZONE \"%.200s\" is not a known IANA time zone such as "
		         "Europe/London or Asia/Kolkata.",
		         name);
		return -1;
	}
	*out = z;
	return 0;
}

const char *tz_name(const struct tz *z)
{
	return z->name[0] ? z->name : "UTC";
}

int32_t tz_offset(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi;

	if (z->n == 0 || t < z->trans[0])
		return z->n == 0 && z->has_rule ? rule_offset(&z->rule, t) : z->before;
	if (t >= z->trans[z->n - 1] && z->has_rule)
		return rule_offset(&z->rule, t);
	hi = z->n; /* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

int64_t tz_wall(const struct tz *z, int64_t t)
{
	return t + tz_offset(z, t);
}
