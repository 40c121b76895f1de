/* Thread-local last-error message; see err.h. */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[ERR_MSG_MAX];

int err_set(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return code;
}

int err_set_errno(int code, const char *fmt, ...) {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);

    if (n >= 0 && (size_t)n < sizeof err_buf)
        snprintf(err_buf + n, sizeof err_buf - (size_t)n, ": %s", strerror(saved));
    return code;
}

int err_prefix(int code, const char *fmt, ...) {
    char old[ERR_MSG_MAX];
    memcpy(old, err_buf, sizeof old);

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);

    /* Append ": old", cut to fit. */
    if (n >= 0 && (size_t)n + 3 <= sizeof err_buf) {
        size_t len = strnlen(old, sizeof err_buf - (size_t)n - 3);
        memcpy(err_buf + n, ": ", 2);
        memcpy(err_buf + n + 2, old, len);
        err_buf[(size_t)n + 2 + len] = '\0';
    }
    return code;
}

const char *err_msg(void) {
    return err_buf;
}

void err_clear(void) {
    err_buf[0] = '\0';
}
