/* Leveled one-line logging to stderr; see log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static LogLevel log_level = LOG_LEVEL_INFO;
static char log_tag[32];

void log_set_tag(const char *tag) {
    snprintf(log_tag, sizeof log_tag, "%s", tag ? tag : "");
}

void log_set_level(LogLevel level) {
    log_level = level;
}

LogLevel log_get_level(void) {
    return log_level;
}

static void log_line(LogLevel level, const char *prefix, const char *fmt, va_list ap) {
    if (level > log_level)
        return;
    fputs(log_tag, stderr);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define LOG_BODY(level, prefix)            \
    do {                                   \
        va_list ap;                        \
        va_start(ap, fmt);                 \
        log_line(level, prefix, fmt, ap);  \
        va_end(ap);                        \
    } while (0)

void log_error(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_ERROR, "noisette: error: "); }
void log_warn(const char *fmt, ...)  { LOG_BODY(LOG_LEVEL_WARN, "noisette: warning: "); }
void log_info(const char *fmt, ...)  { LOG_BODY(LOG_LEVEL_INFO, ""); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, ""); }
