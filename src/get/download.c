/* Resumable downloads with retries and a progress display; see download.h. */
#include "get/download.h"

#include "get/datasets.h"
#include "get/interrupt.h"
#include "util/err.h"
#include "util/log.h"

#include <curl/curl.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef NOISETTE_VERSION
#define NOISETTE_VERSION "unknown"
#endif

#define BAR_REDRAW_S   0.25     /* a terminal bar redraws at most this often */
#define LINE_EVERY_S   15.0     /* elsewhere, a plain line this often */
#define BAR_WIDTH      24
#define MAX_REDIRECTS  10
#define MAX_RESTARTS   2        /* starting over when a server cannot resume */

void get_download_defaults(GetDownloadOptions *o) {
    memset(o, 0, sizeof *o);
    o->timeout_s = GET_TIMEOUT_DEFAULT;
    o->retries = GET_RETRIES_DEFAULT;
    o->progress = GET_PROGRESS_LINES;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "12s", "3m27s", "1h02m". */
static const char *format_duration(double s, char *buf, size_t cap) {
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t < 60)
        snprintf(buf, cap, "%lds", t);
    else if (t < 3600)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t % 3600 / 60);
    return buf;
}

/* One attempt's state, shared with libcurl's callbacks. */
typedef struct {
    CURL                     *curl;
    FILE                     *fp;
    const GetDownloadOptions *o;
    int64_t     offset;         /* bytes in the .part when the attempt began */
    int64_t     got;            /* bytes written by this attempt */
    int64_t     range_total;    /* a 416's "Content-Range: bytes * /N", or -1 */
    int         status_seen;    /* the status was checked at the first body byte */
    int         discard;        /* the body is an error page, not the file */
    int         write_errno;
    int         stalled;        /* no byte for o->timeout_s: we stopped it */
    int64_t     seen;           /* bytes at the last progress call */
    double      t_start, t_shown, t_data;
    int         bar_on;         /* a bar is on the terminal line */
} Transfer;

static size_t on_body(char *buf, size_t size, size_t n, void *user) {
    Transfer *t = user;
    size_t len = size * n;

    /* The body of an error (404, or a 416 that may mean "complete") is a
     * page about the file, not the file. */
    if (!t->status_seen) {
        long code = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        t->discard = code >= 400;
        t->status_seen = 1;
    }
    if (t->discard)
        return len;
    if (fwrite(buf, 1, len, t->fp) != len) {
        t->write_errno = errno;
        return 0;
    }
    t->got += (int64_t)len;
    return len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *user) {
    Transfer *t = user;
    size_t len = size * n;
    static const char RANGE[] = "content-range: bytes */";
    char line[128];

    /* Each response of a redirect chain starts with its status line. */
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
        t->range_total = -1;
    if (len >= sizeof RANGE && len < sizeof line &&
        strncasecmp(buf, RANGE, sizeof RANGE - 1) == 0) {
        memcpy(line, buf + sizeof RANGE - 1, len - (sizeof RANGE - 1));
        line[len - (sizeof RANGE - 1)] = '\0';
        long long total;
        if (sscanf(line, "%lld", &total) == 1 && total >= 0)
            t->range_total = total;
    }
    return len;
}

static void show_bar(Transfer *t, int64_t done, int64_t total, double rate) {
    char a[32], b[32], r[32], eta[32], bar[BAR_WIDTH + 1];
    get_format_bytes(done, a, sizeof a);
    get_format_bytes((int64_t)rate, r, sizeof r);
    if (total > 0) {
        int filled = (int)((double)BAR_WIDTH * (double)done / (double)total);
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        format_duration(rate > 0 ? (double)(total - done) / rate : 0, eta, sizeof eta);
        fprintf(stderr, "\r%s [%s] %3d%%  %s / %s  %s/s  %s left\033[K", t->o->label, bar,
                (int)(100.0 * (double)done / (double)total), a,
                get_format_bytes(total, b, sizeof b), r, rate > 0 ? eta : "?");
    } else {
        fprintf(stderr, "\r%s  %s  %s/s\033[K", t->o->label, a, r);
    }
    t->bar_on = 1;
}

static void show_line(const Transfer *t, int64_t done, int64_t total, double rate) {
    char a[32], b[32], r[32], eta[32];
    get_format_bytes(done, a, sizeof a);
    get_format_bytes((int64_t)rate, r, sizeof r);
    if (total > 0)
        log_info("%s: %s of %s (%d%%), %s/s, %s left", t->o->label, a,
                 get_format_bytes(total, b, sizeof b),
                 (int)(100.0 * (double)done / (double)total), r,
                 format_duration(rate > 0 ? (double)(total - done) / rate : 0, eta,
                                 sizeof eta));
    else
        log_info("%s: %s, %s/s", t->o->label, a, r);
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    Transfer *t = user;
    (void)ultotal;
    (void)ulnow;

    /* Returning non-zero makes libcurl stop with CURLE_ABORTED_BY_CALLBACK;
     * libcurl calls this at least once a second, even while stalled. */
    if (get_interrupt_pending())
        return 1;

    /* Our own stall clock: libcurl's low-speed limit averages the rate over
     * several seconds, so it fires well after the time-out asked for. */
    double now = now_s();
    if ((int64_t)dlnow != t->seen) {
        t->seen = (int64_t)dlnow;
        t->t_data = now;
    } else if (now - t->t_data >= (double)t->o->timeout_s) {
        t->stalled = 1;
        return 1;
    }
    if (t->discard || t->o->progress == GET_PROGRESS_NONE)
        return 0;

    double every = t->o->progress == GET_PROGRESS_BAR ? BAR_REDRAW_S
                                                                     : LINE_EVERY_S;
    if (now - t->t_shown < every)
        return 0;
    t->t_shown = now;
    double rate = now > t->t_start ? (double)dlnow / (now - t->t_start) : 0;
    int64_t done = t->offset + dlnow, total = dltotal > 0 ? t->offset + dltotal : 0;
    if (t->o->progress == GET_PROGRESS_BAR)
        show_bar(t, done, total, rate);
    else
        show_line(t, done, total, rate);
    return 0;
}

static void clear_bar(Transfer *t) {
    if (t->bar_on)
        fputs("\r\033[K", stderr);
    t->bar_on = 0;
}

static CURLcode attempt(Transfer *t, const char *url, char *errbuf) {
    CURL *c = t->curl;
    curl_easy_reset(c);
    errbuf[0] = '\0';
    t->got = 0;
    t->range_total = -1;
    t->status_seen = t->discard = 0;
    t->write_errno = 0;
    t->stalled = 0;
    t->seen = 0;
    t->t_start = t->t_data = now_s();
    /* The first plain line comes after LINE_EVERY_S; a bar at once. */
    t->t_shown = t->o->progress == GET_PROGRESS_BAR ? 0 : t->t_start;

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "noisette/" NOISETTE_VERSION);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    /* Signals are ours (interrupt.h); libcurl must not use SIGALRM. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->o->timeout_s);
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->offset);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    return curl_easy_perform(c);
}

/* Causes that may pass on their own: worth a retry after a pause. */
static int is_transient(CURLcode res, long code) {
    switch (res) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    case CURLE_HTTP_RETURNED_ERROR:
        return code >= 500 || code == 408 || code == 429;
    default:
        return 0;
    }
}

/* The cause of a failed attempt, in words a user can act on. */
static void describe(const Transfer *t, CURLcode res, long code, const char *errbuf,
                     const char *part, char *why, size_t cap) {
    switch (res) {
    case CURLE_HTTP_RETURNED_ERROR:
        snprintf(why, cap, "the server answered HTTP %ld%s", code,
                 code == 404 ? " (no such file there: check the name, --url or "
                               "NOISETTE_MIRROR)" : "");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(why, cap, "no data for %ld s (%s)", t->o->timeout_s,
                 t->stalled ? "--timeout" : errbuf[0] ? errbuf : "time-out");
        break;
    case CURLE_PARTIAL_FILE:
        snprintf(why, cap, "the connection closed before the end of the file");
        break;
    case CURLE_WRITE_ERROR:
        snprintf(why, cap, "cannot write %s: %s", part,
                 t->write_errno ? strerror(t->write_errno) : "write failed");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        /* Not retried: offline, waiting out the back-off helps no one. */
        snprintf(why, cap, "%s (no network? --url file:///path/NAME.tgz takes a local "
                 "copy)", errbuf[0] ? errbuf : curl_easy_strerror(res));
        break;
    default:
        snprintf(why, cap, "%s", errbuf[0] ? errbuf : curl_easy_strerror(res));
        break;
    }
}

/* Sleeps s seconds in short naps; 1 if a signal came meanwhile. */
static int pause_unless_interrupted(int s) {
    struct timespec nap = {0, 100 * 1000 * 1000};
    for (int i = 0; i < s * 10; i++) {
        if (get_interrupt_pending())
            return 1;
        nanosleep(&nap, NULL);
    }
    return get_interrupt_pending() != 0;
}

/* Empties the .part for a fresh start (append mode then writes at 0). */
static int start_over(Transfer *t, const char *part) {
    if (fflush(t->fp) != 0 || ftruncate(fileno(t->fp), 0) != 0)
        return err_set_errno(ERR_IO, "%s: cannot empty the partial download", part);
    return ERR_OK;
}

static void log_done(const Transfer *t, double t0, int64_t fetched) {
    char a[32], r[32], d[32];
    double dt = now_s() - t0;
    if (fetched == 0) {
        log_info("%s: the partial download was already complete", t->o->label);
        return;
    }
    log_info("%s: downloaded %s in %s (%s/s)", t->o->label,
             get_format_bytes(fetched, a, sizeof a), format_duration(dt, d, sizeof d),
             get_format_bytes(dt > 0 ? (int64_t)((double)fetched / dt) : fetched, r,
                              sizeof r));
}

/* The attempts, retries and restarts; the file and handle are open. */
static int transfer_loop(Transfer *t, const char *url, const char *part) {
    char errbuf[CURL_ERROR_SIZE], why[CURL_ERROR_SIZE + 256], a[32];
    int retried = 0, restarts = 0;
    int64_t fetched = 0;
    double t0 = now_s();

    for (;;) {
        /* Each attempt asks for what the .part lacks. */
        if (fseeko(t->fp, 0, SEEK_END) != 0 || (t->offset = ftello(t->fp)) < 0)
            return err_set_errno(ERR_IO, "%s: cannot read its length", part);
        if (t->offset > 0 && retried == 0 && restarts == 0 && fetched == 0)
            log_info("%s: resuming after %s", t->o->label,
                     get_format_bytes(t->offset, a, sizeof a));
        CURLcode res = attempt(t, url, errbuf);
        clear_bar(t);
        fetched += t->got;
        if (fflush(t->fp) != 0)
            return err_set_errno(ERR_IO, "%s: write failed", part);
        long code = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);

        if (get_interrupt_pending())
            return err_set(ERR_IO, "%s: interrupted; %s keeps what came and the next run "
                           "resumes it", url, part);

        /* HTTP errors are ours to read (libcurl's --fail stops before the
         * headers that tell whether a 416 means "already complete"). */
        if (res == CURLE_ABORTED_BY_CALLBACK && t->stalled)
            res = CURLE_OPERATION_TIMEDOUT;
        if (res == CURLE_OK && code == 416 && t->offset > 0)
            res = t->range_total == t->offset ? CURLE_OK : CURLE_RANGE_ERROR;
        else if ((res == CURLE_OK || res == CURLE_RANGE_ERROR) && code >= 400)
            res = CURLE_HTTP_RETURNED_ERROR;
        if (res == CURLE_OK) {
            log_done(t, t0, fetched);
            return ERR_OK;
        }

        /* A server without Range support (or a changed file): from byte 0. */
        if (res == CURLE_RANGE_ERROR && t->offset > 0 && restarts < MAX_RESTARTS) {
            restarts++;
            log_info("%s: the server cannot resume at %s; starting over", t->o->label,
                     get_format_bytes(t->offset, a, sizeof a));
            int rc = start_over(t, part);
            if (rc < 0)
                return rc;
            continue;
        }

        describe(t, res, code, errbuf, part, why, sizeof why);
        if (!is_transient(res, code))
            return err_set(ERR_IO, "%s: %s", url, why);
        if (retried >= t->o->retries)
            return err_set(ERR_IO, "%s: %s (%d attempt%s); %s keeps the %s received so far "
                           "and the next run resumes it", url, why, retried + 1,
                           retried ? "s" : "", part,
                           get_format_bytes(t->offset + t->got, a, sizeof a));

        /* Back off: 1, 2, 4 ... s, so a busy server gets room. */
        int wait = GET_BACKOFF_FIRST << (retried < 6 ? retried : 6);
        if (wait > GET_BACKOFF_MAX)
            wait = GET_BACKOFF_MAX;
        retried++;
        log_warn("%s: %s; retry %d of %d in %d s", url, why, retried, t->o->retries, wait);
        if (pause_unless_interrupted(wait))
            return err_set(ERR_IO, "%s: interrupted; %s keeps what came", url, part);
    }
}

int get_download(const char *url, const char *part, const GetDownloadOptions *o) {
    Transfer t;
    memset(&t, 0, sizeof t);
    t.o = o;

    /* Appending keeps what an earlier attempt or run fetched. */
    t.fp = fopen(part, "ab");
    if (!t.fp)
        return err_set_errno(ERR_IO, "%s: cannot open for writing", part);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fclose(t.fp);
        return err_set(ERR_IO, "libcurl failed to start");
    }
    t.curl = curl_easy_init();
    int rc = t.curl ? transfer_loop(&t, url, part) : err_set(ERR_NOMEM, "libcurl: out of memory");

    /* Close and tidy: an empty .part holds nothing worth resuming. */
    if (t.curl)
        curl_easy_cleanup(t.curl);
    curl_global_cleanup();
    int closed = fclose(t.fp);
    if (closed != 0 && rc == ERR_OK)
        rc = err_set_errno(ERR_IO, "%s: write failed", part);
    FILE *check = fopen(part, "rb");
    if (check) {
        int empty = fgetc(check) == EOF;
        fclose(check);
        if (empty && rc < 0)
            unlink(part);
    }
    return rc;
}
