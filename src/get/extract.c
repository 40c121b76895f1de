/* Safe, all-or-nothing unpacking with libarchive; see extract.h. */
#define _XOPEN_SOURCE 700   /* realpath */
#include "get/extract.h"

#include "get/datasets.h"
#include "get/interrupt.h"
#include "util/err.h"
#include "util/log.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXTRACT_PATH_MAX 4096
#define READ_BLOCK (1 << 16)

/* Walks the components of a path, skipping empty ones ("a//b"). */
static const char *next_component(const char *p, size_t *len) {
    while (*p == '/')
        p++;
    const char *end = strchr(p, '/');
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

static int is_dot(const char *c, size_t len) {
    return len == 1 && c[0] == '.';
}

static int is_dotdot(const char *c, size_t len) {
    return len == 2 && c[0] == '.' && c[1] == '.';
}

int get_entry_path_is_safe(const char *path) {
    if (!path || !*path || path[0] == '/')
        return 0;
    size_t len;
    for (const char *c = next_component(path, &len); *c; c = next_component(c + len, &len))
        if (is_dotdot(c, len))
            return 0;
    return 1;
}

int get_link_is_safe(const char *link, const char *target) {
    if (!target || !*target || target[0] == '/')
        return 0;

    /* The link's folder sits this many levels below the archive's root. */
    int depth = -1;
    size_t len;
    for (const char *c = next_component(link, &len); *c; c = next_component(c + len, &len))
        depth += !is_dot(c, len);

    /* Climbing is allowed only first, and only inside the top folder. */
    int up = 0, down = 0;
    for (const char *c = next_component(target, &len); *c; c = next_component(c + len, &len)) {
        if (is_dot(c, len))
            continue;
        if (!is_dotdot(c, len))
            down = 1;
        else if (down)
            return 0;
        else
            up++;
    }
    return up <= (depth > 1 ? depth - 1 : 0);
}

/* Removes path and everything below it, following no link. */
static int remove_at(int parent, const char *name) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(parent, name, 0);

    /* An archive may make a folder read-only; its entries must still go. */
    if ((st.st_mode & 0700) != 0700)
        fchmodat(parent, name, 0700, 0);
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rc |= remove_at(dirfd(d), de->d_name);
    closedir(d);
    return unlinkat(parent, name, AT_REMOVEDIR) | rc;
}

static void remove_tree(const char *path) {
    if (remove_at(AT_FDCWD, path) != 0)
        log_warn("%s: could not remove all of this temporary folder: %s", path,
                 strerror(errno));
}

/* libarchive stops reading at tar's end marker and never checks the gzip
 * trailer, so a flipped bit in a stored (incompressible) block would pass
 * unseen. zlib checks each member's CRC-32 and length while inflating the
 * whole file once. Bytes after the last member that do not start another
 * are ignored, as gzip and libarchive do. A file that is not gzip passes. */
static int check_gzip(const char *archive) {
    FILE *fp = fopen(archive, "rb");
    if (!fp)
        return err_set_errno(ERR_IO, "%s: cannot open", archive);
    if (fgetc(fp) != 0x1f || fgetc(fp) != 0x8b) {
        fclose(fp);
        return ERR_OK;
    }
    rewind(fp);

    unsigned char *in = malloc(2 * READ_BLOCK), *out = in + READ_BLOCK;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!in || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(in);
        fclose(fp);
        return err_set(ERR_NOMEM, "zlib: out of memory");
    }
    int rc = ERR_OK, eof = 0, ended = 0;
    while (rc == ERR_OK) {
        if (get_interrupt_pending()) {
            rc = err_set(ERR_IO, "%s: check interrupted", archive);
            break;
        }
        if (z.avail_in == 0 && !eof) {
            z.next_in = in;
            z.avail_in = (uInt)fread(in, 1, READ_BLOCK, fp);
            eof = z.avail_in == 0;
            if (ferror(fp))
                rc = err_set_errno(ERR_IO, "%s: read failed", archive);
        }
        if (ended && (z.avail_in == 0 || z.next_in[0] != 0x1f))
            break;
        if (ended && inflateReset(&z) != Z_OK)
            rc = err_set(ERR_PARSE, "%s: zlib failed", archive);
        ended = 0;

        z.next_out = out;
        z.avail_out = READ_BLOCK;
        int r = inflate(&z, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            ended = 1;
        else if (r == Z_BUF_ERROR && eof)
            rc = err_set(ERR_PARSE, "%s: damaged or truncated archive: the gzip stream "
                         "ends early", archive);
        else if (r != Z_OK && r != Z_BUF_ERROR)
            rc = err_set(ERR_PARSE, "%s: damaged archive: its gzip check fails (zlib: %s)",
                         archive, z.msg ? z.msg : "data error");
    }
    inflateEnd(&z);
    free(in);
    fclose(fp);
    return rc;
}

static int refuse(const char *archive, const char *entry, const char *why) {
    return err_set(ERR_INVALID, "%s: refusing entry \"%s\": %s", archive, entry, why);
}

/* The checks of extract.h, before anything is written for the entry. */
static int check_entry(const char *archive, struct archive_entry *e) {
    const char *p = archive_entry_pathname(e);
    if (!p)
        return err_set(ERR_PARSE, "%s: damaged archive: an entry without a readable name",
                       archive);
    if (p[0] == '/')
        return refuse(archive, p, "an absolute path");
    if (!get_entry_path_is_safe(p))
        return refuse(archive, p, "a \"..\" in its path leads out of the dataset folder");

    const char *hard = archive_entry_hardlink(e);
    if (hard && !get_entry_path_is_safe(hard))
        return refuse(archive, p, "a hard link to a path outside the dataset folder");
    mode_t type = archive_entry_filetype(e);
    if (!hard && type == AE_IFLNK && !get_link_is_safe(p, archive_entry_symlink(e))) {
        char why[EXTRACT_PATH_MAX + 64];
        const char *to = archive_entry_symlink(e);
        snprintf(why, sizeof why, "a symbolic link to \"%s\", which may lead out of the "
                 "dataset folder", to ? to : "");
        return refuse(archive, p, why);
    }
    if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
        return refuse(archive, p, "not a file, folder or link (a device, FIFO or socket)");
    return ERR_OK;
}

typedef struct {
    struct archive *in, *out;
    const char     *archive;
    char            root[EXTRACT_PATH_MAX];     /* the temporary folder, no links */
    long            files;
    int64_t         bytes;
} Unpack;

/* The entry's paths, moved under the temporary folder. */
static int place_entry(Unpack *u, struct archive_entry *e) {
    char path[EXTRACT_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", u->root, archive_entry_pathname(e));
    if (n < 0 || (size_t)n >= sizeof path)
        return err_set(ERR_INVALID, "%s: entry \"%s\": path too long", u->archive,
                       archive_entry_pathname(e));
    const char *hard = archive_entry_hardlink(e);
    if (hard) {
        char target[EXTRACT_PATH_MAX];
        n = snprintf(target, sizeof target, "%s/%s", u->root, hard);
        if (n < 0 || (size_t)n >= sizeof target)
            return err_set(ERR_INVALID, "%s: entry \"%s\": link path too long", u->archive,
                           archive_entry_pathname(e));
        archive_entry_copy_hardlink(e, target);
    }
    archive_entry_copy_pathname(e, path);
    return ERR_OK;
}

static int copy_data(Unpack *u, const char *entry) {
    const void *buf;
    size_t size;
    la_int64_t offset;
    for (;;) {
        if (get_interrupt_pending())
            return err_set(ERR_IO, "%s: unpacking interrupted", u->archive);
        int r = archive_read_data_block(u->in, &buf, &size, &offset);
        if (r == ARCHIVE_EOF)
            return ERR_OK;
        if (r < ARCHIVE_WARN)
            return err_set(ERR_PARSE, "%s: damaged or truncated archive, in \"%s\": %s",
                           u->archive, entry, archive_error_string(u->in));
        if (archive_write_data_block(u->out, buf, size, offset) < ARCHIVE_WARN)
            return err_set(ERR_IO, "%s: cannot write \"%s\": %s", u->archive, entry,
                           archive_error_string(u->out));
        u->bytes += (int64_t)size;
    }
}

/* One entry: check, place under the root, write header and data. */
static int unpack_entry(Unpack *u, struct archive_entry *e) {
    char entry[EXTRACT_PATH_MAX];
    int rc = check_entry(u->archive, e);
    if (rc < 0)
        return rc;
    snprintf(entry, sizeof entry, "%s", archive_entry_pathname(e));
    if ((rc = place_entry(u, e)) < 0)
        return rc;

    if (archive_write_header(u->out, e) < ARCHIVE_WARN)
        return err_set(ERR_IO, "%s: cannot unpack \"%s\": %s", u->archive, entry,
                       archive_error_string(u->out));
    if (archive_entry_size(e) > 0 && (rc = copy_data(u, entry)) < 0)
        return rc;
    if (archive_write_finish_entry(u->out) < ARCHIVE_WARN)
        return err_set(ERR_IO, "%s: cannot finish \"%s\": %s", u->archive, entry,
                       archive_error_string(u->out));
    u->files += archive_entry_filetype(e) == AE_IFREG;
    return ERR_OK;
}

static int unpack_all(Unpack *u) {
    /* Our checks come first; libarchive's refuse writing through a link,
     * and ".." (absolute paths are ours: every entry is put under root). */
    archive_read_support_filter_all(u->in);
    archive_read_support_format_tar(u->in);
    archive_write_disk_set_options(u->out, ARCHIVE_EXTRACT_TIME |
                                               ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                               ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    if (archive_read_open_filename(u->in, u->archive, READ_BLOCK) != ARCHIVE_OK)
        return err_set(ERR_PARSE, "%s: cannot read as an archive: %s", u->archive,
                       archive_error_string(u->in));

    for (;;) {
        struct archive_entry *e;
        if (get_interrupt_pending())
            return err_set(ERR_IO, "%s: unpacking interrupted", u->archive);
        int r = archive_read_next_header(u->in, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return err_set(ERR_PARSE, "%s: damaged or truncated archive after %ld files: %s",
                           u->archive, u->files, archive_error_string(u->in));
        int rc = unpack_entry(u, e);
        if (rc < 0)
            return rc;
    }

    /* Closing the writer sets the folders' times and modes it deferred. */
    if (archive_write_close(u->out) != ARCHIVE_OK)
        return err_set(ERR_IO, "%s: cannot finish unpacking: %s", u->archive,
                       archive_error_string(u->out));
    return ERR_OK;
}

static int is_real_dir(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder to install: root/name, or the only entry of root. */
static int find_top(const Unpack *u, const char *name, char *top, size_t cap) {
    snprintf(top, cap, "%s/%s", u->root, name);
    if (is_real_dir(top))
        return ERR_OK;

    DIR *d = opendir(u->root);
    if (!d)
        return err_set_errno(ERR_IO, "%s: cannot list", u->root);
    int count = 0;
    char only[NAME_MAX + 1] = "";
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && count++ == 0)
            snprintf(only, sizeof only, "%s", de->d_name);
    closedir(d);

    snprintf(top, cap, "%s/%s", u->root, only);
    if (count == 1 && is_real_dir(top))
        return ERR_OK;
    return err_set(ERR_INVALID, "%s: does not unpack to one folder %s/ (%d top-level "
                   "entries%s%s)", u->archive, name, count, count ? ", e.g. " : "", only);
}

/* Renames the complete folder into place, the old one (if replacing)
 * moved into the temporary folder first so that it goes with it. */
static int install(const Unpack *u, const char *cache, const char *name, int replace) {
    char top[EXTRACT_PATH_MAX + NAME_MAX + 2], sub[sizeof top + 8];
    char dest[EXTRACT_PATH_MAX], old[EXTRACT_PATH_MAX + 16];
    int rc = find_top(u, name, top, sizeof top);
    if (rc < 0)
        return rc;
    static const char *const NEEDED[] = {"train", "val"};
    for (int i = 0; i < 2; i++) {
        snprintf(sub, sizeof sub, "%s/%s", top, NEEDED[i]);
        if (!is_real_dir(sub))
            return err_set(ERR_INVALID, "%s: has no %s/%s/ folder, so it is not a dataset "
                           "(train/ and val/ with class folders)", u->archive,
                           strrchr(top, '/') + 1, NEEDED[i]);
    }

    snprintf(dest, sizeof dest, "%s/%s", cache, name);
    snprintf(old, sizeof old, "%s/.replaced", u->root);
    struct stat st;
    int had = lstat(dest, &st) == 0;
    if (had && !replace)
        return err_set(ERR_EXISTS, "%s: already exists", dest);
    if (had && rename(dest, old) != 0)
        return err_set_errno(ERR_IO, "%s: cannot move the old copy away", dest);
    if (rename(top, dest) != 0) {
        rc = err_set_errno(ERR_IO, "%s: cannot rename the unpacked folder into place", dest);
        if (had)
            rename(old, dest);
        return rc;
    }
    return ERR_OK;
}

int get_extract(const char *archive, const char *cache, const char *name, int replace) {
    Unpack u;
    memset(&u, 0, sizeof u);
    u.archive = archive;

    /* The temporary folder sits in the cache, so the final rename is one
     * atomic step on one file system; libarchive's link checks need its
     * path free of links, hence realpath. */
    char tmp[EXTRACT_PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", cache, name);
    if (n < 0 || (size_t)n >= sizeof tmp - 256)
        return err_set(ERR_IO, "%s: path too long", cache);
    if (!mkdtemp(tmp))
        return err_set_errno(ERR_IO, "%s: cannot create a temporary folder", tmp);
    if (!realpath(tmp, u.root)) {
        int rc = err_set_errno(ERR_IO, "%s: cannot resolve", tmp);
        rmdir(tmp);
        return rc;
    }

    log_info("unpacking %s", archive);
    int rc = check_gzip(archive);
    u.in = archive_read_new();
    u.out = archive_write_disk_new();
    if (rc == ERR_OK)
        rc = u.in && u.out ? unpack_all(&u) : err_set(ERR_NOMEM, "libarchive: out of memory");
    if (u.in)
        archive_read_free(u.in);
    if (u.out)
        archive_write_free(u.out);

    /* The root may have taken an archive entry's mode ("./"); the rename
     * out of it needs write access. */
    if (rc == ERR_OK && chmod(u.root, 0700) != 0)
        rc = err_set_errno(ERR_IO, "%s: cannot make it writable", u.root);
    if (rc == ERR_OK)
        rc = install(&u, cache, name, replace);

    /* Whatever happened, the temporary folder goes. */
    remove_tree(u.root);
    if (rc == ERR_OK) {
        char b[32];
        log_info("unpacked %ld files (%s) into %s/%s", u.files,
                 get_format_bytes(u.bytes, b, sizeof b), cache, name);
    }
    return rc;
}
