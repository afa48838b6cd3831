/*
 * Fuzz target: the small text parsers behind URLs and query strings:
 * token_parse (GET /api/tokens/{token}), with token_prefix_valid and
 * token_format round trips; bizdate_valid (?date=), parse_i64 (ids,
 * ?after_id=, ?limit=, Last-Event-ID), status_parse (PATCH and ?status=),
 * and text_length (names and notes).
 *
 * Properties: a parsed token has a valid prefix and a number >= 1, and
 * formatting it and parsing that again gives the same prefix and number; a
 * valid date is YYYY-MM-DD; parse_i64 accepts exactly canonical decimals;
 * status names round-trip.
 */
#include <inttypes.h>

#include "domain/bizdate.h"
#include "domain/order.h"
#include "domain/status.h"
#include "domain/token.h"
#include "fuzz_common.h"
#include "store/store.h"
#include "util/num.h"
#include "util/tz.h"

/* A zone with DST and a day start inside its spring-forward gap (02:30). */
static struct tz *zone;
static struct bizdate cal;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[256];

	if (tz_open("America/New_York", &zone, err, sizeof(err)) != 0)
		return 1;
	bizdate_init(&cal, zone, 2 * 60 + 30);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char prefix[4], prefix2[4], tok[TOKEN_MAX];
	int64_t seq = 0, seq2 = 0, v;
	enum order_status st;
	int digits;

	memset(prefix, 0x55, sizeof(prefix));
	if (token_parse(s, prefix, &seq) == 0) {
		FUZZ_CHECK(token_prefix_valid(prefix), "parsed prefix '%.4s' is not valid", prefix);
		FUZZ_CHECK(seq >= 1, "parsed number %" PRId64, seq);
		for (digits = 1; digits <= 9; digits++) {
			token_format(tok, prefix, seq, digits);
			FUZZ_CHECK(strlen(tok) < TOKEN_MAX, "token overflow");
			FUZZ_CHECK(token_parse(tok, prefix2, &seq2) == 0,
			           "'%s' does not parse back", tok);
			FUZZ_CHECK(strcmp(prefix, prefix2) == 0 && seq == seq2,
			           "'%s' parses back as %s-%" PRId64, tok, prefix2, seq2);
		}
	}
	if (bizdate_valid(s)) {
		FUZZ_CHECK(strlen(s) == 10 && s[4] == '-' && s[7] == '-', "'%s' accepted as a date",
		           s);
		int64_t start = bizdate_start(&cal, s);
		char back[BIZDATE_LEN];
		FUZZ_CHECK(start != -1, "valid date %s has no start", s);
		bizdate_of(&cal, start, back);
		FUZZ_CHECK(strcmp(back, s) == 0, "the start of %s is in business date %s", s, back);
		bizdate_of(&cal, start - 1, back);
		FUZZ_CHECK(strcmp(back, s) < 0, "the instant before %s starts is in %s", s, back);
	}
	if (parse_i64(s, &v) == 0) {
		char back[32];
		snprintf(back, sizeof(back), "%" PRId64, v);
		FUZZ_CHECK(strcmp(back, s) == 0, "'%s' parsed as %s", s, back);
	}
	if (status_parse(s, &st) == 0) {
		FUZZ_CHECK(st >= ST_PENDING && st < ST_COUNT && strcmp(status_name(st), s) == 0,
		           "status '%s' does not round-trip", s);
	}
	if (strlen(s) == size) { /* jansson never hands over a NUL: only then */
		long a = text_length(s, 0), b = text_length(s, 1);
		FUZZ_CHECK(a <= (long)size && b <= (long)size, "more code points than bytes");
		FUZZ_CHECK(a < 0 || a == b, "breaks changed a count");
	}
	free(s);
	return 0;
}
