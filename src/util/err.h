/* Errors: one shared set of return codes and one formatter for messages.
 *
 * A function that can fail returns 0 or a negative ErrCode and records a
 * human message with err_set(); the caller that decides to stop (only cli/)
 * prints err_msg(). Messages about user input name the place:
 * "file.csv:1043:88: is_valid: expected True or False, got \"yes\"". */
#ifndef NOISETTE_UTIL_ERR_H
#define NOISETTE_UTIL_ERR_H

typedef enum {
    ERR_OK      = 0,
    ERR_NOMEM   = -1,   /* an allocation failed */
    ERR_IO      = -2,   /* a file could not be opened, read or written */
    ERR_PARSE   = -3,   /* input is malformed (CSV syntax, IDX header, ...) */
    ERR_INVALID = -4,   /* input parses but its content is not acceptable */
    ERR_EXISTS  = -5,   /* refusing to overwrite an existing file */
    ERR_USAGE   = -6    /* an option combination that cannot work */
} ErrCode;

#define ERR_MSG_MAX 1024

/* Records a printf-style message for the current thread and returns code,
 * so a failing path can read `return err_set(ERR_PARSE, "...", ...);`. */
int err_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like err_set, with ": strerror(errno)" appended (errno read on entry). */
int err_set_errno(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Puts "context: " in front of the recorded message; returns code. */
int err_prefix(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message recorded on this thread ("" if none). */
const char *err_msg(void);

/* Forgets the recorded message. */
void err_clear(void);

#endif
