/* Whole-file reads and temp-then-rename writes; see fileio.h. */
#include "util/fileio.h"

#include "util/err.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(const char *path, size_t max_bytes, char **data, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set_errno(ERR_IO, "%s: cannot open", path);

    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        return err_set(ERR_NOMEM, "%s: out of memory", path);
    }

    /* Grow geometrically until EOF; refuse files past max_bytes. */
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n > max_bytes) {
            free(buf);
            fclose(fp);
            return err_set(ERR_IO, "%s: larger than the %zu-byte limit", path, max_bytes);
        }
        if (got == 0 || n < cap) {
            if (ferror(fp)) {
                free(buf);
                fclose(fp);
                return err_set_errno(ERR_IO, "%s: read failed", path);
            }
            if (feof(fp))
                break;
        }
        if (n == cap) {
            char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) {
                free(buf);
                fclose(fp);
                return err_set(ERR_NOMEM, "%s: out of memory", path);
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(fp);

    buf[n] = '\0';
    *data = buf;
    *len = n;
    return ERR_OK;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int file_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Temporary names to remove if a signal ends the process. Slots are written
 * only from the main flow and read from the handler; a slot is live while
 * its first byte is non-zero. */
#define ATOMIC_SLOTS 8
static char atomic_live[ATOMIC_SLOTS][ATOMIC_PATH_MAX];

static void atomic_track(const char *tmp) {
    for (int i = 0; i < ATOMIC_SLOTS; i++) {
        if (!atomic_live[i][0]) {
            memcpy(atomic_live[i] + 1, tmp + 1, strlen(tmp));
            atomic_live[i][0] = tmp[0];
            return;
        }
    }
}

static void atomic_untrack(const char *tmp) {
    for (int i = 0; i < ATOMIC_SLOTS; i++)
        if (atomic_live[i][0] && strcmp(atomic_live[i], tmp) == 0)
            atomic_live[i][0] = '\0';
}

static void atomic_on_signal(int sig) {
    for (int i = 0; i < ATOMIC_SLOTS; i++)
        if (atomic_live[i][0])
            unlink(atomic_live[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void atomic_install_signal_cleanup(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = atomic_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int atomic_open(AtomicFile *af, const char *path, int overwrite) {
    memset(af, 0, sizeof *af);
    if (strlen(path) + 16 >= ATOMIC_PATH_MAX)
        return err_set(ERR_IO, "%s: path too long", path);
    if (!overwrite && file_exists(path))
        return err_set(ERR_EXISTS, "%s: already exists (use --force to overwrite)", path);

    /* The temporary file sits in the target's folder so rename is atomic. */
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0)
        return err_set_errno(ERR_IO, "%s: cannot create a temporary file", path);
    /* mkstemp makes the file private; give it the usual umask mode. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    atomic_track(af->tmp);

    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int rc = err_set_errno(ERR_IO, "%s: cannot open a temporary file", path);
        close(fd);
        atomic_untrack(af->tmp);
        unlink(af->tmp);
        return rc;
    }
    return ERR_OK;
}

int atomic_commit(AtomicFile *af) {
    int failed = fflush(af->fp) != 0 || ferror(af->fp) || fsync(fileno(af->fp)) != 0;
    int rc = failed ? err_set_errno(ERR_IO, "%s: write failed", af->path) : ERR_OK;

    if (fclose(af->fp) != 0 && rc == ERR_OK)
        rc = err_set_errno(ERR_IO, "%s: write failed", af->path);
    af->fp = NULL;
    if (rc == ERR_OK && rename(af->tmp, af->path) != 0)
        rc = err_set_errno(ERR_IO, "%s: cannot rename the temporary file into place", af->path);

    if (rc != ERR_OK)
        unlink(af->tmp);
    atomic_untrack(af->tmp);
    return rc;
}

void atomic_abort(AtomicFile *af) {
    if (af->fp)
        fclose(af->fp);
    af->fp = NULL;
    if (af->tmp[0]) {
        unlink(af->tmp);
        atomic_untrack(af->tmp);
    }
}
