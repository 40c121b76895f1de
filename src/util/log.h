/* Logging to stderr. stdout is kept for results (tables, CSV, JSON lines).
 * Quiet by default: warnings and one-line summaries; -v adds detail, -q
 * leaves only errors. */
#ifndef NOISETTE_UTIL_LOG_H
#define NOISETTE_UTIL_LOG_H

typedef enum {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN  = 1,
    LOG_LEVEL_INFO  = 2,
    LOG_LEVEL_DEBUG = 3
} LogLevel;

void log_set_level(LogLevel level);
LogLevel log_get_level(void);

/* Text put before every line ("[rank 1] " in a data-parallel run); NULL
 * or "" for none. */
void log_set_tag(const char *tag);

/* Each prints one line to stderr when the level allows; a newline is added.
 * Errors and warnings carry a "noisette: error: " / "warning: " prefix. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
