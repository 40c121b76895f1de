/* Downloading one file with libcurl, resumably.
 *
 * Bytes go to a .part file that survives failures: the next attempt (a
 * retry after a back-off, or the next run) asks the server for the rest
 * with an HTTP Range request. A server that ignores Range is answered by
 * starting over; a 416 whose Content-Range says the file is exactly as
 * long as the .part means it was already complete. An attempt gives up
 * when no byte arrives for timeout_s seconds. Any URL libcurl reads works
 * (https, http, file:// for a local copy); its proxy variables apply. */
#ifndef NOISETTE_GET_DOWNLOAD_H
#define NOISETTE_GET_DOWNLOAD_H

typedef enum {
    GET_PROGRESS_NONE  = 0,     /* nothing (-q) */
    GET_PROGRESS_LINES = 1,     /* an occasional plain line (not a terminal) */
    GET_PROGRESS_BAR   = 2      /* a redrawn bar: size, rate, time left */
} GetProgress;

#define GET_TIMEOUT_DEFAULT 60  /* seconds without data before an attempt fails */
#define GET_RETRIES_DEFAULT 5   /* attempts after the first */
#define GET_BACKOFF_FIRST   1   /* seconds before the first retry, doubled each time */
#define GET_BACKOFF_MAX     60

typedef struct {
    long        timeout_s;
    int         retries;
    GetProgress progress;
    const char *label;          /* what the progress line calls the file */
} GetDownloadOptions;

/* Sets the defaults above: progress lines, no label. */
void get_download_defaults(GetDownloadOptions *o);

/* Downloads url into part, appending to what part already holds. 0 when
 * part holds the whole file. Fails with ERR_IO naming the URL and the cause
 * (an HTTP status, a time-out, a write error), after the retries for causes
 * that may pass (time-outs, cut connections, HTTP 5xx); part is kept unless
 * it is empty. Stops early, with ERR_IO, when get_interrupt_pending(). */
int get_download(const char *url, const char *part, const GetDownloadOptions *o);

#endif
