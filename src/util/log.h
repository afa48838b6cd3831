/*
 * Logging to stderr in logfmt (key=value pairs), one line per event, safe
 * from any thread. Nothing secret is ever passed here: no API key and no
 * order contents.
 */
#ifndef TOKENQ_LOG_H
#define TOKENQ_LOG_H

#include <stddef.h>
#include <stdint.h>

/* level is "info", "warn" or "error"; fmt continues the line after msg. */
void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...)  log_line("info", __VA_ARGS__)
#define log_warn(...)  log_line("warn", __VA_ARGS__)
#define log_error(...) log_line("error", __VA_ARGS__)

/* Copies s into out (of size n) fit for a quoted logfmt value: quotes become ', control
 * characters become spaces. Returns out. */
const char *log_quote(const char *s, char *out, size_t n);

/* Milliseconds since the Unix epoch, wall clock. */
int64_t now_ms(void);
/* Milliseconds from a monotonic clock, for durations and timeouts. */
int64_t mono_ms(void);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds (24 chars). */
void format_rfc3339(int64_t ms, char out[32]);

#endif
